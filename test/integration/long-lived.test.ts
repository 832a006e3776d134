import { addEventSignal } from '../../src/workflows/definitions';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';

/** An incident that lives long and collects many events keeps a bounded history and loses nothing. */
describe('long-lived incidents', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('long-lived');
    target = await new Receiver().start();
    tenant = await stack.tenant('long');
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  test('5,000 joined events: continue-as-new keeps the history bounded, and state, rollback and dedup survive it', async () => {
    const rb = uniqueId('long');
    const step = (id: string) => ({
      id,
      name: id,
      action: 'http',
      params: { url: `${target.url}/${rb}/${id}`, compensate: { method: 'POST', url: `${target.url}/${rb}/undo-${id}` } },
    });
    await stack.call('POST', '/api/runbooks', tenant.keys.admin, { id: rb, name: rb, triggers: { titlePattern: rb }, steps: [step('one'), step('two')] });
    const dedupKey = uniqueId('noisy');
    const opened = await stack.call<{ id: string; workflowId: string }>('POST', '/api/incidents', tenant.keys.ingest, {
      title: `${rb} noisy`,
      severity: 'low',
      dedupKey,
    });
    const { id, workflowId } = opened.body;
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    await stack.call('POST', `/api/incidents/${id}/acknowledge`, tenant.keys.responder, {});

    const handle = stack.temporal.workflow.getHandle(workflowId);
    const firstRunId = (await handle.describe()).runId;
    const total = 5_000;
    for (let start = 0; start < total; start += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          handle.signal(addEventSignal, { eventId: `${dedupKey}-${start + i}`, at: new Date().toISOString(), summary: 'again' }),
        ),
      );
    }

    const view = await stack.incidentWhen(
      tenant,
      id,
      (v) => v.incident.occurrences === total + 1 && v.actionLog.some((e) => e.kind === 'history.continued'),
      240_000,
    );
    const current = await handle.describe();
    expect(current.runId).not.toBe(firstRunId);
    expect(current.memo).toMatchObject({ incidentId: id });
    expect(current.historyLength).toBeLessThan(4_096);
    await eventually(async () =>
      (await stack.call<{ live: { occurrences: number } | null }>('GET', `/api/incidents/${id}`, tenant.keys.viewer)).body.live?.occurrences === total + 1
        ? true
        : undefined,
    );
    expect(view.incident.status).toBe('mitigated');

    // A duplicate through the API still joins the same incident.
    const joined = await stack.call<{ id: string; created: boolean }>('POST', '/api/incidents', tenant.keys.ingest, {
      title: `${rb} noisy`,
      severity: 'low',
      dedupKey,
    });
    expect(joined.body).toMatchObject({ id, created: false });

    // What ran before the new history is still known: rollback undoes it, once, newest first.
    expect((await stack.call('POST', `/api/incidents/${id}/rollback`, tenant.keys.approver, { reason: 'after a long day' })).status).toBe(200);
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'rolled_back', 60_000);
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/two`, `POST /${rb}/undo-two`, `POST /${rb}/undo-one`]);
    await stack.call('POST', `/api/incidents/${id}/close`, tenant.keys.responder, {});
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'closed');
    const rows = await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE tenant_id = $1', [tenant.id]);
    expect(rows.rows[0]!.n).toBe(1);
    // 5,000 signals take a while on a 2-core machine; the default two minutes are too tight under load.
  }, 360_000);
});
