import { randomUUID } from 'node:crypto';
import { insertIncident } from '../../src/db/incidents';
import { type Pool, withTenant } from '../../src/db/pool';
import type { IncidentDraft } from '../../src/domain/incident';

/** An incident row of `tenantId`, written directly (no workflow), for tests of what writes to it. Answers its id. */
export async function insertTestIncident(pool: Pool, tenantId: string, draft: { severity: string; title: string }): Promise<string> {
  const id = randomUUID();
  const full = { source: 'manual', dedupKey: `manual:${id}`, affectedServices: [], labels: {}, context: {}, severityReasons: [], ...draft };
  await withTenant(pool, tenantId, (c) =>
    insertIncident(c, { id, tenantId, workflowId: `wf-${id}`, declaredBy: 'test', draft: full as unknown as IncidentDraft }),
  );
  return id;
}
