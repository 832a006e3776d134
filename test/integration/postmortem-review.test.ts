import { insertTestIncident } from '../support/incidents';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';
import { type PostmortemReviewInput, type PostmortemReviewResult, postmortemReviewWorkflowId } from '../../src/domain/postmortem-review';
import type { IncidentReport } from '../../src/domain/report';

const DAY_MS = 86_400_000;

/**
 * The post-mortem review reminder on real Temporal and PostgreSQL: postmortemReviewWorkflow started
 * the way the incident workflow starts it at resolution, with a resolution time chosen so the review
 * date (`postmortemReviewAfterDays` later) is seconds away. Channels are webhooks to a receiver on 127.0.0.1.
 */
describe('post-mortem review reminder', () => {
  let stack: Stack;
  let receiver: Receiver;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('pm-review');
    receiver = await new Receiver().start();
    tenant = await stack.tenant('pm-review');
    const settings = await stack.call('PUT', '/api/settings', tenant.keys.admin, {
      postmortemReviewAfterDays: 2,
      channels: [
        // Subscribes to the reminder: reminded.
        { name: 'reviews', target: { channel: 'webhook', url: `${receiver.url}/reviews` }, events: ['postmortem.review_due'] },
        // Every incident event but no explicit subscription: a reminder must not page it.
        { name: 'oncall', target: { channel: 'webhook', url: `${receiver.url}/oncall` } },
        // Subscribes, but only for critical incidents.
        { name: 'exec', target: { channel: 'webhook', url: `${receiver.url}/exec` }, events: ['postmortem.review_due'], minSeverity: 'critical' },
      ],
    });
    expect(settings.status).toBe(200);
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  /** A high incident resolved so that its review falls due in `inMs`. */
  async function resolvedIncident(inMs: number, severity = 'high'): Promise<{ id: string; input: PostmortemReviewInput }> {
    const title = uniqueId('pm review');
    const id = await insertTestIncident(stack.admin, tenant.id, { severity, title });
    await stack.admin.query(`UPDATE incidents SET status = 'resolved', resolved_at = now() WHERE id = $1`, [id]);
    const resolvedAt = new Date(Date.now() - 2 * DAY_MS + inMs).toISOString();
    return { id, input: { tenantId: tenant.id, incidentId: id, resolvedAt, incident: { title, severity: severity as 'high', source: 'manual' } } };
  }

  function start(input: PostmortemReviewInput) {
    return stack.temporal.workflow.start('postmortemReviewWorkflow', {
      taskQueue: stack.config.AIRE_TASK_QUEUE,
      workflowId: postmortemReviewWorkflowId(input.tenantId, input.incidentId),
      args: [input],
    });
  }

  const report = async (id: string): Promise<IncidentReport> =>
    (await stack.call<IncidentReport>('GET', `/api/incidents/${id}/report`, tenant.keys.viewer)).body;
  const bodies = (path: string, id: string) =>
    receiver.requests
      .filter((r) => r.path === path && (r.body as { incident?: { id?: string } }).incident?.id === id)
      .map((r) => r.body as Record<string, unknown>);

  test('the review date is recorded at once; on the day, the subscribing channels are reminded, once', async () => {
    const { id, input } = await resolvedIncident(4_000);
    const handle = await start(input);
    const expectedDue = new Date(Date.parse(input.resolvedAt) + 2 * DAY_MS).toISOString();

    const scheduled = await eventually(async () => {
      const r = await report(id);
      return r.postMortem.review.dueAt ? r : undefined;
    }, 10_000);
    expect(scheduled.postMortem.review).toEqual({ dueAt: expectedDue, remindedAt: null });
    expect(bodies('/reviews', id)).toEqual([]);

    const result = (await handle.result()) as PostmortemReviewResult;
    expect(result).toEqual({ reviewDueAt: expectedDue, outcome: 'reminded', reminded: ['reviews'] });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expectedDue));
    const sent = bodies('/reviews', id);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'aire.notification', stepId: 'notify:postmortem.review_due', incident: { id, severity: 'high' } });
    expect(String(sent[0]!.message)).toContain(`Post-mortem review due: "${input.incident.title}" (high)`);
    expect(String(sent[0]!.message)).toContain(`PUT /api/incidents/${id}/postmortem`);
    expect(bodies('/oncall', id)).toEqual([]);
    expect(bodies('/exec', id)).toEqual([]);

    const after = await report(id);
    expect(after.postMortem.review.remindedAt).toEqual(expect.any(String));
    const texts = after.postMortem.timeline.filter((t) => t.actor === 'aire').map((t) => t.text);
    expect(texts).toEqual([
      `Post-mortem review scheduled for ${expectedDue}`,
      'Notified reviews (postmortem.review_due)',
      'Post-mortem review due: reminded reviews',
    ]);
  });

  test('a post-mortem published before the date is not reminded about', async () => {
    const { id, input } = await resolvedIncident(3_000);
    const handle = await start(input);
    for (const body of [{ status: 'in_review', lessons: ['done early'] }, { status: 'published' }])
      expect((await stack.call('PUT', `/api/incidents/${id}/postmortem`, tenant.keys.approver, body)).status).toBe(200);
    expect(await handle.result()).toMatchObject({ outcome: 'already-published', reminded: [] });
    expect(bodies('/reviews', id)).toEqual([]);
    const r = await report(id);
    expect(r.postMortem).toMatchObject({ status: 'published', review: { remindedAt: null } });
    expect(r.postMortem.review.dueAt).toEqual(expect.any(String));
  });

  test('a medium incident gets no review date; a date already past reminds at once', async () => {
    const medium = await resolvedIncident(3_000, 'medium');
    expect(await (await start(medium.input)).result()).toEqual({ reviewDueAt: null, outcome: 'not-reviewed', reminded: [] });
    expect((await report(medium.id)).postMortem.review.dueAt).toBeNull();

    const late = await resolvedIncident(-DAY_MS);
    const began = Date.now();
    expect(await (await start(late.input)).result()).toMatchObject({ outcome: 'reminded', reminded: ['reviews'] });
    expect(Date.now() - began).toBeLessThan(15_000);
    expect(bodies('/reviews', late.id)).toHaveLength(1);
  });
});
