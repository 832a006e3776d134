import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { Client } from 'pg';
import { z } from 'zod';
import { blockExecutor } from '../../src/activities/actions/block';
import { commandExecutor } from '../../src/activities/actions/command';
import { disableFeatureExecutor } from '../../src/activities/actions/disable-feature';
import { httpExecutor } from '../../src/activities/actions/http';
import { rollbackDeployExecutor } from '../../src/activities/actions/rollback-deploy';
import { ActionContext, ActionExecutor } from '../../src/activities/actions/types';
import { verifyExecutor } from '../../src/activities/actions/verify';
import { waitExecutor } from '../../src/activities/actions/wait';
import { actionPorts, controlsPort } from '../../src/activities/ports';
import { ACTION_TYPES, type ActionSpec, blockSpec, commandSpec, rollbackDeploySpec, verifySpec, waitSpec } from '../../src/domain/actions';
import { Config, ConfigSchema } from '../../src/config';
import { ensureDatabase, migrate } from '../../src/db/migrate';
import { Pool, createPool } from '../../src/db/pool';
import { ensureTenant } from '../../src/db/tenants';
import { Receiver } from '../support/receiver';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/aire_test_actions';
const APP_URL = 'postgres://aire_app@127.0.0.1:5432/aire_test_actions';

const ECHO = '/bin/echo';
const ALLOWED = [ECHO, '/bin/false', '/bin/ls', '/bin/sleep', '/bin/cat', '/usr/bin/seq', '/usr/bin/printf', '/usr/bin/env'];

const config: Config = ConfigSchema.parse({
  AIRE_COMMAND_ALLOWLIST: ALLOWED.join(','),
  AIRE_SENSITIVE_KEYS: 'session_id',
});

let admin: Pool;
let pool: Pool;
let tenantId: string;
let otherTenantId: string;
let target: Receiver;

async function recreateDatabase(): Promise<void> {
  const url = new URL(ADMIN_URL);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query('DROP DATABASE IF EXISTS aire_test_actions WITH (FORCE)');
  } finally {
    await client.end();
  }
  await ensureDatabase(ADMIN_URL);
  await migrate(ADMIN_URL);
}

beforeAll(async () => {
  await recreateDatabase();
  admin = createPool(ADMIN_URL, 2);
  tenantId = (await ensureTenant(admin, 'actions', 'Action tests')).id;
  otherTenantId = (await ensureTenant(admin, 'other', 'Another tenant')).id;
  pool = createPool(APP_URL, 4);
  target = await new Receiver().start();
});

afterAll(async () => {
  await target?.stop();
  await pool?.end();
  await admin?.end();
});

afterEach(() => {
  jest.restoreAllMocks();
});

/** A fresh activity environment (a cancelled one stays cancelled); failures are the tests' business, not log lines. */
function mockEnv(): MockActivityEnvironment {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
}

interface TestContext extends ActionContext {
  memory: Map<string, unknown>;
}

/** What steps.ts builds for a step, with `remember` kept in memory (one map per step). */
function context(overrides: Partial<ActionContext> = {}): TestContext {
  const incidentId = randomUUID();
  const stepId = `step-${randomUUID().slice(0, 8)}`;
  const memory = new Map<string, unknown>();
  return {
    tenantId,
    incidentId,
    stepId,
    incident: { id: incidentId, title: 'Checkout is down', severity: 'high', source: 'manual' },
    idempotencyKey: `aire:${incidentId}:${stepId}`,
    ...actionPorts({ pool, config }, tenantId),
    memory,
    async remember<T>(key: string, produce: () => Promise<T>): Promise<T> {
      if (memory.has(key)) return memory.get(key) as T;
      const value = await produce();
      memory.set(key, value);
      return value;
    },
    ...overrides,
  };
}

type Params<S extends ActionSpec> = z.output<S['params']>;
type Output<S extends ActionSpec> = z.output<S['output']>;

/**
 * Parses the parameters as steps.ts does, then runs `execute` as a real activity; what it answers
 * must be exactly what the catalogue's `output` schema describes (nothing stripped, nothing refused).
 */
async function execute<S extends ActionSpec>(
  executor: ActionExecutor<S>,
  ctx: ActionContext,
  raw: unknown,
  env: MockActivityEnvironment = mockEnv(),
): Promise<Output<S>> {
  const params = executor.spec.params.parse(raw) as Params<S>;
  const output: Output<S> = await env.run(() => executor.execute(ctx, params));
  expect(executor.spec.output.parse(output)).toEqual(output);
  return output;
}

/** Runs `compensate` as a real activity. */
function compensate<S extends ActionSpec>(executor: ActionExecutor<S>, ctx: ActionContext, raw: unknown, output: Output<S>): Promise<unknown> {
  const params = executor.spec.params.parse(raw) as Params<S>;
  const undo = executor.compensate;
  if (!undo) throw new Error(`${executor.spec.type} has no compensate`);
  return mockEnv().run(() => undo(ctx, params, output));
}

/** The failure `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`, { cause: err });
  }
  throw new Error('expected a failure, but it succeeded');
}

function expectNonRetryable(err: Error, type: string): void {
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as ApplicationFailure).type).toBe(type);
}

/** A retryable failure: a plain Error, which Temporal retries under the step's retry policy. */
function expectRetryable(err: Error): void {
  expect(err).not.toBeInstanceOf(ApplicationFailure);
  expect(err).not.toBeInstanceOf(CancelledFailure);
}

function requestsTo(method: string, path: string): Array<{ body: unknown; headers: Record<string, unknown> }> {
  return target.requests.filter((r) => r.method === method && r.path === path).map((r) => ({ body: r.body, headers: r.headers }));
}

async function controlRow(kind: string, key: string, tenant = tenantId): Promise<{ active: boolean; reason: string | null; incident_id: string } | undefined> {
  const { rows } = await admin.query<{ active: boolean; reason: string | null; incident_id: string }>(
    'SELECT active, reason, incident_id FROM controls WHERE tenant_id = $1 AND kind = $2 AND key = $3',
    [tenant, kind, key],
  );
  return rows[0];
}

test('the catalogue lists the new actions', () => {
  expect(ACTION_TYPES).toEqual(expect.arrayContaining(['block', 'verify', 'wait', 'command', 'rollback_deploy', 'disable_feature']));
  expect(verifyExecutor.compensate).toBeUndefined();
  expect(waitExecutor.compensate).toBeUndefined();
  expect(typeof blockExecutor.compensate).toBe('function');
  expect(typeof commandExecutor.compensate).toBe('function');
  expect(typeof rollbackDeployExecutor.compensate).toBe('function');
  expect([verifySpec, waitSpec, blockSpec, commandSpec, rollbackDeploySpec].map((spec) => spec.compensable)).toEqual([false, false, true, true, true]);
});

describe('block', () => {
  test('blocks a target in PostgreSQL, pushes it, and compensation unblocks it', async () => {
    const ctx = context();
    const ip = '203.0.113.7';
    const params = { target: ip, reason: 'credential stuffing', pushUrl: `${target.url}/blocks` };
    const output = await execute(blockExecutor, ctx, params);
    expect(output).toEqual({ target: ip, blocked: true, previous: { existed: false, active: false } });
    expect(await controlRow('block', ip)).toEqual({ active: true, reason: 'credential stuffing', incident_id: ctx.incidentId });
    // Served per tenant: the application role sees it for this tenant only.
    expect(await ctx.controls.read('block', ip)).toEqual({ existed: true, active: true });
    expect(await controlsPort(pool, otherTenantId).read('block', ip)).toEqual({ existed: false, active: false });

    const undone = await compensate(blockExecutor, ctx, params, output);
    expect(undone).toEqual({ target: ip, blocked: false });
    expect(await controlRow('block', ip)).toMatchObject({ active: false, reason: null });

    const pushes = requestsTo('POST', '/blocks');
    expect(pushes.map((p) => p.body)).toEqual([
      { target: ip, blocked: true, incidentId: ctx.incidentId },
      { target: ip, blocked: false, incidentId: ctx.incidentId },
    ]);
    expect(pushes.map((p) => p.headers['idempotency-key'])).toEqual([ctx.idempotencyKey, `${ctx.idempotencyKey}:compensate`]);
  });

  test('compensation leaves a target blocked that was blocked before the step', async () => {
    const earlier = context();
    await execute(blockExecutor, earlier, { target: 'user:42', reason: 'abuse report' });
    const ctx = context();
    const output = await execute(blockExecutor, ctx, { target: 'user:42' });
    expect(output.previous).toEqual({ existed: true, active: true });
    expect(await controlRow('block', 'user:42')).toMatchObject({ active: true, reason: `incident ${ctx.incidentId}` });
    await compensate(blockExecutor, ctx, { target: 'user:42' }, output);
    expect(await controlRow('block', 'user:42')).toMatchObject({ active: true, reason: 'restored by rollback' });
  });

  test('a retry remembers the state from before the first attempt', async () => {
    const ctx = context();
    const first = await execute(blockExecutor, ctx, { target: '198.51.100.0/24' });
    const retry = await execute(blockExecutor, ctx, { target: '198.51.100.0/24' });
    expect(retry.previous).toEqual({ existed: false, active: false });
    await compensate(blockExecutor, ctx, { target: '198.51.100.0/24' }, retry);
    expect(first.previous).toEqual(retry.previous);
    expect(await controlRow('block', '198.51.100.0/24')).toMatchObject({ active: false });
  });

  test('disable_feature, now on the shared switch code, behaves as before and apart from blocks', async () => {
    const ctx = context();
    const params = { flag: 'checkout.v2', pushUrl: `${target.url}/flags` };
    const output = await execute(disableFeatureExecutor, ctx, params);
    expect(output).toEqual({ flag: 'checkout.v2', disabled: true, previous: { existed: false, active: false } });
    expect(await controlRow('feature', 'checkout.v2')).toEqual({ active: true, reason: `incident ${ctx.incidentId}`, incident_id: ctx.incidentId });
    expect(await controlRow('block', 'checkout.v2')).toBeUndefined();
    expect(await compensate(disableFeatureExecutor, ctx, params, output)).toEqual({ flag: 'checkout.v2', enabled: true });
    expect(await controlRow('feature', 'checkout.v2')).toMatchObject({ active: false, reason: null });
    expect(requestsTo('POST', '/flags').map((p) => p.body)).toEqual([
      { flag: 'checkout.v2', enabled: false, incidentId: ctx.incidentId },
      { flag: 'checkout.v2', enabled: true, incidentId: ctx.incidentId },
    ]);
  });

  test('rejects targets that are not plain identifiers, and push URLs off the egress allowlist', async () => {
    expect(blockSpec.params.safeParse({ target: "1.2.3.4'; DROP TABLE controls; --" }).success).toBe(false);
    expect(blockSpec.params.safeParse({ target: '1.2.3.4', extra: true }).success).toBe(false);
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    const ctx = context();
    const err = await failure(execute(blockExecutor, ctx, { target: '192.0.2.9', pushUrl: 'http://169.254.169.254/latest/meta-data' }));
    expectNonRetryable(err, 'EgressDenied');
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe('verify', () => {
  test('polls until the endpoint answers 2xx, heartbeating meanwhile', async () => {
    target.on('GET', '/health-a', { status: 503 }, { status: 500 }, { status: 200, body: { status: 'ok' } });
    const env = mockEnv();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const output = await execute(verifyExecutor, context(), { url: `${target.url}/health-a`, interval: '50ms', timeout: '5s' }, env);
    expect(output).toMatchObject({ healthy: true, status: 200, checks: 3 });
    expect(requestsTo('GET', '/health-a')).toHaveLength(3);
    expect(beats.length).toBeGreaterThanOrEqual(3);
  });

  test('with expect, waits for the JSON field to hold the value', async () => {
    target.on(
      'GET',
      '/health-b',
      { status: 200, body: { checks: { db: { status: 'starting' } } } },
      { status: 200, body: { checks: { db: { status: 'ok' } } } },
    );
    const output = await execute(verifyExecutor, context(), {
      url: `${target.url}/health-b`,
      interval: 30,
      timeout: '5s',
      expect: { path: 'checks.db.status', equals: 'ok' },
    });
    expect(output).toMatchObject({ healthy: true, checks: 2 });
  });

  test('gives up after the timeout with a retryable error that says why', async () => {
    target.on('GET', '/health-c', { status: 503, body: { status: 'down' } });
    const started = Date.now();
    const err = await failure(execute(verifyExecutor, context(), { url: `${target.url}/health-c`, interval: '50ms', timeout: '300ms' }));
    expectRetryable(err);
    expect(err.message).toMatch(/health-c was not healthy within 300 ms \(\d+ checks\); last: .*answered 503/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  test('a wrong value for the expected field is reported', async () => {
    target.on('GET', '/health-d', { status: 200, body: { status: 'degraded' } });
    const err = await failure(
      execute(verifyExecutor, context(), { url: `${target.url}/health-d`, interval: '50ms', timeout: '200ms', expect: { path: 'status', equals: 'ok' } }),
    );
    expectRetryable(err);
    expect(err.message).toContain('status = "degraded", expected "ok"');
  });

  test('is cancellable while polling', async () => {
    target.on('GET', '/health-e', { status: 503 });
    const env = mockEnv();
    const run = execute(verifyExecutor, context(), { url: `${target.url}/health-e`, interval: '10s', timeout: '1m' }, env);
    setTimeout(() => env.cancel(), 150);
    const err = await failure(run);
    expect(err).toBeInstanceOf(CancelledFailure);
  });

  test('refuses hosts off the egress allowlist without connecting', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'https://example.com/health', 'http://127.0.0.1.nip.io/health']) {
      const err = await failure(execute(verifyExecutor, context(), { url, interval: '10ms', timeout: '1s' }));
      expectNonRetryable(err, 'EgressDenied');
      expect(err.message).toContain('not on the egress allowlist');
    }
    const viaHttp = await failure(execute(httpExecutor, context(), { method: 'GET', url: 'http://169.254.169.254/latest/meta-data/iam' }));
    expectNonRetryable(viaHttp, 'EgressDenied');
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  test('rejects bad durations and unknown parameters', () => {
    expect(verifySpec.params.safeParse({ url: `${target.url}/h`, interval: 'soon' }).success).toBe(false);
    expect(verifySpec.params.safeParse({ url: `${target.url}/h`, retries: 3 }).success).toBe(false);
    expect(verifySpec.params.parse({ url: `${target.url}/h`, timeout: '2m' })).toMatchObject({ interval: 5_000, timeout: 120_000 });
  });
});

describe('wait', () => {
  test('waits for the duration', async () => {
    const env = mockEnv();
    let beats = 0;
    env.on('heartbeat', () => (beats += 1));
    const started = Date.now();
    const output = await execute(waitExecutor, context(), { duration: '250ms' }, env);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(output.waitedMs).toBeGreaterThanOrEqual(240);
    expect(beats).toBeGreaterThanOrEqual(1);
  });

  test('is cut short by cancellation', async () => {
    const env = mockEnv();
    const started = Date.now();
    const run = execute(waitExecutor, context(), { duration: '1h' }, env);
    setTimeout(() => env.cancel(), 100);
    const err = await failure(run);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('rejects what is not a duration', () => {
    expect(waitSpec.params.safeParse({ duration: 'a while' }).success).toBe(false);
    expect(waitSpec.params.safeParse({ duration: -5 }).success).toBe(false);
    expect(waitSpec.params.safeParse({}).success).toBe(false);
  });
});

describe('command', () => {
  test('passes shell metacharacters literally: no shell ever sees the arguments', async () => {
    const marker = join(tmpdir(), `aire-pwned-${randomUUID()}`);
    const args = ['a; rm -rf /tmp/x', '$(id)', '`id`', `&& touch ${marker}`, '|', 'cat', '>', marker, '\'quoted\' "double"', '*', '~'];
    const output = await execute(commandExecutor, context(), { command: ECHO, args });
    expect(output).toMatchObject({ command: ECHO, exitCode: 0, stdout: `${args.join(' ')}\n`, stderr: '', stdoutTruncated: false });
    expect(existsSync(marker)).toBe(false);
  });

  test('refuses a command not on the allowlist, without running it', async () => {
    for (const command of ['/bin/sh', '/bin/bash', '/bin/../bin/echo', '/usr/bin/echo']) {
      const err = await failure(execute(commandExecutor, context(), { command, args: ['-c', 'id'] }));
      expectNonRetryable(err, 'CommandDenied');
      expect(err.message).toContain('not on the command allowlist');
    }
    expect(commandSpec.params.safeParse({ command: 'echo', args: [] }).success).toBe(false);
    expect(commandSpec.params.safeParse({ command: ECHO, args: [], cwd: '/' }).success).toBe(false);
  });

  test('with an empty allowlist (the default) refuses every command', async () => {
    const ctx = context(actionPorts({ pool, config: ConfigSchema.parse({}) }, tenantId));
    expect(ctx.commands.allowlist).toEqual([]);
    expectNonRetryable(await failure(execute(commandExecutor, ctx, { command: ECHO, args: ['hi'] })), 'CommandDenied');
    expect(() => ConfigSchema.parse({ AIRE_COMMAND_ALLOWLIST: 'echo' })).toThrow(/absolute path/);
  });

  test('refuses an argument with a NUL byte', async () => {
    const err = await failure(execute(commandExecutor, context(), { command: ECHO, args: ['ok', 'evil\u0000--flag'] }));
    expectNonRetryable(err, 'CommandDenied');
    expect(err.message).toContain('argument 1');
  });

  test('a non-zero exit is a retryable error with the exit code and stderr', async () => {
    const err = await failure(execute(commandExecutor, context(), { command: '/bin/false', args: [] }));
    expectRetryable(err);
    expect(err.message).toMatch(/\/bin\/false exited with code 1/);

    const ls = await failure(execute(commandExecutor, context(), { command: '/bin/ls', args: ['/nonexistent-aire-path'] }));
    expectRetryable(ls);
    expect(ls.message).toMatch(/exited with code 2; stderr: .*No such file or directory/);
  });

  test('is killed after its timeout', async () => {
    const started = Date.now();
    const err = await failure(execute(commandExecutor, context(), { command: '/bin/sleep', args: ['10'], timeout: '200ms' }));
    expectRetryable(err);
    expect(err.message).toContain('timed out after 200 ms');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  test('is killed when the activity is cancelled', async () => {
    const env = mockEnv();
    const started = Date.now();
    const run = execute(commandExecutor, context(), { command: '/bin/sleep', args: ['10'], timeout: '1m' }, env);
    setTimeout(() => env.cancel(), 150);
    expect(await failure(run)).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  test('redacts sensitive values in the captured output', async () => {
    const text = await execute(commandExecutor, context(), {
      command: ECHO,
      args: ['user=bob password=hunter2 session_id=abc123 Authorization: Bearer xyz.789'],
    });
    expect(text.stdout).toBe('user=bob password=[REDACTED] session_id=[REDACTED] Authorization: [REDACTED]\n');

    const flags = await execute(commandExecutor, context(), {
      command: ECHO,
      args: ['--db-password=hunter2', '"client_secret": "c5", "user": "bob"', "x-api-key: 'k 9'", 'session_identifier=kept'],
    });
    expect(flags.stdout).toBe('--db-password=[REDACTED] "client_secret": "[REDACTED]", "user": "bob" x-api-key: \'[REDACTED]\' session_identifier=kept\n');

    const json = await execute(commandExecutor, context(), {
      command: '/usr/bin/printf',
      args: ['{"ok":true,"token":"t0k3n","nested":{"api_key":"k3y","note":"secret=s3cr3t"}}'],
    });
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, token: '[REDACTED]', nested: { api_key: '[REDACTED]', note: 'secret=[REDACTED]' } });
    expect(json.stdout).not.toMatch(/t0k3n|k3y|s3cr3t/);
  });

  test('keeps at most 4 KiB of output', async () => {
    const output = await execute(commandExecutor, context(), { command: '/usr/bin/seq', args: ['1', '20000'] });
    expect(output.stdoutTruncated).toBe(true);
    expect(Buffer.byteLength(output.stdout)).toBe(4_096);
    expect(output.stdout.startsWith('1\n2\n3\n')).toBe(true);
  });

  test('gets no stdin and only a minimal environment', async () => {
    const cat = await execute(commandExecutor, context(), { command: '/bin/cat', args: [], timeout: '5s' });
    expect(cat).toMatchObject({ exitCode: 0, stdout: '' });

    process.env.AIRE_TEST_WORKER_SECRET = 'must-not-leak';
    try {
      const ctx = context();
      const env = await execute(commandExecutor, ctx, { command: '/usr/bin/env', args: [] });
      expect(env.stdout).toContain(`AIRE_IDEMPOTENCY_KEY=${ctx.idempotencyKey}`);
      expect(env.stdout).toContain(`AIRE_INCIDENT_ID=${ctx.incidentId}`);
      expect(env.stdout).not.toContain('must-not-leak');
    } finally {
      delete process.env.AIRE_TEST_WORKER_SECRET;
    }
  });

  test('compensation runs the compensate command; without one there is nothing to undo', async () => {
    const params = { command: ECHO, args: ['scale', 'up'], compensate: { command: ECHO, args: ['scale', 'down'] } };
    const ctx = context();
    const output = await execute(commandExecutor, ctx, params);
    expect(output.stdout).toBe('scale up\n');
    const undone = await compensate(commandExecutor, ctx, params, output);
    expect(undone).toMatchObject({ compensated: true, exitCode: 0, stdout: 'scale down\n' });
    expect(commandSpec.describeCompensation(commandSpec.params.parse(params))).toBe('run "/bin/echo" "scale" "down"');

    const plain = { command: ECHO, args: ['x'] };
    expect(await compensate(commandExecutor, ctx, plain, output)).toEqual({ compensated: false, reason: 'no compensate command configured' });
  });

  test('refuses up front a step whose compensate command is not on the allowlist', async () => {
    const marker = join(tmpdir(), `aire-ran-${randomUUID()}`);
    const err = await failure(
      execute(commandExecutor, context(), { command: '/usr/bin/env', args: ['touch', marker], compensate: { command: '/bin/rm', args: ['-rf', '/'] } }),
    );
    expectNonRetryable(err, 'CommandDenied');
    expect(existsSync(marker)).toBe(false);
  });
});

describe('rollback_deploy', () => {
  interface Release {
    version: string;
    status: string;
    current?: boolean;
  }

  /** A deploy API on the receiver: the current release follows the rollbacks it applied. */
  function deployApi(base: string, releases: Release[]): { rollbacks: () => unknown[] } {
    const rollbacks = (): unknown[] => target.applied.filter((r) => r.method === 'POST' && r.path === `${base}/rollback`).map((r) => r.body);
    target.respond('GET', base, () => {
      const last = rollbacks().at(-1) as { to?: string } | undefined;
      const current = last?.to ?? releases.find((r) => r.current)?.version;
      return { status: 200, body: { releases: releases.map((r) => ({ ...r, current: r.version === current })) } };
    });
    target.respond('GET', `${base}-health`, () => ({ status: rollbacks().length > 0 ? 200 : 503, body: { status: rollbacks().length > 0 ? 'ok' : 'down' } }));
    return { rollbacks };
  }

  const RELEASES: Release[] = [
    { version: 'v1', status: 'good' },
    { version: 'v2', status: 'good' },
    { version: 'v3', status: 'bad' },
    { version: 'v4', status: 'unknown', current: true },
    { version: 'v5', status: 'good' },
  ];

  test('rolls back to the last good release before the current one, checks health, and compensation rolls forward', async () => {
    const api = deployApi('/deploy-a', RELEASES);
    const ctx = context();
    const params = {
      deploymentsUrl: `${target.url}/deploy-a`,
      service: 'checkout',
      healthUrl: `${target.url}/deploy-a-health`,
      health: { interval: '50ms', timeout: '5s', expect: { path: 'status', equals: 'ok' } },
    };
    const output = await execute(rollbackDeployExecutor, ctx, params);
    expect(output).toMatchObject({ from: 'v4', to: 'v2', health: { healthy: true, status: 200 } });
    expect(api.rollbacks()).toEqual([{ service: 'checkout', to: 'v2' }]);

    const undone = await compensate(rollbackDeployExecutor, ctx, params, output);
    expect(undone).toEqual({ rolledForwardTo: 'v4' });
    expect(api.rollbacks()).toEqual([
      { service: 'checkout', to: 'v2' },
      { service: 'checkout', to: 'v4' },
    ]);
    expect(requestsTo('POST', '/deploy-a/rollback').map((r) => r.headers['idempotency-key'])).toEqual([ctx.idempotencyKey, `${ctx.idempotencyKey}:compensate`]);
  });

  test('a retry keeps the release it read first, though the current release has changed since', async () => {
    const api = deployApi('/deploy-b', RELEASES);
    const ctx = context();
    const params = { deploymentsUrl: `${target.url}/deploy-b`, service: 'search' };
    const first = await execute(rollbackDeployExecutor, ctx, params);
    // After the rollback landed the API calls v2 current; reading it again would plan v2 -> v1.
    const retry = await execute(rollbackDeployExecutor, ctx, params);
    expect(first).toEqual({ from: 'v4', to: 'v2' });
    expect(retry).toEqual({ from: 'v4', to: 'v2' });
    expect(requestsTo('GET', '/deploy-b')).toHaveLength(1);
    // The same idempotency key both times: the deploy API applied the rollback once.
    expect(api.rollbacks()).toEqual([{ service: 'search', to: 'v2' }]);
    await compensate(rollbackDeployExecutor, ctx, params, retry);
    expect(api.rollbacks()).toEqual([
      { service: 'search', to: 'v2' },
      { service: 'search', to: 'v4' },
    ]);
  });

  test('with no good release before the current one, fails for good without rolling back', async () => {
    const api = deployApi('/deploy-c', [
      { version: 'v1', status: 'bad' },
      { version: 'v2', status: 'bad', current: true },
      { version: 'v3', status: 'good' },
    ]);
    const err = await failure(execute(rollbackDeployExecutor, context(), { deploymentsUrl: `${target.url}/deploy-c`, service: 'api' }));
    expectNonRetryable(err, 'RejectedByTarget');
    expect(err.message).toContain('no release marked good before the current release v2');
    expect(api.rollbacks()).toEqual([]);

    target.on('GET', '/deploy-d', { status: 200, body: { versions: ['v1'] } });
    expectNonRetryable(
      await failure(execute(rollbackDeployExecutor, context(), { deploymentsUrl: `${target.url}/deploy-d`, service: 'api' })),
      'RejectedByTarget',
    );
  });

  test('an unhealthy service after the rollback is a retryable failure', async () => {
    deployApi('/deploy-e', RELEASES);
    target.respond('GET', '/deploy-e-health', () => ({ status: 503 }));
    const err = await failure(
      execute(rollbackDeployExecutor, context(), {
        deploymentsUrl: `${target.url}/deploy-e`,
        service: 'api',
        healthUrl: `${target.url}/deploy-e-health`,
        health: { interval: '50ms', timeout: '250ms' },
      }),
    );
    expectRetryable(err);
    expect(err.message).toContain('was not healthy within 250 ms');
  });

  test('refuses deploy and health URLs off the egress allowlist without connecting', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    const err = await failure(execute(rollbackDeployExecutor, context(), { deploymentsUrl: 'https://example.com/deployments', service: 'api' }));
    expectNonRetryable(err, 'EgressDenied');
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(rollbackDeploySpec.params.safeParse({ deploymentsUrl: `${target.url}/d`, service: 'api', health: { timeout: '1s' } }).success).toBe(false);
  });
});
