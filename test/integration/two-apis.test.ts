import { createApiKey } from '../../src/db/tenants';
import { Receiver } from '../support/receiver';
import { Spawned, freePort, startApiProcess, stopProcess } from '../support/processes';
import { HttpAnswer, IncidentView, Stack, TestTenant, eventually, uniqueId } from '../support/stack';

/**
 * Two API processes (the real entry point, src/api/main.ts) behind no sticky routing: requests for
 * the same incident land on either, alternately and at the same time, and they behave as one.
 * Nothing that matters lives in an API process: dedup is the workflow id in Temporal, approvals are
 * signals to the workflow, threshold counts are rows in PostgreSQL.
 */
describe('two API processes behave as one', () => {
  let stack: Stack;
  let target: Receiver;
  const apis: (Spawned & { url: string })[] = [];

  beforeAll(async () => {
    stack = await Stack.start('two-apis');
    target = await new Receiver().start();
    const env = {
      DATABASE_URL: stack.config.DATABASE_URL,
      TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS,
      AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE,
    };
    const [a, b] = await Promise.all([freePort(), freePort()]);
    apis.push(...(await Promise.all([startApiProcess(a, env), startApiProcess(b, env)])));
  });
  afterAll(async () => {
    await Promise.all(apis.map((api) => stopProcess(api)));
    await stack?.stop();
    await target?.stop();
  });

  /** The n-th request goes to API n % 2: no two consecutive requests hit the same process. */
  async function call<T = Record<string, unknown>>(n: number, method: string, path: string, key: string, body?: unknown): Promise<HttpAnswer<T>> {
    const res = await fetch(`${apis[n % 2]!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
  }

  async function viewVia(n: number, tenant: TestTenant, id: string, until: (v: IncidentView) => boolean): Promise<IncidentView> {
    return eventually(async () => {
      const res = await call<IncidentView>(n, 'GET', `/api/incidents/${id}`, tenant.keys.viewer);
      return res.status === 200 && until(res.body) ? res.body : undefined;
    }, 60_000);
  }

  async function incidentsOf(tenant: TestTenant): Promise<{ id: string; dedup_key: string }[]> {
    const { rows } = await stack.admin.query<{ id: string; dedup_key: string }>('SELECT id, dedup_key FROM incidents WHERE tenant_id = $1', [tenant.id]);
    return rows;
  }

  test('dedup: the same forecast, and the same dedup key, posted to both at once open one incident', async () => {
    const tenant = await stack.tenant('two-dedup');
    const forecast = { id: uniqueId('fc'), riskType: 'capacity exhaustion', confidence: 45, recommendedAction: 'scale out' };
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, n) => call<{ id: string; created: boolean }>(n, 'POST', '/api/incident/from-forecast', tenant.keys.ingest, forecast)),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(answers.filter((r) => r.body.created)).toHaveLength(1);
    expect(new Set(answers.map((r) => r.body.id)).size).toBe(1);

    const dedupKey = uniqueId('same-key');
    const declared = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        call<{ id: string; created: boolean }>(n, 'POST', '/api/incidents', tenant.keys.ingest, { title: `disk filling ${n}`, severity: 'low', dedupKey }),
      ),
    );
    expect(declared.filter((r) => r.body.created)).toHaveLength(1);
    expect(new Set(declared.map((r) => r.body.id)).size).toBe(1);
    // Every declaration is its own event: all ten are counted on the one incident, read through either API.
    await viewVia(0, tenant, declared[0]!.body.id, (v) => v.incident.occurrences === 10);
    await viewVia(1, tenant, declared[0]!.body.id, (v) => v.incident.occurrences === 10);

    const rows = await incidentsOf(tenant);
    expect(rows.map((r) => r.dedup_key).sort()).toEqual([`forecast:${forecast.id}`, `manual:${dedupKey}`].sort());
  });

  test('approvals: two approvers, each through a different API, release a gate that needs two; a late approve is refused by either', async () => {
    const tenant = await stack.tenant('two-approve');
    expect((await call(0, 'PUT', '/api/settings', tenant.keys.admin, { approval: { requiredApprovalsCritical: 2 } })).status).toBe(200);
    const second = (await createApiKey(stack.admin, tenant.id, 'second-approver', ['approver'])).key;
    const rb = uniqueId('two-gate');
    const created = await call(1, 'POST', '/api/runbooks', tenant.keys.admin, {
      id: rb,
      name: rb,
      triggers: { titlePattern: rb },
      steps: [{ id: 'one', name: 'one', action: 'http', params: { method: 'POST', url: `${target.url}/${rb}/one` } }],
    });
    expect(created.status).toBe(201);

    const opened = await call<{ id: string }>(0, 'POST', '/api/incidents', tenant.keys.ingest, { title: `${rb} down`, severity: 'critical' });
    expect(opened.status).toBe(201);
    const id = opened.body.id;
    await viewVia(1, tenant, id, (v) => v.incident.status === 'awaiting_approval' && v.live?.pendingApproval !== undefined && v.live?.pendingApproval !== null);

    // The same approver through both APIs counts once: the workflow answers, whichever process asks.
    const first = await call<{ outcome: string }>(0, 'POST', `/api/incidents/${id}/approve`, tenant.keys.approver, { reason: 'first, via A' });
    expect([first.status, first.body.outcome]).toEqual([200, 'approval-recorded']);
    const again = await call<{ detail: string }>(1, 'POST', `/api/incidents/${id}/approve`, tenant.keys.approver, { reason: 'first again, via B' });
    expect([again.status, again.body.detail]).toEqual([409, expect.stringContaining('an approver counts once')]);
    const half = await viewVia(0, tenant, id, (v) => v.actionLog.some((e) => e.kind === 'approval.recorded'));
    expect(half.live?.pendingApproval).toMatchObject({ approvals: ['key:approver-key'], required: 2 });
    expect(target.paths(rb)).toEqual([]);

    const last = await call<{ outcome: string }>(1, 'POST', `/api/incidents/${id}/approve`, second, { reason: 'second, via B' });
    expect([last.status, last.body.outcome]).toEqual([200, 'approved']);
    const done = await viewVia(0, tenant, id, (v) => v.incident.status === 'mitigated');
    expect(done.approvals.map((a) => [a.approver, a.decision])).toEqual([
      ['key:approver-key', 'approve'],
      ['key:second-approver', 'approve'],
    ]);
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`]);
    // Nothing waits any more, whichever process is asked.
    expect((await call(0, 'POST', `/api/incidents/${id}/approve`, second, {})).status).toBe(409);
    expect((await call(1, 'POST', `/api/incidents/${id}/approve`, second, {})).status).toBe(409);
  });

  test('thresholds: events for one rule spread over both APIs at once are each counted once; one incident opens at the threshold', async () => {
    const tenant = await stack.tenant('two-rules');
    const rule = await call(0, 'PUT', '/api/rules/brute', tenant.keys.admin, {
      name: 'Authentication brute force',
      match: [{ field: 'action', op: 'equals', value: 'authentication_failed' }],
      threshold: { count: 10, window: '5m' },
      correlateBy: 'actor.ip',
      category: 'authentication_failure',
      severity: 'medium',
      title: 'Brute force from {{event.actor.ip}}',
    });
    expect([rule.status, rule.body]).toEqual([201, expect.objectContaining({ id: 'brute' })]);
    type Outcome = { matches: { count: number; counted: boolean; incident: { id: string; created: boolean } | null }[] };
    const failedLogin = (n: number) => ({ id: `login-${n}`, action: 'authentication_failed', actor: { ip: '10.9.0.1', user: 'bob' } });

    const first = await Promise.all(Array.from({ length: 12 }, (_, n) => call<Outcome>(n, 'POST', '/api/events', tenant.keys.ingest, failedLogin(n))));
    expect(first.map((r) => r.status)).toEqual(Array(12).fill(202));
    expect(first.map((r) => r.body.matches[0]!.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, n) => n + 1));
    // Below the threshold nothing opens; from the 10th on, every event opens or joins the same incident
    // (the 10th, 11th and 12th race to start it: exactly one of them creates it).
    for (const r of first.filter((r) => r.body.matches[0]!.count < 10)) expect(r.body.matches[0]!.incident).toBeNull();
    const atOrAbove = first.filter((r) => r.body.matches[0]!.count >= 10).map((r) => r.body.matches[0]!.incident);
    expect(atOrAbove.filter((i) => i?.created === true)).toHaveLength(1);
    expect(new Set(atOrAbove.map((i) => i?.id)).size).toBe(1);

    // A redelivered event (same id), through the other API, is not counted again.
    const again = await call<Outcome>(1, 'POST', '/api/events', tenant.keys.ingest, failedLogin(0));
    expect(again.body.matches[0]).toMatchObject({ count: 12, counted: false });
    expect(await incidentsOf(tenant)).toHaveLength(1);
  });
});
