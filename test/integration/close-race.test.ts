import { Receiver } from '../support/receiver';
import { IncidentView, Stack, TestTenant, eventually, uniqueId } from '../support/stack';

/**
 * An event for a dedup key whose incident is closing (close requested, run not yet ended) opens the
 * next incident and never joins the closed one; the intake's answer names the incident that will
 * process it. The closing run hands the events on to that incident as it ends (docs/architecture.md, Guarantees).
 */
describe('an event that arrives while its incident closes', () => {
  let stack: Stack;
  let target: Receiver;

  beforeAll(async () => {
    [stack, target] = await Promise.all([Stack.start('close-race'), new Receiver().start()]);
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  type Declared = { id: string; created: boolean };
  const declare = (tenant: TestTenant, dedupKey: string, title: string) =>
    stack.call<Declared>('POST', '/api/incidents', tenant.keys.ingest, { title, severity: 'medium', dedupKey });
  /** The kinds of the action log after the first `kind`; none if it is not there. */
  const kindsAfter = (view: IncidentView, kind: string) => {
    const at = view.actionLog.findIndex((e) => e.kind === kind);
    return at < 0 ? [] : view.actionLog.slice(at + 1).map((e) => e.kind);
  };

  test('held open by a slow final notification: the event opens a new incident, whose runbook runs', async () => {
    const rb = uniqueId('closing');
    const tenant = await stack.tenant('closing');
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    // The run cannot end before its notifications are delivered: this channel holds it open.
    target.on('POST', `/${rb}/resolved`, { until: held });
    const settings = { channels: [{ name: 'hold', target: { url: `${target.url}/${rb}/resolved` }, events: ['incident.resolved'] }] };
    expect((await stack.call('PUT', '/api/settings', tenant.keys.admin, settings)).status).toBe(200);
    const runbook = {
      id: rb,
      name: rb,
      triggers: { titlePattern: rb },
      completion: { autoResolve: false },
      steps: [{ id: 'call', name: 'call', action: 'http', params: { method: 'POST', url: `${target.url}/${rb}/step/{{incident.id}}` } }],
    };
    expect((await stack.call('POST', '/api/runbooks', tenant.keys.admin, runbook)).status).toBe(201);
    const key = uniqueId('key');

    const first = await declare(tenant, key, `${rb} first`);
    expect(first.status).toBe(201);
    const old = first.body.id;
    await stack.incidentWhen(tenant, old, (v) => v.incident.status === 'mitigated');
    expect((await stack.call('POST', `/api/incidents/${old}/resolve`, tenant.keys.responder, {})).status).toBe(200);
    await eventually(async () => (target.requests.some((r) => r.path === `/${rb}/resolved`) ? true : undefined));
    expect((await stack.call('POST', `/api/incidents/${old}/close`, tenant.keys.responder, {})).status).toBe(200);
    const { incident } = await stack.incidentWhen(tenant, old, (v) => v.incident.status === 'closed');
    // The row says closed; the run is still waiting for the held notification.
    expect((await stack.temporal.workflow.getHandle(incident.workflowId).describe()).status.name).toBe('RUNNING');

    const next = await declare(tenant, key, `${rb} again`);
    expect(next.status).toBe(201);
    expect(next.body.created).toBe(true);
    expect(next.body.id).not.toBe(old);
    const repeat = await declare(tenant, key, `${rb} and again`);
    expect([repeat.status, repeat.body]).toEqual([200, expect.objectContaining({ id: next.body.id, created: false })]);

    release();
    const opened = await stack.incidentWhen(tenant, next.body.id, (v) => v.incident.status === 'mitigated' && v.incident.occurrences === 2);
    expect(opened.incident.title).toBe(`${rb} again`);
    expect(target.paths(rb)).toContain(`POST /${rb}/step/${next.body.id}`);

    const closed = await stack.incidentWhen(tenant, old, (v) => v.actionLog.some((e) => e.kind === 'incident.succeeded'));
    expect(closed.incident.occurrences).toBe(1);
    expect(kindsAfter(closed, 'incident.closed')).not.toContain('event.joined');
    expect(closed.actionLog.find((e) => e.kind === 'incident.succeeded')?.detail).toMatchObject({ nextIncidentId: next.body.id });
  });

  test('200 rounds of close and re-fire on one key: every event is counted once, by the incident its answer named, before that incident closed', async () => {
    const tenant = await stack.tenant('refire');
    const key = uniqueId('refire');
    const named = new Map<string, number>();
    let current: string | undefined;
    for (let round = 0; round < 200; round += 1) {
      const closing = current;
      const [fired, closed] = await Promise.all([
        declare(tenant, key, `refire ${round}`),
        closing ? stack.call('POST', `/api/incidents/${closing}/close`, tenant.keys.responder, { reason: `round ${round}` }) : undefined,
      ]);
      expect([200, 201]).toContain(fired.status);
      // 409 when the incident named last round had already closed (it took the event before the close).
      if (closed) expect([200, 409]).toContain(closed.status);
      named.set(fired.body.id, (named.get(fired.body.id) ?? 0) + 1);
      current = fired.body.id;
    }
    const { rows } = await stack.admin.query<{ id: string }>('SELECT id FROM incidents WHERE tenant_id = $1', [tenant.id]);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(named.keys()));
    for (const [id, events] of named) {
      const view = await stack.incidentWhen(tenant, id, (v) => v.incident.occurrences === events, 60_000);
      expect(kindsAfter(view, 'incident.closed')).not.toContain('event.joined');
    }
    // At most one incident is still open: the last one.
    const open = await stack.admin.query("SELECT id FROM incidents WHERE tenant_id = $1 AND status <> 'closed'", [tenant.id]);
    expect(open.rows.length).toBeLessThanOrEqual(1);
  }, 600_000);
});
