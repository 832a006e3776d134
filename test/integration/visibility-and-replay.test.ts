import { Worker } from '@temporalio/worker';
import { testDataConverter, testEnv } from '../support/env';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';

/**
 * What engineers rely on in Temporal itself: incidents findable by search attributes, readable
 * workflow ids and summaries, and workflow code that replays its recorded histories deterministically.
 */
describe('Temporal visibility and replay', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  const ids: Record<string, { id: string; workflowId: string }> = {};

  beforeAll(async () => {
    stack = await Stack.start('visibility');
    target = await new Receiver().start();
    tenant = await stack.tenant('vis');
    const rb = uniqueId('vis');
    await stack.call('POST', '/api/runbooks', tenant.keys.admin, {
      id: rb,
      name: rb,
      triggers: { titlePattern: rb },
      steps: [
        { id: 'one', name: 'Call the platform', action: 'http', params: { url: `${target.url}/${rb}/one` } },
        { id: 'two', name: 'Risky change', action: 'http', risk: 'high', params: { url: `${target.url}/${rb}/two` } },
      ],
    });
    for (const severity of ['critical', 'high']) {
      const res = await stack.call<{ id: string; workflowId: string }>('POST', '/api/incidents', tenant.keys.ingest, {
        title: `${rb} ${severity}`,
        severity,
        dedupKey: `${rb}-${severity}`,
      });
      ids[severity] = res.body;
    }
    await stack.incidentWhen(tenant, ids.critical!.id, (v) => v.incident.status === 'awaiting_approval');
    await stack.incidentWhen(tenant, ids.high!.id, (v) => v.incident.status === 'awaiting_approval');
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  test('workflow ids are readable: incident/<tenant>/<dedup key>', () => {
    expect(ids.critical!.workflowId).toBe(`incident/${tenant.slug}/manual:${ids.critical!.workflowId.split(':').pop()}`);
    expect(ids.critical!.workflowId).toMatch(new RegExp(`^incident/${tenant.slug}/manual:vis-[0-9a-f]+-critical$`));
  });

  test('search attributes find exactly the critical incidents awaiting approval', async () => {
    const query = `AireTenant="${tenant.slug}" AND AireSeverity="critical" AND AireStatus="awaiting_approval"`;
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of stack.temporal.workflow.list({ query })) ids.push(wf.workflowId);
      return ids.length > 0 ? ids : undefined;
    });
    expect(found).toEqual([ids.critical!.workflowId]);
    const description = await stack.temporal.workflow.getHandle(ids.critical!.workflowId).describe();
    expect(description.memo).toMatchObject({ incidentId: ids.critical!.id });
    expect(
      description.typedSearchAttributes
        .getAll()
        .map((p) => [p.key.name, p.value])
        .sort(),
    ).toEqual(
      expect.arrayContaining([
        ['AireSeverity', 'critical'],
        ['AireSource', 'manual'],
        ['AireStatus', 'awaiting_approval'],
        ['AireTenant', tenant.slug],
      ]),
    );
  });

  test('recorded histories replay deterministically against the current workflow code', async () => {
    await stack.call('POST', `/api/incidents/${ids.high!.id}/approve`, tenant.keys.approver, { reason: 'go' });
    await stack.incidentWhen(tenant, ids.high!.id, (v) => v.incident.status === 'mitigated');
    await stack.call('POST', `/api/incidents/${ids.high!.id}/rollback`, tenant.keys.approver, {});
    await stack.call('POST', `/api/incidents/${ids.high!.id}/close`, tenant.keys.responder, {});
    await stack.incidentWhen(tenant, ids.high!.id, (v) => v.incident.status === 'closed');
    const handle = stack.temporal.workflow.getHandle(ids.high!.workflowId);
    await handle.result();
    const history = await handle.fetchHistory();
    expect(history.events?.length).toBeGreaterThan(20);
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: { codePath: testEnv().workflowBundlePath }, dataConverter: testDataConverter() },
        history,
        ids.high!.workflowId,
      ),
    ).resolves.toBeUndefined();
  });
});
