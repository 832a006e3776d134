import { postmortemReviewWorkflowId } from '../../src/domain/postmortem-review';
import { Receiver } from '../support/receiver';
import { type IncidentView, Stack, type TestTenant, eventually, uniqueId } from '../support/stack';

type Answer = { outcome: string; state: { severity: string; ackBy?: string; roles?: { commander?: string; assignees: string[] } } };
type Problem = { detail?: string; errors?: { path: string; message: string }[] };

/** Incident command: people edit the incident, hold its roles, tell stakeholders, and run more runbooks on it. */
describe('incident command', () => {
  let stack: Stack;
  let target: Receiver;

  beforeAll(async () => {
    stack = await Stack.start('command');
    target = await new Receiver().start();
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  const http = (rb: string, id: string, extra: Record<string, unknown> = {}) => ({
    id,
    name: `step ${id}`,
    action: 'http',
    risk: 'low',
    params: { method: 'POST', url: `${target.url}/${rb}/${id}`, compensate: { method: 'POST', url: `${target.url}/${rb}/undo-${id}` } },
    ...extra,
  });

  async function runbook(tenant: TestTenant, id: string, steps: unknown[], extra: Record<string, unknown> = {}): Promise<void> {
    const body = { id, name: id, triggers: { titlePattern: id }, completion: { autoResolve: false }, steps, ...extra };
    expect((await stack.call('POST', '/api/runbooks', tenant.keys.admin, body)).status).toBe(201);
  }

  async function declare(tenant: TestTenant, title: string, severity: string): Promise<string> {
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title, severity });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  const patch = (tenant: TestTenant, id: string, body: Record<string, unknown>) =>
    stack.call<Answer & Problem>('PATCH', `/api/incidents/${id}`, tenant.keys.responder, body);

  test('severity high → critical while a step waits gates the rest; critical → medium moves the SLA; both logged with reasons', async () => {
    const tenant = await stack.tenant('edit');
    const settings = { responseSla: { critical: '15m', high: '1h', medium: '4h' } };
    expect((await stack.call('PUT', '/api/settings', tenant.keys.admin, settings)).status).toBe(200);
    const rb = uniqueId('edit');
    await runbook(tenant, rb, [{ id: 'check', name: 'Check by hand', action: 'manual', risk: 'low', params: { instructions: 'look' } }, http(rb, 'two')]);
    const id = await declare(tenant, `${rb} db latency`, 'high');
    await stack.incidentWhen(tenant, id, (v) => v.live?.pendingManual?.stepId === 'check');

    const noReason = await patch(tenant, id, { severity: 'critical' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors?.map((e) => e.path)).toEqual(['reason']);
    expect((await patch(tenant, id, {})).status).toBe(400);
    expect((await stack.call('PATCH', `/api/incidents/${id}`, tenant.keys.viewer, { title: 'x' })).status).toBe(403);

    const highAckBy = (await stack.incidentWhen(tenant, id, (v) => v.live?.ackBy !== undefined)).live?.ackBy as string;
    const raised = await patch(tenant, id, { severity: 'critical', reason: 'customer data at risk', title: `${rb} db down` });
    expect([raised.status, raised.body.outcome, raised.body.state.severity]).toEqual([200, 'edited', 'critical']);
    expect(Date.parse(raised.body.state.ackBy as string) - Date.parse(highAckBy)).toBe(-45 * 60_000);
    expect((await patch(tenant, id, { title: `${rb} db down` })).body.outcome).toBe('unchanged');

    const note = await stack.call('POST', `/api/incidents/${id}/notes`, tenant.keys.responder, { text: 'paging the DB team', key: true });
    expect(note.status).toBe(201);
    // The step that waited finishes; the next one now needs a human: the critical rule holds.
    expect((await stack.call('POST', `/api/incidents/${id}/steps/check/complete`, tenant.keys.responder, {})).status).toBe(200);
    const gated = await stack.incidentWhen(tenant, id, (v) => v.live?.pendingApproval != null);
    expect(gated.live?.pendingApproval?.reasons.join(' ')).toMatch(/escalated to critical/);
    expect(target.paths(rb)).toEqual([]);

    const lowered = await patch(tenant, id, { severity: 'medium', reason: 'only staging affected' });
    expect(lowered.body.state.severity).toBe('medium');
    expect(Date.parse(lowered.body.state.ackBy as string) - Date.parse(highAckBy)).toBe(3 * 3_600_000);
    // Lowering never removes a gate that already waits.
    expect((await stack.incidentWhen(tenant, id, (v) => v.incident.severity === 'medium')).live?.pendingApproval).not.toBeNull();
    expect((await stack.call('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, {})).status).toBe(200);
    const done = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/two`]);
    expect(done.incident.title).toBe(`${rb} db down`);

    const edits = done.actionLog.filter((e) => e.kind === 'incident.edited').map((e) => e.detail);
    expect(edits).toEqual([
      { changes: { severity: { from: 'high', to: 'critical' }, title: { from: `${rb} db latency`, to: `${rb} db down` } }, reason: 'customer data at risk' },
      { changes: { severity: { from: 'critical', to: 'medium' } }, reason: 'only staging affected' },
    ]);
    expect(done.actionLog.find((e) => e.kind === 'incident.edited')?.actor).toBe('key:responder-key');

    // One ordered stream: the edit, the note, the step, the gate, the second edit, the approval, the next step.
    const timeline = await stack.call<{ items: { kind: string; stepId: string | null; text: string }[] }>(
      'GET',
      `/api/incidents/${id}/timeline`,
      tenant.keys.viewer,
    );
    const at = (kind: string, nth = 0, stepId?: string) =>
      timeline.body.items.map((e, i) => (e.kind === kind && (stepId === undefined || e.stepId === stepId) ? i : -1)).filter((i) => i >= 0)[nth] ?? -1;
    const order = [
      at('incident.edited'),
      at('note.added'),
      at('step.succeeded', 0, 'check'),
      at('approval.requested'),
      at('incident.edited', 1),
      at('approval.granted'),
      at('step.succeeded', 0, 'two'),
    ];
    expect(order.every((i, n) => i >= 0 && (n === 0 || i > (order[n - 1] ?? -1)))).toBe(true);
    expect(timeline.body.items[at('incident.edited')]?.text).toBe(
      // jsonb keeps shorter keys first
      `key:responder-key changed title "${rb} db latency" → "${rb} db down", severity "high" → "critical": customer data at risk`,
    );
  });

  test('impact, root cause and labels; two edits at once are both recorded; a closed incident refuses edits', async () => {
    const tenant = await stack.tenant('fields');
    const id = await declare(tenant, uniqueId('fields'), 'medium');
    const [a, b] = await Promise.all([
      patch(tenant, id, { impact: { usersAffected: 1200, dataExposure: false }, labels: { team: 'db' } }),
      patch(tenant, id, { rootCause: 'connection pool exhausted by a retry storm', labels: { team: 'platform' } }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    // Last one wins per field: the row holds the labels of whichever edit the workflow applied second.
    const lastLabels = (v: IncidentView) =>
      (v.actionLog.filter((e) => e.kind === 'incident.edited')[1]?.detail.changes as Record<string, { to: unknown }>)?.labels?.to;
    // The row and the log are read one after the other: wait until both show the second edit.
    const view = await stack.incidentWhen(
      tenant,
      id,
      (v) => lastLabels(v) !== undefined && JSON.stringify(v.incident.labels) === JSON.stringify(lastLabels(v)),
    );
    expect(view.actionLog.filter((e) => e.kind === 'incident.edited')).toHaveLength(2);
    expect(view.incident).toMatchObject({ impact: { usersAffected: 1200, dataExposure: false }, rootCause: 'connection pool exhausted by a retry storm' });

    expect((await stack.call('POST', `/api/incidents/${id}/close`, tenant.keys.responder, {})).status).toBe(200);
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'closed');
    const refused = await patch(tenant, id, { summary: 'too late' });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/closed|ended/);
  });

  test('a second runbook on a mitigated incident, then rollback: both compensated, newest first, once each', async () => {
    const tenant = await stack.tenant('again');
    const first = uniqueId('first');
    const second = uniqueId('second');
    await runbook(tenant, first, [http(first, 'a1'), http(first, 'a2')]);
    await runbook(tenant, second, [
      http(second, 'b1'),
      http(second, 'b2', {
        params: {
          method: 'POST',
          url: `${target.url}/${second}/b2`,
          compensate: { method: 'POST', url: `${target.url}/${second}/undo-b2` },
          body: { after: '{{steps.b1.output.status}}' },
        },
      }),
    ]);
    const id = await declare(tenant, `${first} cache`, 'medium');
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');

    const other = await stack.tenant('other');
    await runbook(other, uniqueId('theirs'), [http('x', 'x')]);
    const foreign = await stack.call<Problem>('POST', `/api/incidents/${id}/runbooks`, tenant.keys.responder, { runbookId: 'no-such-runbook' });
    expect([foreign.status, foreign.body.errors?.[0]?.path]).toEqual([400, 'runbookId']);

    const run = await stack.call<Answer>('POST', `/api/incidents/${id}/runbooks`, tenant.keys.responder, { runbookId: second });
    expect([run.status, run.body.outcome]).toEqual([200, 'runbook-queued']);
    const busy = await stack.call<Problem>('POST', `/api/incidents/${id}/runbooks`, tenant.keys.responder, { runbookId: second });
    expect(busy.status).toBe(409);
    const mitigated = await stack.incidentWhen(
      tenant,
      id,
      (v) => v.incident.status === 'mitigated' && v.steps.length === 4 && v.steps.every((s) => s.status === 'succeeded'),
    );
    expect(mitigated.steps.map((s) => s.stepId)).toEqual(['a1', 'a2', 'r2-b1', 'r2-b2']);
    // The second runbook's templates read its own steps by their own ids.
    expect(target.applied.find((r) => r.path === `/${second}/b2`)?.body).toEqual({ after: 200 });

    expect((await stack.call('POST', `/api/incidents/${id}/rollback`, tenant.keys.approver, { reason: 'made it worse' })).status).toBe(200);
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'rolled_back');
    const undone = target.requests.filter((r) => r.path.includes('/undo-')).map((r) => r.path);
    expect(undone).toEqual([`/${second}/undo-b2`, `/${second}/undo-b1`, `/${first}/undo-a2`, `/${first}/undo-a1`]);
  });

  test('roles: the roster, handover, the person told on their channel, ack makes a commander, AireCommander filters', async () => {
    const tenant = await stack.tenant('roles');
    const rb = uniqueId('roles');
    const settings = {
      channels: [{ name: 'alice-pager', target: { url: `${target.url}/${rb}/alice` }, events: ['role.assigned'] }],
      people: [
        { name: 'alice', channel: 'alice-pager' },
        { name: 'bob', keys: ['responder-key'] },
      ],
    };
    expect((await stack.call('PUT', '/api/settings', tenant.keys.admin, settings)).status).toBe(200);
    const acked = await declare(tenant, `${rb} acked`, 'low');
    const ack = await stack.call<Answer>('POST', `/api/incidents/${acked}/acknowledge`, tenant.keys.responder, {});
    expect(ack.body.state.roles?.commander).toBe('bob');

    const id = await declare(tenant, `${rb} assigned`, 'high');
    const assign = (body: Record<string, unknown>) => stack.call<Answer & Problem>('POST', `/api/incidents/${id}/roles`, tenant.keys.responder, body);
    const unknown = await assign({ role: 'commander', person: 'mallory' });
    expect([unknown.status, unknown.body.errors?.[0]?.path]).toEqual([400, 'person']);
    expect((await assign({ role: 'janitor', person: 'alice' })).status).toBe(400);
    expect((await assign({ role: 'commander', person: 'alice' })).body.outcome).toBe('role-assigned');
    expect((await assign({ role: 'assignee', person: 'key:approver-key' })).status).toBe(200);
    const handover = await assign({ role: 'commander', person: 'bob' });
    expect(handover.body.state.roles).toEqual({ commander: 'bob', assignees: ['key:approver-key'] });
    expect((await assign({ role: 'scribe', person: 'alice', unassign: true })).status).toBe(409);

    await eventually(async () => (target.paths(rb).length >= 1 ? true : undefined));
    expect(target.applied.find((r) => r.path === `/${rb}/alice`)?.body).toMatchObject({ type: 'aire.notification', stepId: 'notify:role.assigned' });
    const view = await stack.incidentWhen(tenant, id, (v) => (v.incident.roles as { commander?: string }).commander === 'bob');
    expect(view.actionLog.filter((e) => e.kind === 'role.assigned').map((e) => [e.detail.role, e.detail.person, e.detail.from])).toEqual([
      ['commander', 'alice', null],
      ['assignee', 'key:approver-key', null],
      ['commander', 'bob', 'alice'],
    ]);
    const listed = await eventually(async () => {
      const found: string[] = [];
      for await (const wf of stack.temporal.workflow.list({ query: `AireCommander = "bob" AND AireTenant = "${tenant.slug}"` })) found.push(wf.workflowId);
      return found.length === 2 ? found : undefined;
    });
    expect(listed.sort()).toEqual([view.incident.workflowId, (await stack.incidentWhen(tenant, acked, () => true)).incident.workflowId].sort());
  });

  test('status updates go to the channels that take them; external ones only when the tenant allows', async () => {
    const tenant = await stack.tenant('status');
    const rb = uniqueId('status');
    const settings = {
      channels: [
        { name: 'stakeholders', target: { url: `${target.url}/${rb}/internal` }, events: ['status.update'] },
        { name: 'statuspage', target: { url: `${target.url}/${rb}/external` }, audience: 'external' },
      ],
    };
    expect((await stack.call('PUT', '/api/settings', tenant.keys.admin, settings)).status).toBe(200);
    const id = await declare(tenant, `${rb} checkout errors`, 'high');
    const post = (body: Record<string, unknown>) => stack.call<Answer & Problem>('POST', `/api/incidents/${id}/status-updates`, tenant.keys.responder, body);
    expect((await post({ message: 'Rolling back the deploy', eta: '2026-12-03T22:00:00Z' })).body.outcome).toBe('status-update-posted');
    expect((await post({ message: 'Public note', audience: 'external' })).status).toBe(409);
    expect((await post({ message: '' })).body.errors?.[0]?.path).toBe('message');

    expect((await stack.call('PUT', '/api/settings', tenant.keys.admin, { ...settings, statusUpdates: { allowExternal: true } })).status).toBe(200);
    // The incident decides with the settings it opened with: a new one takes the change.
    const later = await declare(tenant, `${rb} later`, 'high');
    expect(
      (await stack.call('POST', `/api/incidents/${later}/status-updates`, tenant.keys.responder, { message: 'We are on it', audience: 'external' })).status,
    ).toBe(200);

    await eventually(async () => (target.paths(rb).length >= 3 ? true : undefined));
    expect(target.paths(rb).sort()).toEqual([`POST /${rb}/external`, `POST /${rb}/internal`, `POST /${rb}/internal`]);
    const view: IncidentView = await stack.incidentWhen(tenant, id, (v) => v.incident.latestStatusUpdate != null);
    expect(view.incident.latestStatusUpdate).toMatchObject({ message: 'Rolling back the deploy', audience: 'internal', actor: 'key:responder-key' });
  });

  test('the commander is reminded on their channel when no status update was posted for statusUpdates.every', async () => {
    const tenant = await stack.tenant('remind');
    const rb = uniqueId('remind');
    const settings = {
      channels: [{ name: 'carol-pager', target: { url: `${target.url}/${rb}/carol` }, events: ['status.update-due'] }],
      people: [{ name: 'carol', channel: 'carol-pager' }],
      statusUpdates: { every: { high: '3s' } },
    };
    expect((await stack.call('PUT', '/api/settings', tenant.keys.admin, settings)).status).toBe(200);
    const id = await declare(tenant, `${rb} slow burn`, 'high');
    expect((await stack.call('POST', `/api/incidents/${id}/roles`, tenant.keys.responder, { role: 'commander', person: 'carol' })).status).toBe(200);
    const reminders = () =>
      target.applied.filter((r) => r.path === `/${rb}/carol` && /No status update/.test(String((r.body as { message?: string }).message)));
    await eventually(async () => (reminders().length >= 1 ? true : undefined), 20_000);
    const view = await stack.incidentWhen(tenant, id, (v) => v.actionLog.some((e) => e.kind === 'status_update.due'));
    expect(view.actionLog.find((e) => e.kind === 'status_update.due')?.detail).toMatchObject({ everyMs: 3_000, commander: 'carol', channels: ['carol-pager'] });
    // Resolved: no more reminders.
    expect((await stack.call('POST', `/api/incidents/${id}/resolve`, tenant.keys.responder, {})).status).toBe(200);
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'resolved');
    const sent = reminders().length;
    await new Promise((r) => setTimeout(r, 4_000));
    expect(reminders().length).toBe(sent);
  });

  test('the report and its Markdown hold the confirmed root cause, roles, key notes and status updates', async () => {
    const tenant = await stack.tenant('report');
    const id = await declare(tenant, uniqueId('report'), 'medium');
    expect((await patch(tenant, id, { rootCause: 'an expired certificate on the gateway' })).status).toBe(200);
    expect((await stack.call('POST', `/api/incidents/${id}/roles`, tenant.keys.responder, { role: 'comms', person: 'key:approver-key' })).status).toBe(200);
    expect((await stack.call('POST', `/api/incidents/${id}/notes`, tenant.keys.responder, { text: 'cert renewed by hand', key: true })).status).toBe(201);
    const update = { message: 'Gateway certificate renewed', eta: '2026-12-03T22:00:00Z' };
    expect((await stack.call('POST', `/api/incidents/${id}/status-updates`, tenant.keys.responder, update)).status).toBe(200);
    type Report = {
      rootCause: string;
      rootCauseConfirmed: boolean;
      postMortem: { keyNotes: { text: string }[]; statusUpdates: { message: string; eta: string | null }[]; participants: { who: string; roles: string[] }[] };
    };
    const report = await eventually(async () => {
      const r = await stack.call<Report>('GET', `/api/incidents/${id}/report`, tenant.keys.viewer);
      return r.body.postMortem.statusUpdates.length === 1 && r.body.rootCauseConfirmed ? r.body : undefined;
    });
    expect(report.rootCause).toBe('an expired certificate on the gateway');
    expect(report.postMortem.keyNotes.map((n) => n.text)).toEqual(['cert renewed by hand']);
    expect(report.postMortem.statusUpdates).toEqual([expect.objectContaining({ message: 'Gateway certificate renewed', eta: '2026-12-03T22:00:00Z' })]);
    expect(report.postMortem.participants.find((p) => p.who === 'key:approver-key')?.roles).toEqual(['comms']);
    const md = await fetch(`${stack.baseUrl}/api/incidents/${id}/report?format=markdown`, { headers: { authorization: `Bearer ${tenant.keys.viewer}` } });
    const text = await md.text();
    expect(text).toContain('## Root cause\n\nan expired certificate on the gateway\n');
    expect(text).toMatch(/## Key notes\n\n- .*cert renewed by hand/);
    expect(text).toMatch(/## Status updates\n\n- .*\(internal\): Gateway certificate renewed \(ETA /);
    expect(text).toMatch(/key:approver-key \(comms\)/);
  });

  test('no tiers, no runbook: a critical incident nobody acknowledges pages the on-call channel until acknowledged', async () => {
    const tenant = await stack.tenant('paging');
    const rb = uniqueId('page');
    const settings = {
      responseSla: { critical: '2s' },
      channels: [{ name: 'on-call', target: { url: `${target.url}/${rb}/page` }, events: ['page'] }],
      onCall: { channel: 'on-call', repeatEvery: '2s' },
    };
    expect((await stack.call('PUT', '/api/settings', tenant.keys.admin, settings)).status).toBe(200);
    const id = await declare(tenant, `${rb} nobody home`, 'critical');
    await eventually(async () => (target.paths(rb).length >= 2 ? true : undefined), 20_000);
    expect((await stack.call('POST', `/api/incidents/${id}/acknowledge`, tenant.keys.responder, {})).status).toBe(200);
    const pages = target.paths(rb).length;
    await new Promise((r) => setTimeout(r, 4_000));
    expect(target.paths(rb).length).toBeLessThanOrEqual(pages + 1);
    const view = await stack.incidentWhen(tenant, id, (v) => v.actionLog.some((e) => e.kind === 'incident.paged'));
    expect(view.actionLog.filter((e) => e.kind === 'incident.paged').map((e) => e.detail.page)).toEqual(
      Array.from({ length: view.actionLog.filter((e) => e.kind === 'incident.paged').length }, (_, i) => i + 1),
    );
    expect(target.applied.find((r) => r.path === `/${rb}/page`)?.body).toMatchObject({
      stepId: 'notify:page',
      message: expect.stringMatching(/^Page 1, CRITICAL/),
    });

    // Resolving a critical incident schedules its post-mortem review: a child workflow that outlives it.
    expect((await stack.call('POST', `/api/incidents/${id}/resolve`, tenant.keys.responder, {})).status).toBe(200);
    const review = await eventually(async () => {
      const described = await stack.temporal.workflow
        .getHandle(postmortemReviewWorkflowId(tenant.id, id))
        .describe()
        .catch(() => undefined);
      return described?.status.name === 'RUNNING' ? described : undefined;
    });
    expect(review.type).toBe('postmortemReviewWorkflow');
  });
});
