import { listBreakers, resetBreakers } from '../../db/brakes';
import { withTenant } from '../../db/pool';
import type { Principal } from '../../domain/access';
import type { Deps } from '../deps';
import { actorOf } from '../auth';
import { notFound } from '../problem';

/** Circuit breakers on automatic remediation: which are open (or were), and resetting them (a person's call). */
export function breakers(deps: Deps, principal: Principal, includeReset: boolean): Promise<Record<string, unknown>[]> {
  return withTenant(deps.pool, principal.tenantId, (c) => listBreakers(c, includeReset));
}

/** Resets the open breakers for `service` (and `runbookId`, if given); answers how many. */
export async function resetOpenBreakers(deps: Deps, principal: Principal, service: string, runbookId: string | undefined): Promise<number> {
  const count = await withTenant(deps.pool, principal.tenantId, (c) => resetBreakers(c, service, runbookId, actorOf(principal)));
  if (count === 0) throw notFound(`an open breaker for ${service}${runbookId ? ` and runbook ${runbookId}` : ''}`);
  return count;
}
