import { withTenant } from '../../db/pool';
import { type HitCount, type HitInput, type StoredRule, disableRule, getRule, listRules, putRule, recordHit } from '../../db/rules';
import { getRunbook } from '../../db/runbooks';
import type { Principal } from '../../domain/access';
import type { Rule } from '../../domain/rules';
import { actorOf } from '../auth';
import type { Deps } from '../deps';
import { notFound } from '../problem';

/** Detection rules of the tenant, and the hits POST /api/events counts against their thresholds. */
export function rulesOf(deps: Deps, principal: Principal, options: { enabledOnly?: boolean } = {}): Promise<StoredRule[]> {
  return withTenant(deps.pool, principal.tenantId, (c) => listRules(c, options));
}

export async function ruleNamed(deps: Deps, principal: Principal, id: string): Promise<StoredRule> {
  const found = await withTenant(deps.pool, principal.tenantId, (c) => getRule(c, id));
  if (!found) throw notFound(`rule ${id}`);
  return found;
}

/** Creates or replaces the rule; says whether it was created and whether the runbook it names exists. */
export function saveRule(deps: Deps, principal: Principal, rule: Rule): Promise<{ stored: StoredRule; created: boolean; runbookExists: boolean }> {
  return withTenant(deps.pool, principal.tenantId, async (c) => ({
    ...(await putRule(c, principal.tenantId, rule, actorOf(principal))),
    runbookExists: rule.runbookId === undefined || (await getRunbook(c, rule.runbookId)) !== null,
  }));
}

export async function disableRuleNamed(deps: Deps, principal: Principal, id: string): Promise<StoredRule> {
  const disabled = await withTenant(deps.pool, principal.tenantId, (c) => disableRule(c, id, actorOf(principal)));
  if (!disabled) throw notFound(`rule ${id}`);
  return disabled;
}

/** Counts an event against a rule's threshold window (once per event id). */
export function countHit(deps: Deps, principal: Principal, hit: HitInput): Promise<HitCount> {
  return withTenant(deps.pool, principal.tenantId, (c) => recordHit(c, principal.tenantId, hit));
}
