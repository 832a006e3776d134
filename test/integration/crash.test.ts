import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';

const ROOT = join(__dirname, '..', '..');

function startWorkerProcess(stack: Stack): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/worker-process.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: stack.config.DATABASE_URL,
      TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS,
      AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE,
      AIRE_LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('worker ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${err}`)));
  });
}

/** Kill -9 the worker mid-runbook: the incident still completes and nothing that completed runs twice. */
describe('worker crash', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    stack = await Stack.start('crash', { worker: false });
    target = await new Receiver().start();
    tenant = await stack.tenant('crash');
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await stack?.stop();
    await target?.stop();
  });

  test('SIGKILL in the middle of a runbook: a new worker finishes it, completed steps are not repeated', async () => {
    const rb = uniqueId('crash');
    const step = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      name: id,
      action: 'http',
      params: { method: 'POST', url: `${target.url}/${rb}/${id}` },
      timeout: '4s',
      retry: { maximumAttempts: 5, initialInterval: '200ms' },
      ...extra,
    });
    await stack.call('POST', '/api/runbooks', tenant.keys.admin, {
      id: rb,
      name: rb,
      triggers: { titlePattern: rb },
      steps: [step('one'), step('two'), step('slow'), step('four')],
    });
    // The third step's target is slow the first time, so the worker dies while it is in flight.
    target.on('POST', `/${rb}/slow`, { delayMs: 2_000 }, {});

    const first = await startWorkerProcess(stack);
    children.push(first);
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: `${rb} incident`, severity: 'medium' });
    expect(res.status).toBe(201);

    await eventually(async () => (target.requests.some((r) => r.path === `/${rb}/slow`) ? true : undefined), 30_000, 20);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    const second = await startWorkerProcess(stack);
    children.push(second);
    const view = await stack.incidentWhen(tenant, res.body.id, (v) => v.incident.status === 'mitigated', 60_000);

    const deliveries = (id: string) => target.requests.filter((r) => r.path === `/${rb}/${id}`).length;
    // Steps that had completed before the crash were not run again.
    expect(deliveries('one')).toBe(1);
    expect(deliveries('two')).toBe(1);
    // The step in flight was retried by the new worker (at least once delivery) and applied once,
    // because its idempotency key is the same on every attempt.
    expect(deliveries('slow')).toBeGreaterThanOrEqual(2);
    expect(new Set(target.requests.filter((r) => r.path === `/${rb}/slow`).map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/two`, `POST /${rb}/slow`, `POST /${rb}/four`]);
    expect(view.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    second.kill('SIGTERM');
  });

  test('SIGKILL between an edit and its audit row: a new worker writes both, once', async () => {
    const worker = await startWorkerProcess(stack);
    children.push(worker);
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: uniqueId('edit-crash'), severity: 'medium' });
    const id = res.body.id;
    await stack.incidentWhen(tenant, id, (v) => v.live !== null && v.actionLog.some((e) => e.kind === 'runbook.none'));

    // Hold the incident's row: the edit's write (audit row and row change, one transaction) waits behind it.
    const holder = await stack.admin.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE', [id]);
    const edit = await stack.call<{ outcome: string }>('PATCH', `/api/incidents/${id}`, tenant.keys.responder, {
      severity: 'high',
      reason: 'more regions',
      rootCause: 'a config push',
    });
    expect([edit.status, edit.body.outcome]).toEqual([200, 'edited']);
    await new Promise((r) => setTimeout(r, 500));
    const meanwhile = await stack.incidentWhen(tenant, id, () => true);
    expect(meanwhile.actionLog.some((e) => e.kind === 'incident.edited')).toBe(false);

    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    await holder.query('ROLLBACK');
    holder.release();
    const second = await startWorkerProcess(stack);
    children.push(second);

    const view = await stack.incidentWhen(tenant, id, (v) => v.actionLog.some((e) => e.kind === 'incident.edited'), 60_000);
    expect(view.actionLog.filter((e) => e.kind === 'incident.edited').map((e) => e.detail)).toEqual([
      { changes: { severity: { from: 'medium', to: 'high' }, rootCause: { from: null, to: 'a config push' } }, reason: 'more regions' },
    ]);
    expect(view.incident).toMatchObject({ severity: 'high', rootCause: 'a config push' });
    second.kill('SIGTERM');
  });
});
