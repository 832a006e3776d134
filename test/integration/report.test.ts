import { withTenant } from '../../src/db/pool';
import { ActionItemSchema, ListedActionItemSchema } from '../../src/domain/action-items';
import type { ActionItem, ListedActionItem } from '../../src/domain/action-items';
import { IncidentReportSchema } from '../../src/domain/report';
import type { IncidentReport } from '../../src/domain/report';
import { Receiver } from '../support/receiver';
import { IncidentView, Stack, TestTenant, uniqueId } from '../support/stack';

interface Problem {
  type: string;
  status: number;
  errors?: { path: string; message: string }[];
}

type ListedItem = ListedActionItem;

const seconds = (from: string, to: string): number => Math.round((Date.parse(to) - Date.parse(from)) / 1000);

/**
 * Post-incident reports and action items, on a real incident: a gated runbook run through
 * acknowledge → approve → mitigated → resolve → close by people, then reviewed.
 */
describe('post-incident report and action items', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let other: TestTenant;
  let rb: string;
  let id: string;
  let closed: IncidentView;
  let overdueItem: ActionItem;
  let laterItem: ActionItem;

  beforeAll(async () => {
    stack = await Stack.start('report');
    target = await new Receiver().start();
    tenant = await stack.tenant('report');
    other = await stack.tenant('report-other');
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  async function markdown(
    path: string,
    key: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; type: string; vary: string; text: string }> {
    const res = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } });
    return { status: res.status, type: res.headers.get('content-type') ?? '', vary: res.headers.get('vary') ?? '', text: await res.text() };
  }

  async function expectProblem(res: { status: number; headers: Headers; body: Problem }, status: number, paths: string[] = []): Promise<void> {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    for (const path of paths) expect(res.body.errors?.map((e) => e.path)).toContain(path);
  }

  test('an incident with a gated step runs to closed; the report is a draft until then', async () => {
    rb = uniqueId('report');
    const runbook = {
      id: rb,
      name: rb,
      triggers: { titlePattern: rb },
      steps: [
        { id: 'one', name: 'step one', action: 'http', params: { method: 'POST', url: `${target.url}/${rb}/one` } },
        { id: 'two', name: 'step two', action: 'http', params: { method: 'POST', url: `${target.url}/${rb}/two` }, requiresApproval: true },
      ],
    };
    expect((await stack.call('POST', '/api/runbooks', tenant.keys.admin, runbook)).status).toBe(201);
    const declared = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, {
      title: `${rb} checkout capacity`,
      severity: 'medium',
      category: 'capacity',
      summary: 'checkout ran out of replicas',
      affectedServices: ['checkout', 'payments'],
    });
    expect(declared.status).toBe(201);
    id = declared.body.id;

    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval');
    expect((await stack.call('POST', `/api/incidents/${id}/acknowledge`, tenant.keys.responder, { reason: 'on it' })).status).toBe(200);
    await stack.incidentWhen(tenant, id, (v) => v.incident.acknowledgedAt !== null);
    expect((await stack.call('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, { reason: 'change window open', stepId: 'two' })).status).toBe(200);
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/two`]);

    const draft = await stack.call<IncidentReport>('GET', `/api/incidents/${id}/report`, tenant.keys.viewer);
    expect(draft.status).toBe(200);
    expect(draft.body).toMatchObject({ incidentId: id, status: 'mitigated', final: false, resolvedAt: null });
    expect(draft.body.postMortem.impact.timeToResolve).toBeNull();
    expect(draft.body.postMortem.impact.timeToMitigate?.seconds).toEqual(expect.any(Number));

    expect((await stack.call('POST', `/api/incidents/${id}/resolve`, tenant.keys.responder, { reason: 'traffic normal' })).status).toBe(200);
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'resolved');
    expect((await stack.call('POST', `/api/incidents/${id}/close`, tenant.keys.approver, { reason: 'reviewed' })).status).toBe(200);
    closed = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'closed' && v.actionLog.some((e) => e.kind === 'incident.closed'));

    // No API sets the root-cause hypothesis yet; set it as review would, to see it in the report.
    await stack.admin.query('UPDATE incidents SET root_cause_hypothesis = $2 WHERE id = $1', [id, 'replica count pinned at 2 after the last deploy']);
  });

  test('action items are added by responders and approvers, listed per incident', async () => {
    const first = await stack.call<ActionItem>('POST', `/api/incidents/${id}/action-items`, tenant.keys.responder, {
      title: 'Alert on pinned replica counts',
      owner: 'sre-team',
      dueDate: '2020-01-15',
    });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe(`/api/action-items/${first.body.id}`);
    expect(first.body).toMatchObject({
      incidentId: id,
      title: 'Alert on pinned replica counts',
      owner: 'sre-team',
      dueDate: '2020-01-15',
      status: 'open',
      overdue: true,
      createdBy: 'key:responder-key',
    });
    // Exactly the documented shape: parsing keeps every field and adds none.
    expect(ActionItemSchema.parse(first.body)).toEqual(first.body);
    overdueItem = first.body;

    const second = await stack.call<ActionItem>('POST', `/api/incidents/${id}/action-items`, tenant.keys.approver, {
      title: 'Scale before the noon peak',
      dueDate: '2999-12-31',
    });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ owner: null, dueDate: '2999-12-31', status: 'open', overdue: false, createdBy: 'key:approver-key' });
    laterItem = second.body;

    expect((await stack.call('POST', `/api/incidents/${id}/action-items`, tenant.keys.viewer, { title: 'nope' })).status).toBe(403);
    const listed = await stack.call<{ items: ActionItem[] }>('GET', `/api/incidents/${id}/action-items`, tenant.keys.viewer);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((i) => i.id)).toEqual([overdueItem.id, laterItem.id]);
  });

  test('the JSON report: record fields, what AIRE did, what people did and when, impact, action items', async () => {
    const res = await stack.call<IncidentReport>('GET', `/api/incidents/${id}/report`, tenant.keys.viewer);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const r = res.body;
    expect(IncidentReportSchema.parse(r)).toEqual(r);
    const inc = closed.incident as IncidentView['incident'] & {
      createdAt: string;
      acknowledgedAt: string;
      mitigatedAt: string;
      resolvedAt: string;
      closedAt: string;
    };
    expect(r).toMatchObject({
      incidentId: id,
      title: `${rb} checkout capacity`,
      description: 'checkout ran out of replicas',
      severity: 'medium',
      priority: 'P2',
      type: 'capacity',
      source: 'manual',
      status: 'closed',
      final: true,
      detectedAt: inc.createdAt,
      resolvedAt: inc.resolvedAt,
      closedAt: inc.closedAt,
      affectedServices: ['checkout', 'payments'],
      rootCause: 'replica count pinned at 2 after the last deploy',
      runbook: { id: rb, version: 1 },
    });

    // The approver's identity and the time of the approval, as recorded.
    const approval = closed.approvals[0] as IncidentView['approvals'][number] & { at: string };
    expect(approval).toMatchObject({ stepId: 'two', decision: 'approve', approver: 'key:approver-key' });
    expect(r.postMortem.humanActions).toContainEqual({
      at: approval.at,
      actor: 'key:approver-key',
      action: 'approve',
      kind: 'approval.granted',
      stepId: 'two',
      reason: 'change window open',
      text: 'key:approver-key approved step "step two" (two): change window open',
    });
    expect(r.postMortem.humanActions.map((h) => [h.action, h.actor])).toEqual([
      ['declare', 'key:ingest-key'],
      ['acknowledge', 'key:responder-key'],
      ['assign_role', 'key:responder-key'], // acknowledging made the responder commander
      ['approve', 'key:approver-key'],
      ['resolve', 'key:responder-key'],
      ['close', 'key:approver-key'],
      // Adding the action items, in review: their history is in the audit trail too.
      ['action_item', 'key:responder-key'],
      ['action_item', 'key:approver-key'],
    ]);
    expect(r.postMortem.humanActions.find((h) => h.action === 'acknowledge')?.at).toBe(inc.acknowledgedAt);

    // Both steps ran as AIRE, the second after the approval.
    expect(r.postMortem.automated.map((s) => [s.stepId, s.action, s.status, s.approvedBy])).toEqual([
      ['one', 'http', 'succeeded', null],
      ['two', 'http', 'succeeded', 'key:approver-key'],
    ]);
    const two = r.postMortem.automated[1]!;
    expect(Date.parse(two.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(approval.at));

    // Impact, consistent with the incident's own timestamps.
    const impact = r.postMortem.impact;
    expect(impact).toMatchObject({
      detectedAt: inc.createdAt,
      acknowledgedAt: inc.acknowledgedAt,
      mitigatedAt: inc.mitigatedAt,
      resolvedAt: inc.resolvedAt,
      closedAt: inc.closedAt,
    });
    expect(impact.timeToAcknowledge?.seconds).toBe(seconds(inc.createdAt, inc.acknowledgedAt));
    expect(impact.timeToMitigate?.seconds).toBe(seconds(inc.createdAt, inc.mitigatedAt));
    expect(impact.timeToResolve?.seconds).toBe(seconds(inc.createdAt, inc.resolvedAt));
    expect(impact.timeToClose?.seconds).toBe(seconds(inc.createdAt, inc.closedAt));
    expect(impact.timeToResolve?.human).toEqual(expect.any(String));

    // The timeline is the action log, one readable line per entry, in order; the items were added after the close.
    expect(r.postMortem.timeline.map((t) => t.kind)).toEqual([...closed.actionLog.map((e) => e.kind), 'action_item.added', 'action_item.added']);
    expect(r.postMortem.timeline.map((t) => t.text)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Incident opened by key:ingest-key/),
        `Runbook ${rb} v1 selected`,
        'Step "step one" (one) succeeded',
        'key:approver-key approved step "step two" (two): change window open',
        'key:responder-key resolved the incident: traffic normal',
        'key:approver-key closed the incident: reviewed',
        'key:responder-key added action item "Alert on pinned replica counts" (owner sre-team, dueDate 2020-01-15, priority medium, status open)',
      ]),
    );
    expect(r.actionsTaken).toContainEqual(
      expect.objectContaining({ kind: 'approval.granted', actor: 'key:approver-key', automated: false, timestamp: approval.at }),
    );
    expect(r.actionsTaken).toContainEqual(expect.objectContaining({ kind: 'step.succeeded', stepId: 'one', actor: 'aire', automated: true }));

    expect(r.postMortem.actionItems).toEqual([
      {
        id: overdueItem.id,
        title: 'Alert on pinned replica counts',
        owner: 'sre-team',
        dueDate: '2020-01-15',
        status: 'open',
        priority: 'medium',
        overdue: true,
      },
      { id: laterItem.id, title: 'Scale before the noon peak', owner: null, dueDate: '2999-12-31', status: 'open', priority: 'medium', overdue: false },
    ]);
  });

  test('the Markdown report, by Accept header or ?format=markdown', async () => {
    const byAccept = await markdown(`/api/incidents/${id}/report`, tenant.keys.viewer, { accept: 'text/markdown' });
    expect(byAccept.status).toBe(200);
    expect(byAccept.type).toMatch(/^text\/markdown/);
    expect(byAccept.vary).toMatch(/Accept/i);
    const md = byAccept.text;
    expect(md.split('\n').filter((l) => l.startsWith('#'))).toEqual([
      `# Post-incident report: ${rb} checkout capacity`,
      '## Summary',
      '## Root cause',
      '## Contributing factors',
      '## Impact',
      '## Participants',
      '## Timeline',
      '## What was automated',
      '## What people did',
      '## What went well',
      '## What went badly',
      '## Lessons',
      '## Action items',
    ]);
    expect(md).toContain('| Status | closed (final) |');
    expect(md).toMatch(/^- \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC — key:approver-key approved step "step two" \(two\): change window open$/m);
    expect(md).toMatch(/^- .* UTC — Step "step one" \(one\) succeeded$/m);
    expect(md).toContain('| step two (two) | http | succeeded | 1 |');
    expect(md).toContain('| Alert on pinned replica counts | medium | sre-team | 2020-01-15 **overdue** | open |');
    expect(md).toContain('replica count pinned at 2 after the last deploy');

    const byQuery = await markdown(`/api/incidents/${id}/report?format=markdown`, tenant.keys.viewer);
    expect(byQuery.type).toMatch(/^text\/markdown/);
    expect(byQuery.text.split('\n')[0]).toBe(`# Post-incident report: ${rb} checkout capacity`);

    // JSON stays the default, and ?format=json wins over Accept.
    const plain = await markdown(`/api/incidents/${id}/report`, tenant.keys.viewer, { accept: '*/*' });
    expect(plain.type).toMatch(/^application\/json/);
    const forced = await markdown(`/api/incidents/${id}/report?format=json`, tenant.keys.viewer, { accept: 'text/markdown' });
    expect(forced.type).toMatch(/^application\/json/);
  });

  test('the overdue list is tenant-wide; PATCH assigns, reschedules and closes items', async () => {
    const overdue = await stack.call<{ items: ListedItem[] }>('GET', '/api/action-items?overdue=true', tenant.keys.viewer);
    expect(overdue.status).toBe(200);
    expect(overdue.body.items.map((i) => i.id)).toEqual([overdueItem.id]);
    expect(overdue.body.items[0]!.incident).toEqual({ title: `${rb} checkout capacity`, severity: 'medium', status: 'closed' });
    const all = await stack.call<{ items: ListedItem[] }>('GET', '/api/action-items', tenant.keys.viewer);
    expect(all.body.items.map((i) => i.id)).toEqual([overdueItem.id, laterItem.id]);
    for (const item of all.body.items) expect(ListedActionItemSchema.parse(item)).toEqual(item);

    expect((await stack.call('PATCH', `/api/action-items/${overdueItem.id}`, tenant.keys.viewer, { status: 'done' })).status).toBe(403);
    const started = await stack.call<ActionItem>('PATCH', `/api/action-items/${overdueItem.id}`, tenant.keys.responder, { status: 'in_progress' });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ id: overdueItem.id, status: 'in_progress', overdue: true });
    expect(Date.parse(started.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(overdueItem.updatedAt));

    const done = await stack.call<ActionItem>('PATCH', `/api/action-items/${overdueItem.id}`, tenant.keys.approver, { status: 'done' });
    expect(done.body).toMatchObject({ status: 'done', overdue: false, owner: 'sre-team', dueDate: '2020-01-15' });
    expect((await stack.call<{ items: ListedItem[] }>('GET', '/api/action-items?overdue=true', tenant.keys.viewer)).body.items).toEqual([]);

    const assigned = await stack.call<ActionItem>('PATCH', `/api/action-items/${laterItem.id}`, tenant.keys.responder, {
      owner: 'alice',
      dueDate: '2030-06-01',
    });
    expect(assigned.body).toMatchObject({ owner: 'alice', dueDate: '2030-06-01', status: 'open', title: 'Scale before the noon peak' });
    const unassigned = await stack.call<ActionItem>('PATCH', `/api/action-items/${laterItem.id}`, tenant.keys.responder, { owner: null, dueDate: null });
    expect(unassigned.body).toMatchObject({ owner: null, dueDate: null });

    const report = await stack.call<IncidentReport>('GET', `/api/incidents/${id}/report`, tenant.keys.viewer);
    expect(report.body.postMortem.actionItems.map((i) => [i.id, i.status, i.owner, i.overdue])).toEqual([
      [overdueItem.id, 'done', 'sre-team', false],
      [laterItem.id, 'open', null, false],
    ]);
  });

  test('another tenant sees none of it: 404 on every route, nothing in its lists or in SQL', async () => {
    const k = other.keys;
    await expectProblem(await stack.call<Problem>('GET', `/api/incidents/${id}/report`, k.viewer), 404);
    await expectProblem(await stack.call<Problem>('GET', `/api/incidents/${id}/action-items`, k.viewer), 404);
    await expectProblem(await stack.call<Problem>('POST', `/api/incidents/${id}/action-items`, k.responder, { title: 'sneak in' }), 404);
    await expectProblem(await stack.call<Problem>('PATCH', `/api/action-items/${laterItem.id}`, k.responder, { title: 'hijacked', status: 'done' }), 404);
    expect((await stack.call<{ items: ListedItem[] }>('GET', '/api/action-items', k.viewer)).body.items).toEqual([]);

    const mine = await stack.call<{ items: ActionItem[] }>('GET', `/api/incidents/${id}/action-items`, tenant.keys.viewer);
    expect(mine.body.items.find((i) => i.id === laterItem.id)).toMatchObject({ title: 'Scale before the noon peak', status: 'open' });
    const { rows } = await withTenant(stack.pool, other.id, (c) => c.query('SELECT id FROM action_items'));
    expect(rows).toEqual([]);
    // Row-level security also refuses a row written for another tenant's incident.
    await expect(
      withTenant(stack.pool, other.id, (c) =>
        c.query(`INSERT INTO action_items (tenant_id, incident_id, title, created_by) VALUES ($1, $2, 'x', 'sql')`, [tenant.id, id]),
      ),
    ).rejects.toThrow(/row-level security/);

    await expectProblem(await stack.call<Problem>('GET', `/api/incidents/00000000-0000-4000-8000-000000000000/report`, tenant.keys.viewer), 404);
  });

  test('bad bodies and queries are 400 problem+json naming the field', async () => {
    const post = (body: unknown) => stack.call<Problem>('POST', `/api/incidents/${id}/action-items`, tenant.keys.responder, body);
    const patch = (body: unknown, itemId = laterItem.id) => stack.call<Problem>('PATCH', `/api/action-items/${itemId}`, tenant.keys.responder, body);
    await expectProblem(await post({}), 400, ['title']);
    await expectProblem(await post({ title: '   ' }), 400, ['title']);
    await expectProblem(await post({ title: 'x', dueDate: '2024-02-30' }), 400, ['dueDate']);
    await expectProblem(await post({ title: 'x', dueDate: '15/01/2020' }), 400, ['dueDate']);
    await expectProblem(await post({ title: 'x', status: 'finished', owner: '' }), 400, ['status', 'owner']);
    await expectProblem(await post({ title: 'x', severity: 'high' }), 400, ['(root)']);
    await expectProblem(await post({ title: 'x', priority: 'urgent' }), 400, ['priority']);
    await expectProblem(await patch({}), 400, ['(root)']);
    await expectProblem(await patch({ status: 'closed' }), 400, ['status']);
    await expectProblem(await patch({ dueDate: 20300601 }), 400, ['dueDate']);
    await expectProblem(await patch({ status: 'done' }, 'not-a-uuid'), 400, ['itemId']);
    await expectProblem(await stack.call<Problem>('GET', '/api/action-items?overdue=maybe', tenant.keys.viewer), 400, ['overdue']);
    await expectProblem(await stack.call<Problem>('GET', `/api/incidents/${id}/report?format=pdf`, tenant.keys.viewer), 400, ['format']);
    await expectProblem(await stack.call<Problem>('GET', '/api/incidents/nope/report', tenant.keys.viewer), 400, ['id']);

    // Nothing was written by the refused requests.
    const listed = await stack.call<{ items: ActionItem[] }>('GET', `/api/incidents/${id}/action-items`, tenant.keys.viewer);
    expect(listed.body.items).toHaveLength(2);
    expect(listed.body.items.find((i) => i.id === laterItem.id)?.status).toBe('open');
  });
});
