/**
 * The workflow's store writes (src/activities/store.ts) run as local activities, and a local
 * activity runs again when the workflow task that ran it fails or times out before its result is
 * recorded, on a history with more in it. Seen in the PostgreSQL lane (long-lived.test.ts): after
 * an UnhandledCommand at continue-as-new, a batch of 50 joined events counted twice (5,051 of
 * 5,001). Each event is counted once, whatever the batches.
 *   npx jest -c test/actions/jest.actions.config.js store
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Transition, createStoreActivities } from '../../src/activities/store';
import { ConfigSchema } from '../../src/config';
import { insertIncident } from '../../src/db/incidents';
import { ensureDatabase, migrate } from '../../src/db/migrate';
import { Pool, createPool, withTenant } from '../../src/db/pool';
import { ensureTenant } from '../../src/db/tenants';
import type { IncidentDraft } from '../../src/domain/incident';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/aire_test_store';

let admin: Pool;
let tenantId: string;
const config = ConfigSchema.parse({});

beforeAll(async () => {
  const url = new URL(ADMIN_URL);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  await client.query('DROP DATABASE IF EXISTS aire_test_store WITH (FORCE)').finally(() => client.end());
  await ensureDatabase(ADMIN_URL);
  await migrate(ADMIN_URL);
  admin = createPool(ADMIN_URL, 2);
  tenantId = (await ensureTenant(admin, 'store', 'Store write tests')).id;
});

afterAll(async () => {
  await admin?.end();
});

async function newIncident(): Promise<string> {
  const id = randomUUID();
  const draft = { source: 'manual', dedupKey: `manual:${id}`, severity: 'low', title: 'store test', affectedServices: [], labels: {}, context: {}, severityReasons: [] };
  await withTenant(admin, tenantId, (c) => insertIncident(c, { id, tenantId, workflowId: `wf-${id}`, declaredBy: 'test', draft: draft as unknown as IncidentDraft }));
  return id;
}

test('a transition written again, with more in it (a re-run local activity), counts each event once', async () => {
  const { recordTransition } = createStoreActivities({ pool: admin, config });
  const incidentId = await newIncident();
  const join = (seq: number, count: number, total: number): Transition => ({
    tenantId,
    incidentId,
    seq,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    kind: 'event.joined',
    actor: 'aire',
    incident: { occurrences: { count, total, lastSeenAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString() } },
    detail: { count },
  });
  // The first incident event counts 1. A batch of 50 written; its workflow task fails; the retried
  // task has 30 more events by the time it writes the same transition, then a batch of 7.
  await recordTransition(join(1, 50, 51));
  await recordTransition(join(1, 80, 81));
  await recordTransition(join(2, 7, 88));
  await recordTransition(join(2, 7, 88)); // an activity retried after its commit
  await recordTransition(join(1, 80, 81)); // late: changes nothing

  const { rows } = await admin.query<{ occurrences: number }>('SELECT occurrences FROM incidents WHERE id = $1', [incidentId]);
  expect(rows[0].occurrences).toBe(88);
  // The audit trail is append-only: one entry per transition number, the first write's.
  const { rows: log } = await admin.query<{ event_key: string }>(`SELECT event_key FROM action_log WHERE incident_id = $1 AND event_key LIKE 't:%' ORDER BY event_key`, [incidentId]);
  expect(log.map((r) => r.event_key)).toEqual(['t:1', 't:2']);
});

test('histories from before the total: the batch is added', async () => {
  const { recordTransition } = createStoreActivities({ pool: admin, config });
  const incidentId = await newIncident();
  const at = new Date().toISOString();
  await recordTransition({ tenantId, incidentId, seq: 1, at, kind: 'event.joined', actor: 'aire', incident: { occurrences: { count: 5, lastSeenAt: at } } });
  const { rows } = await admin.query<{ occurrences: number }>('SELECT occurrences FROM incidents WHERE id = $1', [incidentId]);
  expect(rows[0].occurrences).toBe(6);
});
