/**
 * The workflow's store writes (src/activities/store.ts) may run more than once for one transition:
 * an activity retried after its commit, a step that carried transitions and was retried, a failed
 * step's transitions written again by the workflow. A transition is applied once, whatever repeats
 * it, and repeating an earlier one never turns the incident back. (Found in the PostgreSQL lane:
 * joined events were added per batch, and a repeated batch counted twice: 5,051 of 5,001.)
 *   npx jest -c test/actions/jest.actions.config.js store
 */
import { Client } from 'pg';
import { Transition, createStoreActivities } from '../../src/activities/store';
import { ConfigSchema } from '../../src/config';
import { ensureDatabase, migrate } from '../../src/db/migrate';
import { Pool, createPool } from '../../src/db/pool';
import { ensureTenant } from '../../src/db/tenants';
import { insertTestIncident } from '../support/incidents';

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
  return insertTestIncident(admin, tenantId, { severity: 'low', title: 'store test' });
}

test('a transition written again counts once, and an earlier one repeated late changes nothing', async () => {
  const { recordTransition, recordTransitions } = createStoreActivities({ pool: admin, config });
  const incidentId = await newIncident();
  const at = (seq: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
  const join = (seq: number, count: number, total: number): Transition => ({
    tenantId,
    incidentId,
    seq,
    at: at(seq),
    kind: 'event.joined',
    actor: 'aire',
    incident: { occurrences: { count, total, lastSeenAt: at(seq) } },
    detail: { count },
  });
  const status = (seq: number, to: 'remediating' | 'mitigated'): Transition => ({
    tenantId,
    incidentId,
    seq,
    at: at(seq),
    kind: to === 'remediating' ? 'remediation.started' : 'incident.mitigated',
    actor: 'aire',
    incident: { status: to },
  });
  // The incident's first event counts 1; a batch of 50 joins; the same write again (a retry after its commit).
  await recordTransition(join(1, 50, 51));
  await recordTransition(join(1, 50, 51));
  await recordTransitions([join(2, 7, 58), status(3, 'remediating'), status(4, 'mitigated')]);
  await recordTransitions([join(2, 7, 58), status(3, 'remediating')]); // a failed step's carried transitions, written again

  const { rows } = await admin.query<{ occurrences: number; status: string }>('SELECT occurrences, status FROM incidents WHERE id = $1', [incidentId]);
  expect(rows[0]).toEqual({ occurrences: 58, status: 'mitigated' });
  // The audit trail is append-only: one entry per transition number.
  const { rows: log } = await admin.query<{ event_key: string }>(
    `SELECT event_key FROM action_log WHERE incident_id = $1 AND event_key LIKE 't:%' ORDER BY event_key`,
    [incidentId],
  );
  expect(log.map((r) => r.event_key)).toEqual(['t:1', 't:2', 't:3', 't:4']);
});

test('histories from before the total: the batch is added', async () => {
  const { recordTransition } = createStoreActivities({ pool: admin, config });
  const incidentId = await newIncident();
  const at = new Date().toISOString();
  await recordTransition({ tenantId, incidentId, seq: 1, at, kind: 'event.joined', actor: 'aire', incident: { occurrences: { count: 5, lastSeenAt: at } } });
  const { rows } = await admin.query<{ occurrences: number }>('SELECT occurrences FROM incidents WHERE id = $1', [incidentId]);
  expect(rows[0]!.occurrences).toBe(6);
});
