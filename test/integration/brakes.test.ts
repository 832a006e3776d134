import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';

const ROOT = join(__dirname, '..', '..');

/** Brakes on runaway remediation: run limits per service, and circuit breakers only a person resets. */
describe('brakes', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('brakes');
    target = await new Receiver().start();
    tenant = await stack.tenant('brakes');
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  async function declare(rb: string, service: string): Promise<string> {
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, {
      title: `${rb} trouble`,
      severity: 'medium',
      affectedServices: [service],
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  test('past its run limit for a service, a runbook waits for a person instead of looping', async () => {
    const rb = uniqueId('limit');
    await stack.call('POST', '/api/runbooks', tenant.keys.admin, {
      id: rb,
      name: rb,
      triggers: { titlePattern: rb },
      limits: { maxRuns: { count: 2, window: '1h' } },
      steps: [{ id: 'restart', name: 'restart', action: 'http', params: { url: `${target.url}/${rb}/restart` } }],
    });
    for (let i = 0; i < 2; i += 1) {
      const id = await declare(rb, 'checkout');
      await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    }
    const other = await declare(rb, 'search');
    await stack.incidentWhen(tenant, other, (v) => v.incident.status === 'mitigated');

    const third = await declare(rb, 'checkout');
    const waiting = await stack.incidentWhen(tenant, third, (v) => v.incident.status === 'awaiting_approval');
    expect(waiting.live?.pendingApproval?.reasons).toEqual([expect.stringContaining('already ran 2 times on checkout')]);
    expect(target.paths(rb)).toHaveLength(3);
    await stack.call('POST', `/api/incidents/${third}/approve`, tenant.keys.approver, { reason: 'one more time, watching it' });
    await stack.incidentWhen(tenant, third, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toHaveLength(4);
  });

  test('repeated failures open a circuit breaker; only a person resets it', async () => {
    const rb = uniqueId('breaker');
    target.on('POST', `/${rb}/restart`, { status: 500 });
    await stack.call('POST', '/api/runbooks', tenant.keys.admin, {
      id: rb,
      name: rb,
      triggers: { titlePattern: rb },
      limits: { breaker: { failures: 2, window: '1h' } },
      steps: [{ id: 'restart', name: 'restart', action: 'http', retry: { maximumAttempts: 1 }, params: { url: `${target.url}/${rb}/restart` } }],
    });
    for (let i = 0; i < 2; i += 1) {
      const id = await declare(rb, 'payments');
      await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'failed');
    }
    const third = await declare(rb, 'payments');
    const waiting = await stack.incidentWhen(tenant, third, (v) => v.incident.status === 'awaiting_approval');
    expect(waiting.live?.pendingApproval?.reasons).toEqual([expect.stringMatching(/circuit breaker open for runbook "breaker-.*" on payments: 2 failures/)]);
    expect(waiting.actionLog.some((e) => e.kind === 'breaker.opened')).toBe(true);
    const open = await stack.call<{ items: { target: string; runbookId: string }[] }>('GET', '/api/breakers', tenant.keys.viewer);
    expect(open.body.items).toEqual([expect.objectContaining({ target: 'payments', runbookId: rb })]);
    expect(target.requests.filter((r) => r.path === `/${rb}/restart`)).toHaveLength(2);
    await stack.call('POST', `/api/incidents/${third}/reject`, tenant.keys.approver, { reason: 'looking into it by hand' });

    // While it is open, every new incident waits too.
    const fourth = await declare(rb, 'payments');
    await stack.incidentWhen(tenant, fourth, (v) => v.incident.status === 'awaiting_approval');
    await stack.call('POST', `/api/incidents/${fourth}/reject`, tenant.keys.approver, {});

    // A responder may not reset it; an approver can, with the CLI.
    expect((await stack.call('POST', '/api/breakers/reset', tenant.keys.responder, { service: 'payments' })).status).toBe(403);
    const cli = await new Promise<{ code: number | null; stdout: string }>((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'breaker', 'reset', 'payments', '--reason', 'fixed the config'],
        { cwd: ROOT, env: { ...process.env, AIRE_API_URL: stack.baseUrl, AIRE_API_KEY: tenant.keys.approver } },
        (err, stdout) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout }),
      ),
    );
    expect(cli).toMatchObject({ code: 0, stdout: expect.stringContaining('reset 1 breaker(s) for payments') });
    expect((await stack.call<{ items: unknown[] }>('GET', '/api/breakers', tenant.keys.viewer)).body.items).toEqual([]);

    // Reset forgives the failures before it: the next incident runs on its own again.
    target.on('POST', `/${rb}/restart`, { status: 200 });
    const fifth = await declare(rb, 'payments');
    await stack.incidentWhen(tenant, fifth, (v) => v.incident.status === 'mitigated');
  });
});
