/**
 * The step activities' own bookkeeping (recording a step's start and end in PostgreSQL) rides out a
 * database restart inside the attempt: retried with backoff while the database refuses
 * connections, never failing the attempt, never sending the action twice.
 *   npx jest -c test/actions/jest.actions.config.js steps
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { Client } from 'pg';
import { StepCall, createStepActivities } from '../../src/activities/steps';
import { ConfigSchema } from '../../src/config';
import { ensureDatabase, migrate } from '../../src/db/migrate';
import { Pool, createPool } from '../../src/db/pool';
import { isConnectionError, retryOnConnectionError } from '../../src/db/retry';
import { ensureTenant } from '../../src/db/tenants';
import { insertTestIncident } from '../support/incidents';
import { PgProxy } from '../chaos/support';
import { Receiver } from '../support/receiver';

// A database of this run's own: `npm test` and a developer's run of this file may overlap.
const DATABASE = `aire_test_steps_${process.pid}`;
const ADMIN_URL = `postgres://postgres@127.0.0.1:5432/${DATABASE}`;
const APP_URL = `postgres://aire_app@127.0.0.1:5432/${DATABASE}`;

async function dropDatabase(): Promise<void> {
  const client = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`).finally(() => client.end());
}

let admin: Pool;
let pool: Pool;
let proxy: PgProxy;
let target: Receiver;
let tenantId: string;
const config = ConfigSchema.parse({});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await dropDatabase();
  await ensureDatabase(ADMIN_URL);
  await migrate(ADMIN_URL);
  admin = createPool(ADMIN_URL, 2);
  tenantId = (await ensureTenant(admin, 'steps', 'Step bookkeeping tests')).id;
  proxy = await new PgProxy().start();
  // As the worker's pool: no bounds of its own; the step's timeout is what bounds an attempt.
  pool = createPool(proxy.url(APP_URL), 4);
  target = await new Receiver().start();
});

afterAll(async () => {
  await target?.stop();
  await pool?.end();
  await proxy?.stop();
  await admin?.end();
  await dropDatabase();
});

afterEach(() => proxy?.restore());

const activities = () => createStepActivities({ pool, config });

async function newStep(path: string): Promise<StepCall> {
  const id = await insertTestIncident(admin, tenantId, { severity: 'high', title: 'steps test' });
  return {
    tenantId,
    incidentId: id,
    step: { id: 'one', name: 'one', action: 'http', position: 0 },
    incident: { id, title: 'steps test', severity: 'high', source: 'manual' },
    params: { method: 'POST', url: `${target.url}${path}` },
  };
}

function env(info: Record<string, unknown> = {}): MockActivityEnvironment {
  return new MockActivityEnvironment({ startToCloseTimeoutMs: 30_000, ...info }, { logger: new DefaultLogger('ERROR') });
}

async function trail(incidentId: string): Promise<{ kinds: string[]; status: string | undefined }> {
  const { rows } = await admin.query<{ kind: string }>('SELECT kind FROM action_log WHERE incident_id = $1 ORDER BY id', [incidentId]);
  const { rows: steps } = await admin.query<{ status: string }>('SELECT status FROM incident_steps WHERE incident_id = $1', [incidentId]);
  return { kinds: rows.map((r) => r.kind), status: steps[0]?.status };
}

describe('isConnectionError', () => {
  test('connection failures are; what PostgreSQL refused is not', () => {
    const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    for (const err of [
      coded('ECONNREFUSED'),
      coded('ECONNRESET'),
      coded('57P01', 'terminating connection due to administrator command'),
      coded('57P03', 'the database system is starting up'),
      coded('08006'),
      new Error('Connection terminated unexpectedly'),
      new Error('Query read timeout'),
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')]), { code: undefined }),
    ])
      expect([err.message, isConnectionError(err)]).toEqual([err.message, true]);
    for (const err of [coded('23505', 'duplicate key'), coded('42501', 'permission denied'), new Error('boom'), undefined, 'ECONNRESET'])
      expect(isConnectionError(err)).toBe(false);
  });

  test('retryOnConnectionError retries connection errors only, with backoff', async () => {
    const pauses: number[] = [];
    let n = 0;
    const value = await retryOnConnectionError(
      async () => {
        n += 1;
        if (n < 4) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        return 'done';
      },
      { initialDelayMs: 100, maxDelayMs: 300, sleep: async (ms) => void pauses.push(ms) },
    );
    expect([value, pauses]).toEqual(['done', [100, 200, 300]]);
    await expect(retryOnConnectionError(async () => Promise.reject(new Error('boom')), { sleep: async () => undefined })).rejects.toThrow('boom');
  });
});

describe('step bookkeeping while PostgreSQL restarts', () => {
  test('refused before the step starts: the first attempt waits, then sends once and records it', async () => {
    const call = await newStep('/before');
    proxy.cut('refuse');
    const running = env().run(() => activities()['http.execute']!(call));
    await sleep(2_500);
    expect(target.applied.filter((r) => r.path === '/before')).toEqual([]);
    proxy.restore();
    await running;
    expect(target.applied.filter((r) => r.path === '/before')).toHaveLength(1);
    expect(await trail(call.incidentId)).toEqual({ kinds: ['step.started', 'step.succeeded'], status: 'succeeded' });
  });

  test('reset and refused while the action is in flight: recorded once the database is back, sent once, the attempt does not fail', async () => {
    const call = await newStep('/during');
    target.on('POST', '/during', { delayMs: 1_000 });
    const running = env().run(() => activities()['http.execute']!(call));
    await sleep(500);
    proxy.cut('refuse'); // the server stops: the pool's connections are reset, new ones refused
    await sleep(3_000);
    proxy.restore();
    const output = await running;
    expect(output).toMatchObject({ status: 200 });
    expect(target.applied.filter((r) => r.path === '/during')).toHaveLength(1);
    expect(await trail(call.incidentId)).toEqual({ kinds: ['step.started', 'step.succeeded'], status: 'succeeded' });
  });

  test('an attempt after one that sent the action but could not record it records the answer without sending again', async () => {
    const call = await newStep('/resumed');
    const output = await env({ attempt: 2, heartbeatDetails: { executed: { output: { status: 200, body: 'from attempt 1' } } } }).run(() =>
      activities()['http.execute']!(call),
    );
    expect(output).toEqual({ status: 200, body: 'from attempt 1' });
    expect(target.requests.filter((r) => r.path === '/resumed')).toEqual([]);
    expect(await trail(call.incidentId)).toEqual({ kinds: ['step.started', 'step.succeeded'], status: 'succeeded' });
  });

  test('an attempt Temporal gave up on, reaching the database after a later one, neither records nor sends', async () => {
    const call = await newStep('/stale');
    await env({ attempt: 2 }).run(() => activities()['http.execute']!(call));
    await expect(env({ attempt: 1 }).run(() => activities()['http.execute']!(call))).rejects.toThrow('superseded');
    // Nor after the step has been undone: it stays compensated.
    await env({ attempt: 1 }).run(() =>
      activities()['http.compensate']!({
        ...call,
        params: { method: 'POST', url: `${target.url}/stale`, compensate: { method: 'POST', url: `${target.url}/undo-stale` } },
        output: {},
      }),
    );
    await expect(env({ attempt: 3 }).run(() => activities()['http.execute']!(call))).rejects.toThrow('superseded');
    expect(target.requests.filter((r) => r.path === '/stale')).toHaveLength(1);
    expect(await trail(call.incidentId)).toEqual({ kinds: ['step.started', 'step.succeeded', 'step.compensating', 'step.compensated'], status: 'compensated' });
  });

  test('an attempt after one whose completion was lost (worker killed after recording) runs again', async () => {
    const call = await newStep('/lost');
    await env({ attempt: 1 }).run(() => activities()['http.execute']!(call));
    await env({ attempt: 2 }).run(() => activities()['http.execute']!(call));
    expect(target.applied.filter((r) => r.path === '/lost')).toHaveLength(1);
    expect(await trail(call.incidentId)).toEqual({ kinds: ['step.started', 'step.succeeded', 'step.started'], status: 'succeeded' });
  });

  test('an attempt cancelled (timed out) while waiting for the database sends nothing', async () => {
    const call = await newStep('/cancelled');
    proxy.cut('refuse');
    const e = env();
    const running = e.run(() => activities()['http.execute']!(call));
    await sleep(1_000);
    e.cancel('TIMED_OUT');
    await expect(running).rejects.toThrow();
    proxy.restore();
    await sleep(1_000);
    expect(target.requests.filter((r) => r.path === '/cancelled')).toEqual([]);
  });
});
