import { execFile } from 'node:child_process';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { loadRules } from '../../src/cli/admin';
import { createPool } from '../../src/db/pool';
import { aireDataConverter } from '../../src/temporal/payload-codec';
import { Stack, TestTenant, uniqueId } from '../support/stack';

/**
 * Detection rules end to end: real API processes (app instances with their own pools and Temporal
 * connections), the worker, Temporal and PostgreSQL. Counting lives in PostgreSQL, so it survives a
 * restart of the API and is exact with two API instances taking events at once.
 */

interface Match {
  ruleId: string;
  count: number;
  correlation: string | null;
  counted: boolean;
  threshold: { count: number; windowMs: number } | null;
  incident: { id: string; created: boolean } | null;
}
interface Outcome {
  eventId: string;
  format: string;
  evaluated: number;
  matches: Match[];
  reason?: string;
}
interface Answer<T> {
  status: number;
  body: T;
}

/** One more API process: its own pool and Temporal connection, the Stack's task queue (so its worker runs the incidents). */
interface ApiInstance {
  url: string;
  close(): Promise<void>;
}

describe('detection rules', () => {
  let stack: Stack;
  const instances: ApiInstance[] = [];

  beforeAll(async () => {
    stack = await Stack.start('rules');
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close().catch(() => undefined);
    await stack?.stop();
  });

  async function apiInstance(): Promise<ApiInstance> {
    const pool = createPool(stack.config.DATABASE_URL, 5);
    const connection = await Connection.connect({ address: stack.config.TEMPORAL_ADDRESS });
    const app = createApp(
      { pool, temporal: new Client({ connection, dataConverter: aireDataConverter(stack.config.AIRE_PAYLOAD_KEYS) }), config: stack.config },
      pino({ level: 'silent' }),
    );
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    let closed = false;
    const instance: ApiInstance = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      async close() {
        if (closed) return;
        closed = true;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([pool.end(), connection.close()]);
      },
    };
    instances.push(instance);
    return instance;
  }

  async function post<T = Outcome>(baseUrl: string, key: string, body: unknown, contentType = 'application/json'): Promise<Answer<T>> {
    const res = await fetch(`${baseUrl}/api/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  const send = (tenant: TestTenant, event: Record<string, unknown>, baseUrl = stack.baseUrl) => post(baseUrl, tenant.keys.ingest, event);

  async function putRule(tenant: TestTenant, id: string, definition: Record<string, unknown>): Promise<void> {
    const res = await stack.call('PUT', `/api/rules/${id}`, tenant.keys.admin, definition);
    expect([res.status, res.body]).toEqual([201, expect.objectContaining({ id, enabled: true })]);
  }

  const bruteForce = (extra: Record<string, unknown> = {}) => ({
    name: 'Authentication brute force',
    match: [{ field: 'action', op: 'equals', value: 'authentication_failed' }],
    threshold: { count: 10, window: '5m' },
    correlateBy: 'actor.ip',
    category: 'authentication_failure',
    severity: 'medium',
    title: 'Brute force from {{event.actor.ip}}',
    ...extra,
  });
  const failedLogin = (ip: string, extra: Record<string, unknown> = {}) => ({ action: 'authentication_failed', actor: { ip, user: 'bob' }, ...extra });

  async function incidentsOf(tenant: TestTenant, dedupKey?: string): Promise<{ id: string; dedup_key: string }[]> {
    const { rows } = await stack.admin.query<{ id: string; dedup_key: string }>(
      `SELECT id, dedup_key FROM incidents WHERE tenant_id = $1 ${dedupKey ? 'AND dedup_key = $2' : ''} ORDER BY created_at`,
      dedupKey ? [tenant.id, dedupKey] : [tenant.id],
    );
    return rows;
  }

  test('10 failed logins from one IP within the window open one incident (9 do not); another IP counts apart; later hits join it', async () => {
    const tenant = await stack.tenant('rules-bf');
    await putRule(tenant, 'brute', bruteForce());

    for (let n = 1; n <= 9; n++) {
      const res = await send(tenant, failedLogin('10.0.0.1'));
      expect(res.status).toBe(202);
      expect(res.body.matches).toEqual([
        expect.objectContaining({ ruleId: 'brute', count: n, correlation: '10.0.0.1', threshold: { count: 10, windowMs: 300_000 }, incident: null }),
      ]);
    }
    for (let n = 1; n <= 5; n++)
      expect((await send(tenant, failedLogin('10.0.0.2'))).body.matches[0]).toMatchObject({ count: n, correlation: '10.0.0.2', incident: null });
    expect(await incidentsOf(tenant)).toEqual([]);

    const tenth = await send(tenant, failedLogin('10.0.0.1'));
    expect(tenth.body.matches[0]).toMatchObject({ count: 10, incident: { created: true } });
    const id = tenth.body.matches[0]!.incident!.id;

    for (let n = 11; n <= 12; n++) {
      expect((await send(tenant, failedLogin('10.0.0.1'))).body.matches[0]).toMatchObject({ count: n, incident: { id, created: false } });
    }
    // The other IP is still counting on its own.
    expect((await send(tenant, failedLogin('10.0.0.2'))).body.matches[0]).toMatchObject({ count: 6, incident: null });
    expect(await incidentsOf(tenant)).toEqual([{ id, dedup_key: 'rule:brute:10.0.0.1' }]);

    const view = await stack.incidentWhen(tenant, id, (v) => v.incident.occurrences === 3);
    expect(view.incident).toMatchObject({
      title: 'Brute force from 10.0.0.1',
      severity: 'medium',
      category: 'authentication_failure',
      source: 'webhook',
      labels: { rule: 'brute', correlation: '10.0.0.1' },
      context: expect.objectContaining({
        actor: { ip: '10.0.0.1', user: 'bob' },
        detection: expect.objectContaining({ rule: 'brute', count: 10, correlation: '10.0.0.1' }),
      }),
    });
    expect(view.live?.occurrences).toBe(3);

    // Another IP reaching the threshold opens its own incident.
    let last: Answer<Outcome> | undefined;
    for (let n = 7; n <= 10; n++) last = await send(tenant, failedLogin('10.0.0.2'));
    expect(last!.body.matches[0]).toMatchObject({ count: 10, incident: { created: true } });
    expect((await incidentsOf(tenant)).map((i) => i.dedup_key)).toEqual(['rule:brute:10.0.0.1', 'rule:brute:10.0.0.2']);
  });

  test('an event sent again with the same id is counted once', async () => {
    const tenant = await stack.tenant('rules-dup');
    await putRule(tenant, 'brute', bruteForce({ threshold: { count: 3, window: '5m' } }));
    const once = await send(tenant, failedLogin('10.0.1.1', { id: 'login-1' }));
    const again = await send(tenant, failedLogin('10.0.1.1', { id: 'login-1' }));
    expect([once.body.matches[0]!.count, once.body.matches[0]!.counted]).toEqual([1, true]);
    expect([again.body.matches[0]!.count, again.body.matches[0]!.counted]).toEqual([1, false]);
    expect(again.body.eventId).toBe(once.body.eventId);
  });

  test('hits older than the window no longer count', async () => {
    const tenant = await stack.tenant('rules-window');
    await putRule(tenant, 'brute', bruteForce({ threshold: { count: 3, window: '1500ms' } }));
    expect((await send(tenant, failedLogin('10.0.2.1'))).body.matches[0]!.count).toBe(1);
    expect((await send(tenant, failedLogin('10.0.2.1'))).body.matches[0]!.count).toBe(2);
    await new Promise((r) => setTimeout(r, 1_700));
    expect((await send(tenant, failedLogin('10.0.2.1'))).body.matches[0]).toMatchObject({ count: 1, incident: null });
    // The stale hits were pruned.
    const { rows } = await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM rule_hits WHERE tenant_id = $1', [tenant.id]);
    expect(rows[0]!.n).toBe(1);
  });

  test('a threshold window spanning an API restart keeps counting', async () => {
    const tenant = await stack.tenant('rules-restart');
    await putRule(tenant, 'brute', bruteForce({ threshold: { count: 6, window: '5m' } }));

    const before = await apiInstance();
    for (let n = 1; n <= 4; n++) expect((await send(tenant, failedLogin('10.0.3.1'), before.url)).body.matches[0]!.count).toBe(n);
    await before.close();
    await expect(fetch(`${before.url}/healthz`)).rejects.toThrow();

    const after = await apiInstance();
    expect((await send(tenant, failedLogin('10.0.3.1'), after.url)).body.matches[0]).toMatchObject({ count: 5, incident: null });
    const sixth = await send(tenant, failedLogin('10.0.3.1'), after.url);
    expect(sixth.body.matches[0]).toMatchObject({ count: 6, incident: { created: true } });
    expect(await incidentsOf(tenant)).toEqual([{ id: sixth.body.matches[0]!.incident!.id, dedup_key: 'rule:brute:10.0.3.1' }]);
    await after.close();
  });

  test('two API instances taking 20 events at once: every count seen once, exactly one incident at 20', async () => {
    const tenant = await stack.tenant('rules-replicas');
    await putRule(tenant, 'brute', bruteForce({ threshold: { count: 20, window: '5m' } }));
    const [a, b] = await Promise.all([apiInstance(), apiInstance()]);

    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => send(tenant, failedLogin('10.0.4.1'), n % 2 === 0 ? a.url : b.url)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(202));
    const counts = answers.map((r) => r.body.matches[0]!.count).sort((x, y) => x - y);
    expect(counts).toEqual(Array.from({ length: 20 }, (_, n) => n + 1));
    const opened = answers.filter((r) => r.body.matches[0]!.incident !== null);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.body.matches[0]).toMatchObject({ count: 20, incident: { created: true } });
    expect(await incidentsOf(tenant)).toHaveLength(1);

    // The 21st and 22nd, again on both instances at once, join it.
    const more = await Promise.all([send(tenant, failedLogin('10.0.4.1'), a.url), send(tenant, failedLogin('10.0.4.1'), b.url)]);
    expect(more.map((r) => r.body.matches[0]!.incident)).toEqual([
      { id: opened[0]!.body.matches[0]!.incident!.id, created: false },
      { id: opened[0]!.body.matches[0]!.incident!.id, created: false },
    ]);
    await stack.incidentWhen(tenant, opened[0]!.body.matches[0]!.incident!.id, (v) => v.incident.occurrences === 3);
    expect(await incidentsOf(tenant)).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });

  test('CloudEvents in structured mode are accepted; a missing specversion is refused naming it', async () => {
    const tenant = await stack.tenant('rules-ce');
    await putRule(tenant, 'denied', {
      name: 'Unauthorized access',
      match: [
        { field: 'type', op: 'equals', value: 'com.example.authz.denied' },
        { field: 'data.target.sensitivity', op: 'in', value: ['critical', 'restricted'] },
      ],
      correlateBy: 'actor.id',
      category: 'authorization_failure',
      severity: 'P1',
      title: 'Unauthorized access to {{event.target.id}} by {{event.actor.id}}',
    });
    const event = {
      specversion: '1.0',
      id: uniqueId('ce'),
      source: '/authz/gateway',
      type: 'com.example.authz.denied',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { actor: { id: 'svc-report' }, target: { id: 'payments-db', sensitivity: 'restricted' } },
    };
    const res = await post(stack.baseUrl, tenant.keys.ingest, event, 'application/cloudevents+json');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      format: 'cloudevents',
      matches: [{ ruleId: 'denied', correlation: 'svc-report', count: 1, threshold: null, incident: { created: true } }],
    });
    const view = await stack.incidentWhen(tenant, res.body.matches[0]!.incident!.id, () => true);
    expect(view.incident).toMatchObject({ title: 'Unauthorized access to payments-db by svc-report', severity: 'high', linkedEventId: event.id });

    const { specversion: _omitted, ...withoutVersion } = event;
    const refused = await post<{ errors: { path: string; message: string }[] }>(
      stack.baseUrl,
      tenant.keys.ingest,
      withoutVersion,
      'application/cloudevents+json',
    );
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ path: 'specversion', message: expect.stringContaining('required') }]);
    const noType = await post<{ errors: { path: string }[] }>(stack.baseUrl, tenant.keys.ingest, { ...event, type: undefined }, 'application/cloudevents+json');
    expect(noType.body.errors.map((e) => e.path)).toEqual(['type']);

    // A plain JSON event that no rule matches is accepted and says why nothing happened.
    const quiet = await send(tenant, { action: 'login_succeeded' });
    expect([quiet.status, quiet.body.matches, quiet.body.reason]).toEqual([202, [], 'no enabled rule matched (1 checked)']);
  });

  test('invalid rules are refused with the path of the error, a catastrophic regex included; YAML is accepted', async () => {
    const tenant = await stack.tenant('rules-bad');
    const catastrophic = await stack.call<{ errors: { path: string; message: string }[] }>('PUT', '/api/rules/bad', tenant.keys.admin, {
      name: 'bad',
      category: 'test',
      match: [
        { field: 'action', op: 'equals', value: 'x' },
        { field: 'output', op: 'regex', value: '(a+)+$' },
      ],
    });
    expect(catastrophic.status).toBe(400);
    expect(catastrophic.body.errors).toEqual([{ path: 'match[1].value', message: expect.stringContaining('catastrophic') }]);

    const badOp = await stack.call<{ errors: { path: string }[] }>('PUT', '/api/rules/bad', tenant.keys.admin, {
      name: 'bad',
      category: 'test',
      match: [{ field: 'a', op: 'like', value: 'x' }],
    });
    expect([badOp.status, badOp.body.errors.map((e) => e.path)]).toEqual([400, ['match[0].op']]);
    const otherId = await stack.call<{ errors: { path: string }[] }>('PUT', '/api/rules/bad', tenant.keys.admin, {
      id: 'good',
      name: 'n',
      category: 'c',
      match: [{ field: 'a', op: 'equals', value: 1 }],
    });
    expect([otherId.status, otherId.body.errors.map((e) => e.path)]).toEqual([400, ['id']]);
    expect((await stack.call('GET', '/api/rules/bad', tenant.keys.viewer)).status).toBe(404);

    const yaml = 'name: From YAML\ncategory: test\nmatch:\n  - field: level\n    op: gt\n    value: 3\nchannels: [nowhere]\n';
    const created = await stack.call<{ id: string; warnings: string[] }>('PUT', '/api/rules/from-yaml', tenant.keys.admin, yaml, {
      'content-type': 'application/yaml',
    });
    expect(created.status).toBe(201);
    expect(created.body.warnings).toEqual([expect.stringContaining('no channel "nowhere"')]);
    const replaced = await stack.call('PUT', '/api/rules/from-yaml', tenant.keys.admin, {
      name: 'Replaced',
      category: 'test',
      match: [{ field: 'level', op: 'gt', value: 4 }],
    });
    expect([replaced.status, replaced.body.name]).toEqual([200, 'Replaced']);

    // A slow pattern the static check lets through does not stall intake: it gives up and says so.
    await putRule(tenant, 'sneaky', { name: 'sneaky', category: 'test', match: [{ field: 'output', op: 'regex', value: '(a|aa)+$' }] });
    const started = Date.now();
    const hostile = await send(tenant, { output: `${'a'.repeat(5_000)}!`, level: 1 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(hostile.status).toBe(202);
    expect(hostile.body).toMatchObject({ matches: [], gaveUp: [{ ruleId: 'sneaky', reason: expect.stringContaining('took too long') }] });
  });

  test('rules are per tenant: another tenant neither sees nor triggers them (404, not 403); roles apply', async () => {
    const owner = await stack.tenant('rules-own');
    const other = await stack.tenant('rules-other');
    await putRule(owner, 'secret', {
      name: 'Secret',
      category: 'data_leak',
      match: [{ field: 'output', op: 'regex', value: 'AKIA[0-9A-Z]{16}' }],
      redactMatched: true,
    });

    expect((await stack.call('GET', '/api/rules/secret', other.keys.admin)).status).toBe(404);
    expect((await stack.call('DELETE', '/api/rules/secret', other.keys.admin)).status).toBe(404);
    expect((await stack.call<{ items: unknown[] }>('GET', '/api/rules', other.keys.viewer)).body.items).toEqual([]);
    const elsewhere = await send(other, { output: 'AKIAIOSFODNN7EXAMPLE' });
    expect(elsewhere.body).toMatchObject({ evaluated: 0, matches: [], reason: 'the tenant has no enabled detection rules' });
    const { rows } = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM rules'); // no tenant set: RLS shows nothing
    expect(rows[0]!.n).toBe(0);

    expect((await stack.call('GET', '/api/rules/secret', owner.keys.viewer)).status).toBe(200);
    expect(
      (await stack.call('PUT', '/api/rules/secret', owner.keys.responder, { name: 'x', category: 'x', match: [{ field: 'a', op: 'equals', value: 1 }] }))
        .status,
    ).toBe(403);
    expect((await stack.call('POST', '/api/events', owner.keys.viewer, { output: 'x' })).status).toBe(403);

    // The incident keeps the secret out.
    const hit = await send(owner, { output: 'leaked AKIAIOSFODNN7EXAMPLE in build log', actor: { id: 'ci' } });
    expect(hit).toMatchObject({ status: 202, body: { matches: [{ ruleId: 'secret', incident: { created: true } }] } });
    const view = await stack.incidentWhen(owner, hit.body.matches[0]!.incident!.id, () => true);
    expect(JSON.stringify(view)).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(view.incident.context).toMatchObject({ output: '[REDACTED]' });
  });

  test('DELETE disables a rule and drops its counts; PUT enables it again', async () => {
    const tenant = await stack.tenant('rules-disable');
    await putRule(tenant, 'brute', bruteForce());
    expect((await send(tenant, failedLogin('10.0.5.1'))).body.matches[0]!.count).toBe(1);
    const disabled = await stack.call('DELETE', '/api/rules/brute', tenant.keys.admin);
    expect([disabled.status, disabled.body.enabled]).toEqual([200, false]);
    expect((await stack.call('GET', '/api/rules/brute', tenant.keys.viewer)).body.enabled).toBe(false);
    expect((await send(tenant, failedLogin('10.0.5.1'))).body).toMatchObject({ evaluated: 0, matches: [] });
    const enabled = await stack.call('PUT', '/api/rules/brute', tenant.keys.admin, bruteForce());
    expect([enabled.status, enabled.body.enabled]).toEqual([200, true]);
    expect((await send(tenant, failedLogin('10.0.5.1'))).body.matches[0]!.count).toBe(1);
  });

  test('aire rules apply, list, show and disable against the API', async () => {
    const tenant = await stack.tenant('rules-cli');
    const aire = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'src/cli/main.ts', ...args],
          { cwd: join(__dirname, '..', '..'), env: { ...process.env, AIRE_API_URL: stack.baseUrl, AIRE_API_KEY: tenant.keys.admin }, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });

    const applied = await aire(['rules', 'apply', '-f', 'rules/auth-brute-force.yaml']);
    expect(applied).toMatchObject({ code: 0, stdout: 'rule auth-brute-force: created\n' });
    expect(applied.stderr).toContain('warning: channels: the tenant has no channel "slack_security"');
    const list = await aire(['rules', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+ENABLED\s+SEVERITY/);
    expect(list.stdout).toMatch(/auth-brute-force\s+yes\s+medium\s+authentication_failure\s+10 in 5m per actor\.ip\s+auth-brute-force/);
    const show = await aire(['rules', 'show', 'auth-brute-force']);
    expect(show.stdout).toContain('  - action in ["authentication_failed","login_failed"]');
    const json = await aire(['rules', 'show', 'auth-brute-force', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'auth-brute-force', threshold: { count: 10, window: 300_000 } });
    expect(await aire(['rules', 'disable', 'auth-brute-force'])).toMatchObject({ code: 0, stdout: 'rule auth-brute-force: disabled\n' });
    const missing = await aire(['rules', 'show', 'nope']);
    expect(missing.code).toBe(2);
  });

  test('admin load-rules loads the built-in rules; unchanged files are skipped', async () => {
    const tenant = await stack.tenant('rules-load');
    const lines: string[] = [];
    const log = jest.spyOn(console, 'error').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      await loadRules(stack.config, tenant.slug, 'rules');
      await loadRules(stack.config, tenant.slug, 'rules');
    } finally {
      log.mockRestore();
    }
    expect(lines.filter((l) => l.endsWith('created from auth-brute-force.yaml'))).toHaveLength(1);
    expect(lines.filter((l) => l.endsWith(': unchanged'))).toHaveLength(4);
    const list = await stack.call<{ items: { id: string; enabled: boolean }[] }>('GET', '/api/rules', tenant.keys.viewer);
    expect(list.body.items.map((r) => r.id)).toEqual(['auth-brute-force', 'compliance-violation', 'secret-in-output', 'unauthorized-access']);

    const violation = await send(tenant, { category: 'compliance_event', outcome: 'violation', control: { id: 'SOC2-CC6.1' } });
    expect(violation.body.matches).toEqual([expect.objectContaining({ ruleId: 'compliance-violation', incident: expect.objectContaining({ created: true }) })]);
  });
});
