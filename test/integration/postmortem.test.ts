import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ActionItem, type ActionItemWithHistory, ActionItemWithHistorySchema } from '../../src/domain/action-items';
import type { IncidentReport } from '../../src/domain/report';
import { SavedPostmortemSchema, type SavedPostmortemView } from '../../src/api/routes/postmortems';
import { withTenant } from '../../src/db/pool';
import { HttpAnswer, Stack, TestTenant, uniqueId } from '../support/stack';

interface Problem {
  detail?: string;
  errors?: { path: string; message: string }[];
}

/**
 * The post-mortem people write, on a real incident (declared, acknowledged and resolved through the
 * API, its workflow on a real worker): the narrative and its status lifecycle, who may move it,
 * the audit trail of every save, the report in JSON and Markdown, and action items with their history.
 */
describe('post-mortem', () => {
  let stack: Stack;
  let tenant: TestTenant;
  let other: TestTenant;
  let id: string;
  let item: ActionItem;

  const put = (body: unknown, key = tenant.keys.responder): Promise<HttpAnswer<SavedPostmortemView & Problem>> =>
    stack.call<SavedPostmortemView & Problem>('PUT', `/api/incidents/${id}/postmortem`, key, body);
  const report = async (): Promise<IncidentReport> => (await stack.call<IncidentReport>('GET', `/api/incidents/${id}/report`, tenant.keys.viewer)).body;
  const saves = async (): Promise<{ actor: string; detail: Record<string, unknown> }[]> =>
    (await stack.incidentWhen(tenant, id, () => true)).actionLog.filter((e) => e.kind === 'postmortem.saved');

  function expectProblem(res: HttpAnswer<Problem>, status: number, path?: string): void {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    if (path) expect(res.body.errors?.map((e) => e.path)).toContain(path);
  }

  beforeAll(async () => {
    stack = await Stack.start('postmortem');
    tenant = await stack.tenant('postmortem');
    other = await stack.tenant('postmortem-other');
    const declared = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: uniqueId('pm checkout down'), severity: 'high' });
    expect(declared.status).toBe(201);
    id = declared.body.id;
    await stack.incidentWhen(tenant, id, (v) => v.actionLog.some((e) => e.kind === 'runbook.none'));
  });
  afterAll(async () => stack?.stop());

  /** `aire ARGS` in a child process, as operators run it (test/integration/cli.test.ts does the same). */
  function aire(args: string[], key: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', ...args],
        { cwd: join(__dirname, '..', '..'), env: { ...process.env, AIRE_API_URL: stack.baseUrl, AIRE_API_KEY: key }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
      );
    });
  }

  test('the draft is written while the incident is open; review waits for the resolution (409 naming status, nothing written)', async () => {
    const first = await put({ contributingFactors: ['replica count pinned by the last deploy'] });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      incidentId: id,
      status: 'draft',
      changed: ['contributingFactors'],
      narrative: { contributingFactors: ['replica count pinned by the last deploy'], wentWell: [], wentBadly: [], lessons: [] },
      updatedBy: 'key:responder-key',
      publishedAt: null,
    });
    // Exactly the documented shape: parsing keeps every field and adds none.
    expect(SavedPostmortemSchema.parse(first.body)).toEqual(first.body);
    const refused = await put({ status: 'in_review', lessons: ['not yet'] });
    expectProblem(refused, 409, 'status');
    expect(refused.body.detail).toMatch(/the incident is open: a post-mortem goes to in_review once the incident is resolved or closed/);
    expect((await report()).postMortem.narrative.lessons).toEqual([]);
    expect((await saves()).length).toBe(1);
    // The same content again changes nothing and records nothing.
    expect((await put({ contributingFactors: ['replica count pinned by the last deploy'] })).body.changed).toEqual([]);
    expect((await saves()).length).toBe(1);
  });

  test('bad input is a 400 naming the field; viewers get 403; another tenant gets 404', async () => {
    expectProblem(await put({ lessons: [''] }), 400, 'lessons[0]');
    expectProblem(await put({ wentWell: 'one string' }), 400, 'wentWell');
    expectProblem(await put({ status: 'approved' }), 400, 'status');
    expectProblem(await put({}), 400);
    expectProblem(await put({ lessons: ['x'], summary: 'not a field' }), 400);
    expectProblem(await put({ lessons: ['x'] }, tenant.keys.viewer), 403);
    expectProblem(await stack.call('PUT', `/api/incidents/${id}/postmortem`, other.keys.responder, { lessons: ['x'] }), 404);
    expectProblem(await stack.call('PUT', '/api/incidents/not-an-id/postmortem', tenant.keys.responder, { lessons: ['x'] }), 400, 'id');
    expect((await saves()).length).toBe(1);
  });

  test("in SQL, the application role acting for another tenant neither sees nor writes this tenant's post-mortem", async () => {
    const asOther = await withTenant(stack.pool, other.id, async (c) => ({
      seen: (await c.query('SELECT 1 FROM postmortems WHERE incident_id = $1', [id])).rowCount,
      updated: (await c.query(`UPDATE postmortems SET lessons = '["sneaky"]' WHERE incident_id = $1`, [id])).rowCount,
    }));
    expect(asOther).toEqual({ seen: 0, updated: 0 });
    await expect(
      withTenant(stack.pool, other.id, (c) => c.query('INSERT INTO postmortems (incident_id, tenant_id) VALUES (gen_random_uuid(), $1)', [tenant.id])),
    ).rejects.toThrow(/row-level security/);
    const asOwner = await withTenant(stack.pool, tenant.id, (c) => c.query('SELECT 1 FROM postmortems WHERE incident_id = $1', [id]));
    expect(asOwner.rowCount).toBe(1);
  });

  test('after the resolution: draft → in_review → published; published is final; an admin reopens it', async () => {
    expect((await stack.call('POST', `/api/incidents/${id}/notes`, tenant.keys.responder, { text: 'failed over to eu-west', key: true })).status).toBe(201);
    expect((await stack.call('POST', `/api/incidents/${id}/acknowledge`, tenant.keys.responder, { reason: 'on it' })).status).toBe(200);
    expect((await stack.call('POST', `/api/incidents/${id}/roles`, tenant.keys.responder, { role: 'scribe', person: 'key:viewer-key' })).status).toBe(200);
    expect((await stack.call('POST', `/api/incidents/${id}/resolve`, tenant.keys.approver, { reason: 'traffic back' })).status).toBe(200);
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'resolved');

    expectProblem(await put({ status: 'published' }), 409, 'status');
    const review = await put({ status: 'in_review', wentWell: ['paged within a minute'], wentBadly: ['no failover runbook'] });
    expect(review.status).toBe(200);
    expect(review.body).toMatchObject({ status: 'in_review', changed: ['wentWell', 'wentBadly', 'status'] });

    // Two saves at once, each of other fields: both land, both are recorded, in order.
    const [a, b] = await Promise.all([
      put({ lessons: ['drill the failover'] }),
      put({ contributingFactors: ['no alert on pinned replicas'] }, tenant.keys.approver),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const both = await report();
    expect(both.postMortem.narrative).toEqual({
      contributingFactors: ['no alert on pinned replicas'],
      wentWell: ['paged within a minute'],
      wentBadly: ['no failover runbook'],
      lessons: ['drill the failover'],
    });

    const published = await put({ status: 'published' }, tenant.keys.approver);
    expect(published.body).toMatchObject({ status: 'published', publishedBy: 'key:approver-key', changed: ['status'] });
    expect(published.body.publishedAt).toEqual(expect.any(String));
    const final = await put({ lessons: ['one more'] });
    expectProblem(final, 409, 'status');
    expect(final.body.detail).toMatch(/published, which is final/);
    expectProblem(await put({ status: 'draft' }, tenant.keys.approver), 409, 'status');
    const reopened = await put({ status: 'draft', lessons: ['drill the failover', 'write the failover runbook'] }, tenant.keys.admin);
    expect(reopened.body).toMatchObject({ status: 'draft', publishedAt: null, publishedBy: null, changed: ['lessons', 'status'] });

    const recorded = (await saves()).map((e) => [e.actor, e.detail.changed, e.detail.from, e.detail.to]);
    expect(recorded.slice(0, 2)).toEqual([
      ['key:responder-key', ['contributingFactors'], 'draft', 'draft'],
      ['key:responder-key', ['wentWell', 'wentBadly', 'status'], 'draft', 'in_review'],
    ]);
    // The concurrent pair, in whichever order the lock gave them.
    expect(recorded.slice(2, 4).sort((x, y) => String(x[0]).localeCompare(String(y[0])))).toEqual([
      ['key:approver-key', ['contributingFactors'], 'in_review', 'in_review'],
      ['key:responder-key', ['lessons'], 'in_review', 'in_review'],
    ]);
    expect(recorded.slice(4)).toEqual([
      ['key:approver-key', ['status'], 'in_review', 'published'],
      ['key:admin-key', ['lessons', 'status'], 'published', 'draft'],
    ]);
  });

  test('action items: priority, blocked, owner, due date, and every change in their history', async () => {
    const added = await stack.call<ActionItem>('POST', `/api/incidents/${id}/action-items`, tenant.keys.responder, {
      title: 'Write the failover runbook',
      priority: 'high',
      dueDate: '2999-01-31',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ priority: 'high', status: 'open', owner: null });
    item = added.body;
    const patch = (body: unknown, key = tenant.keys.responder) => stack.call<ActionItem & Problem>('PATCH', `/api/action-items/${item.id}`, key, body);
    expect((await patch({ status: 'blocked', reason: 'waiting for the new region' })).body).toMatchObject({ status: 'blocked' });
    expect((await patch({ owner: 'sre', priority: 'medium' }, tenant.keys.approver)).body).toMatchObject({ owner: 'sre', priority: 'medium' });
    expect((await patch({ owner: 'sre' })).status).toBe(200); // no change: no history entry
    expectProblem(await patch({ priority: 'urgent' }), 400, 'priority');
    expectProblem(await patch({ reason: 'only a reason' }), 400);

    const got = await stack.call<ActionItemWithHistory>('GET', `/api/action-items/${item.id}`, tenant.keys.viewer);
    expect(got.status).toBe(200);
    expect(ActionItemWithHistorySchema.parse(got.body)).toEqual(got.body);
    expect(got.body).toMatchObject({ id: item.id, status: 'blocked', owner: 'sre', priority: 'medium', dueDate: '2999-01-31' });
    expect(got.body.history.map((h) => [h.kind, h.actor, h.changes, h.reason])).toEqual([
      [
        'added',
        'key:responder-key',
        {
          title: { from: null, to: 'Write the failover runbook' },
          dueDate: { from: null, to: '2999-01-31' },
          priority: { from: null, to: 'high' },
          status: { from: null, to: 'open' },
        },
        null,
      ],
      ['changed', 'key:responder-key', { status: { from: 'open', to: 'blocked' } }, 'waiting for the new region'],
      ['changed', 'key:approver-key', { owner: { from: null, to: 'sre' }, priority: { from: 'high', to: 'medium' } }, null],
    ]);
    expectProblem(await stack.call('GET', `/api/action-items/${item.id}`, other.keys.viewer), 404);
    const listed = await stack.call<{ items: ActionItem[] }>('GET', '/api/action-items?priority=medium&status=blocked', tenant.keys.viewer);
    expect(listed.body.items.map((i) => i.id)).toEqual([item.id]);
  });

  test('the report shows the narrative, status, participants, key notes and the history, in JSON and in Markdown', async () => {
    const r = await report();
    expect(r.postMortem).toMatchObject({
      status: 'draft',
      narrative: { lessons: ['drill the failover', 'write the failover runbook'], wentBadly: ['no failover runbook'] },
      keyNotes: [{ actor: 'key:responder-key', text: 'failed over to eu-west' }],
      actionItems: [{ id: item.id, priority: 'medium', status: 'blocked', owner: 'sre' }],
    });
    // Everyone who acted, with their incident roles (acknowledging made the responder commander), then whoever held a role without acting.
    expect(r.postMortem.participants.map((p) => [p.who, p.roles])).toEqual([
      ['key:ingest-key', []],
      ['key:responder-key', ['commander']],
      ['key:approver-key', []],
      ['key:admin-key', []],
      ['key:viewer-key', ['scribe']],
    ]);
    const texts = r.postMortem.timeline.map((t) => t.text);
    expect(texts).toContain('key:approver-key saved the post-mortem (status): in_review → published');
    expect(texts).toContain('key:responder-key changed action item "Write the failover runbook": status open → blocked: waiting for the new region');

    const res = await fetch(`${stack.baseUrl}/api/incidents/${id}/report?format=markdown`, { headers: { authorization: `Bearer ${tenant.keys.viewer}` } });
    const md = await res.text();
    for (const text of [
      '| Post-mortem | draft |',
      '## Contributing factors\n\n- no alert on pinned replicas',
      '## What went well\n\n- paged within a minute',
      '## What went badly\n\n- no failover runbook',
      '## Lessons\n\n- drill the failover\n- write the failover runbook',
      '## Key notes\n\n- ',
      'key:responder-key: failed over to eu-west',
      '## Participants\n\n- key:ingest-key: 1 action',
      '- key:viewer-key (scribe): no actions',
      '| Write the failover runbook | medium | sre | 2999-01-31 | blocked |',
      'key:admin-key saved the post-mortem (lessons, status): published → draft',
    ])
      expect(md).toContain(text);
  });

  test('the CLI: aire incident postmortem from a file and from flags, aire incident report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aire-pm-'));
    try {
      const file = join(dir, 'postmortem.json');
      writeFileSync(file, JSON.stringify({ wentWell: ['the CLI works'], status: 'in_review' }));
      const fromFile = await aire(['incident', 'postmortem', id, '--file', file, '--lesson', 'one', '--lesson', 'two'], tenant.keys.responder);
      expect(fromFile.code).toBe(0);
      expect(fromFile.stdout).toContain(`post-mortem of incident ${id} saved (wentWell, lessons, status): in_review`);
      expect((await report()).postMortem.narrative).toMatchObject({ wentWell: ['the CLI works'], lessons: ['one', 'two'] });

      const bad = await aire(['incident', 'postmortem', id, '--file', file, '--json'], tenant.keys.viewer);
      expect(bad.code).toBe(2);
      writeFileSync(file, JSON.stringify({ lessons: [''] }));
      const invalid = await aire(['incident', 'postmortem', id, '--file', file], tenant.keys.responder);
      expect([invalid.code, invalid.stderr]).toEqual([2, expect.stringContaining('lessons[0]')]);
      expect((await aire(['incident', 'postmortem', id], tenant.keys.responder)).code).toBe(1);
      expect((await aire(['incident', 'postmortem', id, '--status', 'approved'], tenant.keys.responder)).code).toBe(1);

      const published = await aire(['incident', 'postmortem', id, '--status', 'published'], tenant.keys.approver);
      expect([published.code, published.stdout]).toEqual([0, expect.stringContaining('saved (status): published')]);
      const md = await aire(['incident', 'report', id, '--markdown'], tenant.keys.viewer);
      expect(md.code).toBe(0);
      expect(md.stdout).toContain('## Lessons\n\n- one\n- two');
      expect(md.stdout).toMatch(/\| Post-mortem \| published .* by key:approver-key \|/);
      const summary = await aire(['incident', 'report', id], tenant.keys.viewer);
      expect(summary.stdout).toContain('post-mortem: published');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
