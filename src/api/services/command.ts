import { apiKeyNamed } from '../../db/tenants';
import { withTenant } from '../../db/pool';
import type { Principal } from '../../domain/access';
import type { RoleChange, RunRunbookMessage } from '../../domain/command';
import type { Deps } from '../deps';
import { HttpProblem } from '../problem';
import { runbookVersion } from './runbooks';
import { readSettings } from './settings';

const badField = (path: string, message: string): HttpProblem => new HttpProblem(400, 'Bad Request', `${path}: ${message}`, [{ path, message }]);

/**
 * Who may hold a role: a person on the tenant's roster (settings `people`), or one of its API keys
 * as `key:<name>`. Anyone else is refused before the workflow hears of it.
 */
export async function checkPerson(deps: Deps, principal: Principal, change: RoleChange): Promise<void> {
  if (change.unassign) return; // taking a role away names whoever holds it, known or not
  const key = change.person.startsWith('key:') ? change.person.slice(4) : undefined;
  if (key !== undefined) {
    if (await withTenant(deps.pool, principal.tenantId, (c) => apiKeyNamed(c, key))) return;
    throw badField('person', `no API key named "${key}" in this tenant`);
  }
  const { people } = await readSettings(deps, principal);
  if (people.some((p) => p.name === change.person)) return;
  throw badField(
    'person',
    `"${change.person}" is not on the tenant's roster (settings people${people.length ? `: ${people.map((p) => p.name).join(', ')}` : ', empty'})`,
  );
}

/** The tenant's runbook to run on an incident; another tenant's, or none, is a 400 naming `runbookId`. */
export async function runbookToRun(deps: Deps, principal: Principal, id: string, version?: number): Promise<Omit<RunRunbookMessage, 'actor' | 'incidentId'>> {
  try {
    const found = await runbookVersion(deps, principal, id, version);
    return { runbook: found.runbook, version: found.version };
  } catch (err) {
    if (err instanceof HttpProblem && err.status === 404) throw badField(version ? 'version' : 'runbookId', err.message);
    throw err;
  }
}
