import { createApiKey } from '../../src/db/tenants';
import { approveSignal } from '../../src/workflows/definitions';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';

/** Humans in the loop: four-eyes, several approvers, SLA breaches escalating through tiers, approval timeouts, routing. */
describe('governance', () => {
  let stack: Stack;
  let target: Receiver;

  beforeAll(async () => {
    stack = await Stack.start('governance');
    target = await new Receiver().start();
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  async function tenantWith(settings: Record<string, unknown>): Promise<TestTenant> {
    const tenant = await stack.tenant('gov');
    const res = await stack.call('PUT', '/api/settings', tenant.keys.admin, settings);
    expect(res.status).toBe(200);
    return tenant;
  }

  const channel = (name: string, extra: Record<string, unknown> = {}) => ({ name, target: { url: `${target.url}/${name}` }, ...extra });
  const httpStep = (rb: string, id: string, extra: Record<string, unknown> = {}) => ({
    id,
    name: id,
    action: 'http',
    params: { url: `${target.url}/${rb}/${id}`, compensate: { method: 'POST', url: `${target.url}/${rb}/undo-${id}` } },
    ...extra,
  });

  async function runbook(tenant: TestTenant, rb: string, steps: unknown[], extra: Record<string, unknown> = {}): Promise<void> {
    expect((await stack.call('POST', '/api/runbooks', tenant.keys.admin, { id: rb, name: rb, triggers: { titlePattern: rb }, steps, ...extra })).status).toBe(
      201,
    );
  }

  async function declare(key: string, body: Record<string, unknown>): Promise<string> {
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', key, body);
    expect(res.status).toBe(201);
    return res.body.id;
  }

  /** A critical incident whose tenant requires two distinct approvers, waiting at its runbook gate; and the second approver's key. */
  async function criticalAwaitingTwoApprovers(prefix: string) {
    const tenant = await tenantWith({ approval: { requiredApprovalsCritical: 2 } });
    const second = (await createApiKey(stack.admin, tenant.id, 'second-approver', ['approver'])).key;
    const rb = uniqueId(prefix);
    await runbook(tenant, rb, [httpStep(rb, 'one')]);
    const id = await declare(tenant.keys.ingest, { title: `${rb} down`, severity: 'critical' });
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval' && v.live?.pendingApproval != null);
    return { tenant, second, rb, id };
  }

  test('four-eyes: who declared a critical incident cannot approve it', async () => {
    const tenant = await stack.tenant('foureyes');
    const rb = uniqueId('four');
    await runbook(tenant, rb, [httpStep(rb, 'one')]);
    const id = await declare(tenant.keys.admin, { title: `${rb} down`, severity: 'critical' });
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval');

    const self = await stack.call<{ detail: string }>('POST', `/api/incidents/${id}/approve`, tenant.keys.admin, { reason: 'lgtm' });
    expect(self.status).toBe(403);
    expect(self.body.detail).toMatch(/four-eyes/);
    expect(target.paths(rb)).toEqual([]);

    // The same rule holds for an approval sent as a signal (`temporal workflow signal`): refused, and the refusal is in the audit trail.
    const { incident } = await stack.incidentWhen(tenant, id, () => true);
    await stack.temporal.workflow.getHandle(incident.workflowId).signal(approveSignal, { actor: 'key:admin-key', reason: 'via the CLI', incidentId: id });
    const refused = await stack.incidentWhen(tenant, id, (v) => v.actionLog.some((e) => e.kind === 'approval.refused'));
    expect(refused.incident.status).toBe('awaiting_approval');
    expect(target.paths(rb)).toEqual([]);

    const approved = await stack.call<{ outcome: string; state: { pendingApproval: unknown } }>('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, {
      reason: 'second pair of eyes',
    });
    expect([approved.status, approved.body.outcome]).toEqual([200, 'approved']);
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`]);
  });

  test('twenty concurrent approvals from two approvers: one 200 per approver, every other answer 409 with the reason', async () => {
    const { tenant, second, rb, id } = await criticalAwaitingTwoApprovers('race');

    const keys = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? tenant.keys.approver : second));
    const answers = await Promise.all(
      keys.map((key, i) =>
        stack.call<{ outcome?: string; detail?: string; actor?: string }>('POST', `/api/incidents/${id}/approve`, key, { reason: `try ${i}` }),
      ),
    );
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.map((a) => a.body.actor).sort()).toEqual(['key:approver-key', 'key:second-approver']);
    expect(ok.map((a) => a.body.outcome).sort()).toEqual(['approval-recorded', 'approved']);
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused).toHaveLength(18);
    for (const a of refused) {
      expect(a.status).toBe(409);
      expect(a.body.detail).toMatch(/an approver counts once|already decided|nothing is waiting/);
    }
    const done = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(done.approvals.map((a) => a.approver).sort()).toEqual(['key:approver-key', 'key:second-approver']);
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`]);
  });

  test('a tenant can require two distinct approvers for critical incidents; the same approver counts once', async () => {
    const { tenant, second, rb, id } = await criticalAwaitingTwoApprovers('two');

    expect((await stack.call('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, { reason: 'first' })).status).toBe(200);
    const again = await stack.call<{ detail: string }>('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, { reason: 'first again' });
    expect([again.status, again.body.detail]).toEqual([409, expect.stringContaining('an approver counts once')]);
    const half = await stack.incidentWhen(tenant, id, (v) => v.actionLog.some((e) => e.kind === 'approval.recorded'));
    expect(half.live?.pendingApproval).toMatchObject({ approvals: ['key:approver-key'], required: 2 });
    expect(target.paths(rb)).toEqual([]);

    await stack.call('POST', `/api/incidents/${id}/approve`, second, { reason: 'second' });
    const done = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`]);
    expect(done.approvals.map((a) => [a.approver, a.decision])).toEqual([
      ['key:approver-key', 'approve'],
      ['key:second-approver', 'approve'],
    ]);
  });

  test('an unacknowledged incident breaches its SLA and escalates through two tiers, in order, until acknowledged', async () => {
    const tenant = await tenantWith({
      responseSla: { medium: '1s' },
      escalation: {
        tiers: [
          { after: '700ms', channels: ['tier1'] },
          { after: '700ms', channels: ['tier2'] },
        ],
        repeat: 1,
      },
      channels: [
        channel('sla-watch', { events: ['sla.breached'] }),
        channel('tier1', { events: ['escalation'] }),
        channel('tier2', { events: ['escalation'] }),
      ],
    });
    const started = Date.now();
    const id = await declare(tenant.keys.ingest, { title: `${uniqueId('sla')} queue backing up`, severity: 'medium' });

    const hits = await eventually(async () => {
      const got = target.requests.filter((r) => (r.body as { incident?: { id?: string } })?.incident?.id === id);
      return got.length >= 4 ? got : undefined;
    }, 20_000);
    // sla-watch, then tier 1, then tier 2, then tier 2 again (repeat 1), each after its delay.
    expect(hits.slice(0, 4).map((r) => r.path)).toEqual(['/sla-watch', '/tier1', '/tier2', '/tier2']);
    expect(hits[0]!.at - started).toBeGreaterThanOrEqual(1_000);
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(600);
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(600);
    expect((hits[1]!.body as { message: string }).message).toMatch(/tier 1: the incident is not acknowledged/);

    await stack.call('POST', `/api/incidents/${id}/acknowledge`, tenant.keys.responder, {});
    const view = await stack.incidentWhen(tenant, id, (v) => v.incident.acknowledgedAt !== null);
    expect(view.actionLog.filter((e) => e.kind === 'sla.breached')).toHaveLength(1);
    expect(view.actionLog.filter((e) => e.kind === 'escalation').map((e) => e.detail.tier)).toEqual([1, 2, 3]);
  });

  test('an approval nobody gives times out after the last tier and aborts with compensation', async () => {
    const tenant = await tenantWith({
      approvalTimeout: '1s',
      escalation: { tiers: [{ after: '500ms', channels: ['approvers-backup'] }] },
      channels: [channel('approvers-backup', { events: ['escalation'] })],
    });
    const rb = uniqueId('timeout');
    await runbook(tenant, rb, [httpStep(rb, 'one'), httpStep(rb, 'two', { requiresApproval: true })]);
    const id = await declare(tenant.keys.ingest, { title: `${rb} slow`, severity: 'medium' });

    const view = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'failed', 30_000);
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/undo-one`]);
    expect(target.requests.some((r) => r.path === '/approvers-backup' && (r.body as { incident: { id: string } }).incident.id === id)).toBe(true);
    expect(view.approvals).toEqual([expect.objectContaining({ stepId: 'two', decision: 'reject', approver: 'aire' })]);
    expect(view.actionLog.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['approval.overdue', 'escalation', 'approval.timed_out', 'step.compensated', 'remediation.failed']),
    );
  });

  test('notifications follow each channel’s filters, and a dead channel never blocks remediation', async () => {
    const tenant = await tenantWith({
      channels: [
        channel('high-only', { minSeverity: 'high' }),
        channel('security', { categories: ['security'] }),
        channel('openings', { events: ['incident.opened'] }),
        { name: 'dead', target: { url: `${target.url}/dead` }, events: ['incident.opened'] },
      ],
    });
    target.on('POST', '/dead', { status: 500 });
    const rb = uniqueId('route');
    await runbook(tenant, rb, [httpStep(rb, 'one')], { completion: { autoResolve: true } });

    const low = await declare(tenant.keys.ingest, { title: `${rb} low`, severity: 'low', category: 'other' });
    const high = await declare(tenant.keys.ingest, { title: `${rb} high`, severity: 'high', category: 'security' });
    await stack.incidentWhen(tenant, low, (v) => v.incident.status === 'resolved');
    const highView = await stack.incidentWhen(tenant, high, (v) => v.incident.status === 'resolved');

    const deliveries = async (id: string) =>
      eventually(async () => {
        const got = target.applied
          .filter((r) => (r.body as { incident?: { id?: string } })?.incident?.id === id)
          .map((r) => `${r.path} ${(r.body as { message: string }).message.split(':')[0]}`);
        return got.length > 0 ? got.sort() : undefined;
      });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await deliveries(low)).toEqual(['/openings LOW incident opened']);
    expect(await deliveries(high)).toEqual([
      '/high-only HIGH incident opened',
      '/high-only Resolved',
      '/openings HIGH incident opened',
      '/security HIGH incident opened',
      '/security Resolved',
    ]);
    // The dead channel was tried (with retries) and failed; remediation did not wait for it.
    expect(target.requests.filter((r) => r.path === '/dead').length).toBeGreaterThanOrEqual(1);
    await stack.incidentWhen(tenant, high, (v) => v.actionLog.some((e) => e.kind === 'notification.failed'), 20_000);
    expect(highView.incident.status).toBe('resolved');
  });

  test('settings are validated, names and all', async () => {
    const tenant = await stack.tenant('settings');
    const bad = await stack.call<{ errors: { path: string }[] }>('PUT', '/api/settings', tenant.keys.admin, {
      escalation: { tiers: [{ after: 'soon', channels: ['nobody'] }] },
      channels: [{ name: 'x', target: { channel: 'slack' } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['escalation.tiers[0].after']));
    const bad2 = await stack.call<{ errors: { path: string }[] }>('PUT', '/api/settings', tenant.keys.admin, {
      escalation: { tiers: [{ after: '1s', channels: ['nobody'] }] },
      channels: [{ name: 'x', target: { channel: 'slack' } }],
    });
    expect(bad2.body.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['escalation.tiers[0].channels[0]']));
    const bad3 = await stack.call<{ errors: { path: string }[] }>('PUT', '/api/settings', tenant.keys.admin, {
      channels: [{ name: 'x', target: { channel: 'slack' } }],
    });
    expect(bad3.body.errors.map((e) => e.path)).toEqual(['channels[0].target.url']);
    expect((await stack.call('PUT', '/api/settings', tenant.keys.approver, {})).status).toBe(403);
  });

  test('a PagerDuty channel follows the incident: trigger, acknowledge, resolve on one dedup key', async () => {
    const tenant = await tenantWith({
      channels: [
        {
          name: 'pd',
          target: { channel: 'pagerduty', url: `${target.url}/pd`, routingKey: 'routing-key-123' },
          events: ['incident.opened', 'incident.acknowledged', 'incident.resolved'],
        },
      ],
    });
    const id = await declare(tenant.keys.ingest, { title: `${uniqueId('pd')} database down`, severity: 'high' });
    await stack.incidentWhen(tenant, id, () => true);
    await stack.call('POST', `/api/incidents/${id}/acknowledge`, tenant.keys.responder, {});
    await stack.incidentWhen(tenant, id, (v) => v.incident.acknowledgedAt !== null);
    await stack.call('POST', `/api/incidents/${id}/resolve`, tenant.keys.responder, { reason: 'failover done' });
    const events = await eventually(async () => {
      const got = target.applied.filter((r) => r.path === '/pd' && (r.body as { dedup_key: string }).dedup_key === `aire-${id}`);
      return got.length >= 3 ? got.map((r) => r.body as { event_action: string; routing_key: string }) : undefined;
    }, 20_000);
    expect(events.map((e) => e.event_action)).toEqual(['trigger', 'acknowledge', 'resolve']);
    expect(events.every((e) => e.routing_key === 'routing-key-123')).toBe(true);
  });
});
