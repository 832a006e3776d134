import { Receiver } from '../support/receiver';
import { IncidentView, Stack, TestTenant, uniqueId } from '../support/stack';

/**
 * The core promise end to end, on the real Temporal dev server and PostgreSQL: a forecast becomes an
 * incident, its runbook's steps act on a real HTTP target in order, and everything is on record.
 */
describe('incident remediation', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('remediation');
    target = await new Receiver().start();
    tenant = await stack.tenant('acme');
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  function threeStepRunbook(id: string, extra: Record<string, unknown> = {}, stepExtra: Record<string, unknown>[] = []) {
    return {
      id,
      name: `Capacity response ${id}`,
      triggers: { sources: ['upewe'], titlePattern: `${id}` },
      completion: { autoResolve: true },
      steps: [
        {
          id: 'page',
          name: 'Tell the on-call channel',
          action: 'notify',
          params: { url: `${target.url}/${id}/hook`, message: 'AIRE is scaling {{incident.context.service}}' },
          ...stepExtra[0],
        },
        {
          id: 'scale',
          name: 'Scale out',
          action: 'scale',
          params: { url: `${target.url}/${id}/capacity`, replicas: '{{incident.context.replicas}}' },
          ...stepExtra[1],
        },
        {
          id: 'flag',
          name: 'Disable the heavy feature',
          action: 'disable_feature',
          params: { flag: `${id}-recommendations`, pushUrl: `${target.url}/${id}/flags` },
          ...stepExtra[2],
        },
      ],
      ...extra,
    };
  }

  async function putRunbook(runbook: { id: string }) {
    const res = await stack.call('PUT', `/api/runbooks/${runbook.id}`, tenant.keys.admin, runbook);
    expect(res.status).toBe(201);
  }

  async function forecast(runbookId: string, confidence: number, extra: Record<string, unknown> = {}) {
    const res = await stack.call<{ id: string; created: boolean; severity: string }>('POST', '/api/incident/from-forecast', tenant.keys.ingest, {
      id: uniqueId('fc'),
      riskType: `capacity exhaustion ${runbookId}`,
      confidence,
      recommendedAction: 'scale out',
      rawFeatures: { service: 'checkout', replicas: 6 },
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  const kinds = (view: IncidentView): string[] => view.actionLog.map((e) => e.kind);

  test('a forecast with confidence 65 opens a high incident whose automated runbook runs in order to resolved', async () => {
    const rb = uniqueId('auto');
    await putRunbook(threeStepRunbook(rb));
    target.capacity.set(`/${rb}/capacity`, 2);

    const opened = await forecast(rb, 65);
    expect(opened.severity).toBe('high');
    // A high incident, once resolved, gets its post-mortem review date (written by the review workflow it starts).
    const view = await stack.incidentWhen(
      tenant,
      opened.id,
      (v) => v.incident.status === 'resolved' && v.actionLog.some((e) => e.kind === 'postmortem.review_scheduled'),
    );

    expect(target.paths(rb)).toEqual([`POST /${rb}/hook`, `PUT /${rb}/capacity`, `POST /${rb}/flags`]);
    expect(target.capacity.get(`/${rb}/capacity`)).toBe(6);
    expect(view.incident).toMatchObject({ severity: 'high', source: 'upewe', runbookId: rb, runbookVersion: 1 });
    expect(view.incident.mitigatedAt).toBeTruthy();
    expect(view.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['page', 'succeeded'],
      ['scale', 'succeeded'],
      ['flag', 'succeeded'],
    ]);
    expect(view.steps[1]!.output).toEqual({ previous: 2, current: 6 });
    // Every transition is on record, in order.
    expect(kinds(view)).toEqual([
      'incident.opened',
      'runbook.selected',
      'remediation.started',
      'step.started',
      'step.succeeded',
      'step.started',
      'step.succeeded',
      'step.started',
      'step.succeeded',
      'incident.mitigated',
      'incident.resolved',
      'postmortem.review_scheduled',
    ]);
    const hook = target.applied.find((r) => r.path === `/${rb}/hook`);
    expect(hook?.body).toMatchObject({ type: 'aire.notification', message: 'AIRE is scaling checkout', incident: { id: opened.id, severity: 'high' } });
    expect(hook?.headers['idempotency-key']).toBe(`aire:${opened.id}:page`);

    const controls = await stack.call<{ items: { kind: string; key: string; incidentId: string }[] }>('GET', '/api/controls', tenant.keys.ingest);
    expect(controls.body.items).toContainEqual(expect.objectContaining({ kind: 'feature', key: `${rb}-recommendations`, incidentId: opened.id }));
  });

  test('posting the same forecast twice joins the open incident instead of opening a second', async () => {
    const rb = uniqueId('dup');
    await putRunbook(threeStepRunbook(rb, { requiresApproval: true }));
    const body = { id: uniqueId('fc'), riskType: `x ${rb}`, confidence: 50, recommendedAction: 'wait' };
    const first = await stack.call<{ id: string; created: boolean }>('POST', '/api/incident/from-forecast', tenant.keys.ingest, body);
    const second = await stack.call<{ id: string; created: boolean }>('POST', '/api/incident/from-forecast', tenant.keys.ingest, body);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id: first.body.id, created: false });
    const rows = await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE tenant_id = $1 AND dedup_key = $2', [
      tenant.id,
      `forecast:${body.id}`,
    ]);
    expect(rows.rows[0]!.n).toBe(1);
  });

  test('a step that fails after its retries with onFailure abort compensates the earlier steps in reverse order', async () => {
    const rb = uniqueId('abort');
    const runbook = threeStepRunbook(rb, { completion: { autoResolve: false } });
    runbook.steps.push({
      id: 'deploy',
      name: 'Deploy the fix',
      action: 'http',
      params: { method: 'POST', url: `${target.url}/${rb}/deploy` },
      retry: { maximumAttempts: 2, initialInterval: '100ms' },
    } as never);
    target.on('POST', `/${rb}/deploy`, { status: 503 });
    target.capacity.set(`/${rb}/capacity`, 3);
    await putRunbook(runbook);

    const opened = await forecast(rb, 55);
    const view = await stack.incidentWhen(tenant, opened.id, (v) => v.incident.status === 'failed');

    const deploys = target.requests.filter((r) => r.path === `/${rb}/deploy`);
    expect(deploys).toHaveLength(2);
    // Forward in order, then undone newest first.
    expect(target.paths(rb)).toEqual([
      `POST /${rb}/hook`,
      `PUT /${rb}/capacity`,
      `POST /${rb}/flags`,
      `POST /${rb}/flags`,
      `PUT /${rb}/capacity`,
      `POST /${rb}/hook`,
    ]);
    const flagPushes = target.applied.filter((r) => r.path === `/${rb}/flags`).map((r) => (r.body as { enabled: boolean }).enabled);
    expect(flagPushes).toEqual([false, true]);
    expect(target.capacity.get(`/${rb}/capacity`)).toBe(3);
    expect(target.applied.filter((r) => r.path === `/${rb}/hook`).map((r) => (r.body as { type: string }).type)).toEqual([
      'aire.notification',
      'aire.notification.retracted',
    ]);
    expect(view.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['page', 'compensated'],
      ['scale', 'compensated'],
      ['flag', 'compensated'],
      ['deploy', 'failed'],
    ]);
    expect(view.steps[3]!.error).toMatch(/503/);
    expect(kinds(view)).toEqual(
      expect.arrayContaining(['step.failed', 'compensation.started', 'step.compensated', 'compensation.finished', 'remediation.failed']),
    );
    const controls = await stack.call<{ items: { key: string }[] }>('GET', '/api/controls?kind=feature', tenant.keys.viewer);
    expect(controls.body.items.map((c) => c.key)).not.toContain(`${rb}-recommendations`);
  });

  test('a failing step with onFailure continue is recorded and the runbook goes on', async () => {
    const rb = uniqueId('cont');
    const runbook = threeStepRunbook(rb, {}, [
      {},
      { params: { url: `${target.url}/${rb}/broken-capacity`, replicas: 4 }, onFailure: 'continue', retry: { maximumAttempts: 1 } },
    ]);
    target.on('GET', `/${rb}/broken-capacity`, { status: 404 });
    await putRunbook(runbook);
    const opened = await forecast(rb, 45);
    const view = await stack.incidentWhen(tenant, opened.id, (v) => v.incident.status === 'resolved');
    expect(view.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['page', 'succeeded'],
      ['scale', 'failed'],
      ['flag', 'succeeded'],
    ]);
    // A 404 is final: retrying would not help, so it was tried once.
    expect(target.requests.filter((r) => r.path === `/${rb}/broken-capacity`)).toHaveLength(1);
  });

  test('rollback on a mitigated incident compensates every completed step once, newest first', async () => {
    const rb = uniqueId('rb');
    await putRunbook(threeStepRunbook(rb, { completion: { autoResolve: false } }));
    target.capacity.set(`/${rb}/capacity`, 1);
    const opened = await forecast(rb, 45);
    await stack.incidentWhen(tenant, opened.id, (v) => v.incident.status === 'mitigated');

    const rollback = await stack.call('POST', `/api/incidents/${opened.id}/rollback`, tenant.keys.approver, { reason: 'made it worse' });
    expect(rollback.status).toBe(200);
    // A second request while the first runs is refused by the workflow, never applied twice.
    const meanwhile = await stack.call<{ detail: string }>('POST', `/api/incidents/${opened.id}/rollback`, tenant.keys.approver, { reason: 'again' });
    expect([meanwhile.status, meanwhile.body.detail]).toEqual([
      409,
      expect.stringMatching(/^(a rollback was already requested|the incident was already rolled back)$/),
    ]);
    const view = await stack.incidentWhen(tenant, opened.id, (v) => v.incident.status === 'rolled_back');

    expect(target.paths(rb)).toEqual([
      `POST /${rb}/hook`,
      `PUT /${rb}/capacity`,
      `POST /${rb}/flags`,
      `POST /${rb}/flags`,
      `PUT /${rb}/capacity`,
      `POST /${rb}/hook`,
    ]);
    expect(target.capacity.get(`/${rb}/capacity`)).toBe(1);
    expect(view.steps.every((s) => s.status === 'compensated')).toBe(true);
    expect(view.actionLog.find((e) => e.kind === 'rollback.requested')).toMatchObject({ actor: 'key:approver-key', detail: { reason: 'made it worse' } });

    const again = await stack.call('POST', `/api/incidents/${opened.id}/rollback`, tenant.keys.approver, {});
    expect(again.status).toBe(409);

    // Acknowledge, resolve and close are answered by the workflow too: a second acknowledgement says so.
    const acks = [];
    for (const key of [tenant.keys.responder, tenant.keys.approver])
      acks.push(await stack.call<{ outcome: string }>('POST', `/api/incidents/${opened.id}/acknowledge`, key, {}));
    expect(acks.map((a) => [a.status, a.body.outcome])).toEqual([
      [200, 'acknowledged'],
      [200, 'already-acknowledged'],
    ]);
    const closed = await stack.call('POST', `/api/incidents/${opened.id}/close`, tenant.keys.responder, { reason: 'post-mortem filed' });
    expect(closed.body).toMatchObject({ outcome: 'close-requested' });
    expect(closed.status).toBe(200);
    const final = await stack.incidentWhen(tenant, opened.id, (v) => v.incident.status === 'closed');
    expect(final.incident.closedAt).toBeTruthy();
    // Closed is final: whatever comes now is refused with the reason, never a silent 202.
    const late = await stack.call<{ detail: string }>('POST', `/api/incidents/${opened.id}/resolve`, tenant.keys.responder, {});
    expect(late.status).toBe(409);
    expect(late.body.detail).toMatch(/closed|ended/);
  });
});
