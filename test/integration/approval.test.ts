import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';

/** Approval gates: nothing risky or severe runs before a human says so, and every decision is on record. */
describe('approval gates', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('approval');
    target = await new Receiver().start();
    tenant = await stack.tenant('gates');
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  async function setup(rb: string, runbook: Record<string, unknown>): Promise<void> {
    const res = await stack.call('POST', '/api/runbooks', tenant.keys.admin, { id: rb, name: rb, triggers: { titlePattern: rb }, ...runbook });
    expect(res.status).toBe(201);
  }

  const step = (rb: string, id: string, extra: Record<string, unknown> = {}) => ({
    id,
    name: `step ${id}`,
    action: 'http',
    params: { method: 'POST', url: `${target.url}/${rb}/${id}` },
    ...extra,
  });

  async function declare(rb: string, severity: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: `${rb} incident`, severity, ...extra });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  test('a gated step waits for approve; the approval is recorded with approver and reason', async () => {
    const rb = uniqueId('gate');
    await setup(rb, { steps: [step(rb, 'one'), step(rb, 'two', { requiresApproval: true }), step(rb, 'three')] });
    const id = await declare(rb, 'medium');

    const waiting = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`]);
    expect(waiting.steps.find((s) => s.stepId === 'two')?.status).toBe('awaiting_approval');
    expect(waiting.live?.pendingApproval?.stepId).toBe('two');

    // Wrong role and wrong step are refused; the viewer cannot approve.
    expect((await stack.call('POST', `/api/incidents/${id}/approve`, tenant.keys.viewer, {})).status).toBe(403);
    // A decision naming a step that is not waiting is refused by the workflow, which says which gate waits.
    const wrongStep = await stack.call<{ detail: string }>('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, { stepId: 'three' });
    expect([wrongStep.status, wrongStep.body.detail]).toEqual([409, 'the pending gate is step "two"']);
    const res = await stack.call<{ outcome: string; state: { pendingApproval: { approvals: string[] } } }>(
      'POST',
      `/api/incidents/${id}/approve`,
      tenant.keys.approver,
      {
        reason: 'change window open',
        stepId: 'two',
      },
    );
    expect([res.status, res.body.outcome, res.body.state.pendingApproval.approvals]).toEqual([200, 'approved', ['key:approver-key']]);

    const done = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/two`, `POST /${rb}/three`]);
    expect(done.approvals).toEqual([
      { stepId: 'two', decision: 'approve', approver: 'key:approver-key', reason: 'change window open', at: expect.any(String) },
    ]);
    expect(done.actionLog.find((e) => e.kind === 'approval.granted')).toMatchObject({ actor: 'key:approver-key', stepId: 'two' });

    // Nothing is waiting any more: a late approve is a conflict, not a silent success.
    expect((await stack.call('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, {})).status).toBe(409);
  });

  test('a rejected step with onReject abort compensates what ran and records who rejected it and why', async () => {
    const rb = uniqueId('reject');
    await setup(rb, {
      steps: [
        step(rb, 'one', { params: { method: 'POST', url: `${target.url}/${rb}/one`, compensate: { method: 'POST', url: `${target.url}/${rb}/undo-one` } } }),
        step(rb, 'two', { risk: 'high' }),
      ],
    });
    const id = await declare(rb, 'low');
    const waiting = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval');
    expect(waiting.steps.find((s) => s.stepId === 'two')?.status).toBe('awaiting_approval');

    const res = await stack.call<{ outcome: string }>('POST', `/api/incidents/${id}/reject`, tenant.keys.approver, { reason: 'too risky at peak' });
    expect([res.status, res.body.outcome]).toEqual([200, 'rejected']);
    const done = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'failed');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/undo-one`]);
    expect(done.approvals).toEqual([{ stepId: 'two', decision: 'reject', approver: 'key:approver-key', reason: 'too risky at peak', at: expect.any(String) }]);
    expect(done.actionLog.find((e) => e.kind === 'approval.rejected')).toMatchObject({ actor: 'key:approver-key', detail: { reason: 'too risky at peak' } });
  });

  test('a rejected step with onReject skip is skipped and the runbook goes on', async () => {
    const rb = uniqueId('skip');
    await setup(rb, { steps: [step(rb, 'one', { estimatedCost: 500, onReject: 'skip' }), step(rb, 'two')] });
    const id = await declare(rb, 'low');
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval');
    await stack.call('POST', `/api/incidents/${id}/reject`, tenant.keys.approver, { reason: 'too expensive' });
    const done = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/two`]);
    expect(done.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['one', 'skipped'],
      ['two', 'succeeded'],
    ]);
  });

  test('a critical incident waits for approval even when its runbook says requiresApproval: false', async () => {
    const rb = uniqueId('crit');
    await setup(rb, { requiresApproval: false, steps: [step(rb, 'one'), step(rb, 'two')] });
    const id = await declare(rb, 'critical', { requireApproval: false });

    const waiting = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval');
    expect(waiting.live?.pendingApproval).toMatchObject({ stepId: null, reasons: expect.arrayContaining(['critical incidents always need a human approval']) });
    // Give a runaway workflow every chance to act: nothing may reach the target before approval.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(target.requests.filter((r) => r.path.startsWith(`/${rb}/`))).toHaveLength(0);

    await stack.call('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, { reason: 'go' });
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/two`]);
  });

  test('rejecting the runbook gate runs nothing and hands the incident to people', async () => {
    const rb = uniqueId('rbgate');
    await setup(rb, { requiresApproval: true, steps: [step(rb, 'one')] });
    const id = await declare(rb, 'high');
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval');
    await stack.call('POST', `/api/incidents/${id}/reject`, tenant.keys.approver, { reason: 'handling by hand' });
    const view = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'investigating');
    expect(target.requests.filter((r) => r.path.startsWith(`/${rb}/`))).toHaveLength(0);
    expect(view.approvals[0]).toMatchObject({ stepId: null, decision: 'reject', reason: 'handling by hand' });

    await stack.call('POST', `/api/incidents/${id}/acknowledge`, tenant.keys.responder, {});
    await stack.call('POST', `/api/incidents/${id}/resolve`, tenant.keys.responder, { reason: 'fixed by hand' });
    const resolved = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'resolved');
    expect(resolved.incident.acknowledgedAt).toBeTruthy();
    expect(resolved.incident.resolvedAt).toBeTruthy();
  });
});
