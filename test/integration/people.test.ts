import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';

/** Steps people do (`manual`) and failed steps people decide on (`onFailure: escalate`). */
describe('people in the runbook', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('people');
    target = await new Receiver().start();
    tenant = await stack.tenant('people');
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  const http = (rb: string, id: string, extra: Record<string, unknown> = {}) => ({
    id,
    name: `step ${id}`,
    action: 'http',
    params: { method: 'POST', url: `${target.url}/${rb}/${id}`, compensate: { method: 'POST', url: `${target.url}/${rb}/undo-${id}` } },
    ...extra,
  });

  async function start(rb: string, steps: unknown[]): Promise<string> {
    expect((await stack.call('POST', '/api/runbooks', tenant.keys.admin, { id: rb, name: rb, triggers: { titlePattern: rb }, steps })).status).toBe(201);
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: `${rb} incident`, severity: 'medium' });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  test('a manual step is assigned, waits for a person, and the runbook goes on when they report it done', async () => {
    const rb = uniqueId('manual');
    const id = await start(rb, [
      http(rb, 'one'),
      {
        id: 'drain',
        name: 'Drain the node by hand',
        action: 'manual',
        params: { instructions: 'kubectl drain node-7', assignee: 'team-sre', notifyUrl: `${target.url}/${rb}/pager` },
      },
      http(rb, 'three'),
    ]);
    const waiting = await stack.incidentWhen(
      tenant,
      id,
      (v) => v.steps.find((s) => s.stepId === 'drain')?.status === 'running' && v.live?.pendingManual != null,
    );
    expect(waiting.live).toMatchObject({ pendingManual: { stepId: 'drain' } });
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/pager`]);
    expect(target.applied.find((r) => r.path === `/${rb}/pager`)?.body).toMatchObject({
      type: 'aire.manual_step',
      assignee: 'team-sre',
      instructions: 'kubectl drain node-7',
    });

    expect((await stack.call('POST', `/api/incidents/${id}/steps/one/complete`, tenant.keys.responder, {})).status).toBe(409);
    expect((await stack.call('POST', `/api/incidents/${id}/steps/nope/complete`, tenant.keys.responder, {})).status).toBe(404);
    expect((await stack.call('POST', `/api/incidents/${id}/steps/drain/complete`, tenant.keys.viewer, {})).status).toBe(403);
    const done = await stack.call<{ outcome: string }>('POST', `/api/incidents/${id}/steps/drain/complete`, tenant.keys.responder, {
      note: 'drained, 0 pods left',
    });
    expect([done.status, done.body.outcome]).toEqual([200, 'step-reported']);
    // Reported once: a second report finds nothing waiting for a person.
    expect((await stack.call('POST', `/api/incidents/${id}/steps/drain/complete`, tenant.keys.responder, {})).status).toBe(409);

    const view = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/pager`, `POST /${rb}/three`]);
    expect(view.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['one', 'succeeded'],
      ['drain', 'succeeded'],
      ['three', 'succeeded'],
    ]);
    expect(view.actionLog.find((e) => e.kind === 'step.succeeded' && e.stepId === 'drain')).toMatchObject({
      actor: 'key:responder-key',
      detail: { note: 'drained, 0 pods left' },
    });
  });

  test('escalate: a failed step waits for a person, who retries it; the retry is a new request', async () => {
    const rb = uniqueId('esc-retry');
    target.on('POST', `/${rb}/flaky`, { status: 503 }, { status: 200 });
    const id = await start(rb, [http(rb, 'one'), http(rb, 'flaky', { onFailure: 'escalate', retry: { maximumAttempts: 1 } }), http(rb, 'three')]);

    const waiting = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval' && v.live?.pendingDecision != null);
    expect(waiting.live).toMatchObject({ pendingDecision: { stepId: 'flaky', error: expect.stringMatching(/503/) } });
    expect(waiting.steps.find((s) => s.stepId === 'flaky')?.status).toBe('failed');
    expect((await stack.call('POST', `/api/incidents/${id}/steps/flaky/decision`, tenant.keys.responder, { decision: 'retry' })).status).toBe(403);
    expect((await stack.call('POST', `/api/incidents/${id}/steps/flaky/decision`, tenant.keys.approver, { decision: 'again' })).status).toBe(400);
    expect(
      (await stack.call('POST', `/api/incidents/${id}/steps/flaky/decision`, tenant.keys.approver, { decision: 'retry', reason: 'db is back' })).status,
    ).toBe(200);

    const view = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    const keys = target.requests.filter((r) => r.path === `/${rb}/flaky`).map((r) => r.headers['idempotency-key']);
    expect(keys).toEqual([`aire:${id}:flaky`, `aire:${id}:flaky:r1`]);
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/flaky`, `POST /${rb}/three`]);
    expect(view.actionLog.find((e) => e.kind === 'decision.retry')).toMatchObject({ actor: 'key:approver-key', detail: { reason: 'db is back' } });
  });

  test('escalate: a person can skip the failed step, or abort and have what ran compensated', async () => {
    const skipRb = uniqueId('esc-skip');
    target.on('POST', `/${skipRb}/broken`, { status: 500 });
    const skipId = await start(skipRb, [
      http(skipRb, 'one'),
      http(skipRb, 'broken', { onFailure: 'escalate', retry: { maximumAttempts: 1 } }),
      http(skipRb, 'three'),
    ]);
    await stack.incidentWhen(tenant, skipId, (v) => v.incident.status === 'awaiting_approval' && v.live?.pendingDecision != null);
    expect((await stack.call('POST', `/api/incidents/${skipId}/steps/broken/decision`, tenant.keys.approver, { decision: 'skip' })).status).toBe(200);
    const skipped = await stack.incidentWhen(tenant, skipId, (v) => v.incident.status === 'mitigated');
    expect(skipped.steps.map((s) => s.status)).toEqual(['succeeded', 'skipped', 'succeeded']);

    const abortRb = uniqueId('esc-abort');
    target.on('POST', `/${abortRb}/broken`, { status: 500 });
    const abortId = await start(abortRb, [
      http(abortRb, 'one'),
      http(abortRb, 'broken', { onFailure: 'escalate', retry: { maximumAttempts: 1 } }),
      http(abortRb, 'three'),
    ]);
    await stack.incidentWhen(tenant, abortId, (v) => v.incident.status === 'awaiting_approval' && v.live?.pendingDecision != null);
    expect(
      (await stack.call('POST', `/api/incidents/${abortId}/steps/broken/decision`, tenant.keys.approver, { decision: 'abort', reason: 'give up' })).status,
    ).toBe(200);
    const aborted = await stack.incidentWhen(tenant, abortId, (v) => v.incident.status === 'failed');
    expect(target.paths(abortRb)).toEqual([`POST /${abortRb}/one`, `POST /${abortRb}/undo-one`]);
    expect(aborted.steps.map((s) => s.status)).toEqual(['compensated', 'failed', 'pending']);
  });

  test('an escalate step raises severity and pages the next tier; raised to critical, the next step waits for a human', async () => {
    const rb = uniqueId('escalate');
    const id = await start(rb, [
      http(rb, 'one'),
      {
        id: 'raise',
        name: 'Escalate to the incident commander',
        action: 'escalate',
        params: { severity: 'critical', url: `${target.url}/${rb}/pager`, message: 'still failing' },
      },
      http(rb, 'three'),
    ]);
    const waiting = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval' && v.live?.pendingApproval != null);
    expect(waiting.incident.severity).toBe('critical');
    expect(waiting.live?.pendingApproval).toMatchObject({ stepId: null, reasons: [expect.stringMatching(/escalated to critical/)] });
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/pager`]);
    expect(target.applied.find((r) => r.path === `/${rb}/pager`)?.body).toMatchObject({
      type: 'aire.escalation',
      incident: { severity: 'critical' },
      message: 'still failing',
    });
    expect(waiting.actionLog.find((e) => e.kind === 'incident.escalated')).toMatchObject({ detail: { from: 'medium', to: 'critical' } });

    expect((await stack.call('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, { reason: 'IC approves' })).status).toBe(200);
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/pager`, `POST /${rb}/three`]);
  });
});
