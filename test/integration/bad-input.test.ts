import { Stack, TestTenant } from '../support/stack';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** Bad input gets a 4xx problem+json naming the field, never a 500, and nothing is written. */
describe('bad input', () => {
  let stack: Stack;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('bad-input', { worker: false, env: { AIRE_BODY_LIMIT: '16kb' } });
    tenant = await stack.tenant('bad');
  });
  afterAll(async () => stack?.stop());

  async function incidentCount(): Promise<number> {
    const { rows } = await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE tenant_id = $1', [tenant.id]);
    return rows[0]!.n;
  }

  async function expectProblem(status: number, res: { status: number; headers: Headers; body: Problem }, paths: string[] = []): Promise<void> {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, title: expect.any(String), type: expect.stringMatching(/^\/problems\//) });
    for (const path of paths) expect(res.body.errors?.map((e) => e.path)).toContain(path);
  }

  const forecast = { id: 'fc-1', riskType: 'disk', confidence: 65, recommendedAction: 'clean up' };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => stack.call<Problem>('POST', path, tenant.keys.admin, body, headers);

  test('malformed JSON', async () => {
    await expectProblem(400, await post('/api/incident/from-forecast', '{"id": "x", ', { 'content-type': 'application/json' }), ['(body)']);
  });

  test('wrong types and out-of-range values name each field', async () => {
    const res = await post('/api/incident/from-forecast', { ...forecast, confidence: '65', riskType: 7 });
    await expectProblem(400, res, ['confidence', 'riskType']);
    await expectProblem(400, await post('/api/incident/from-forecast', { ...forecast, confidence: 101 }), ['confidence']);
    await expectProblem(400, await post('/api/incident/from-forecast', { riskType: 'x' }), ['id', 'confidence', 'recommendedAction']);
    await expectProblem(400, await post('/api/incident/from-event', { id: 'e', source: 'nope', riskScore: 10, outcome: 'x', actionType: 'y' }), ['source']);
  });

  test('unknown severity', async () => {
    await expectProblem(400, await post('/api/incidents', { title: 'x', severity: 'apocalyptic' }), ['severity']);
    await expectProblem(400, await post('/api/incidents', { title: 'x' }), ['severity']);
  });

  test('oversized body', async () => {
    const res = await post('/api/incidents', { title: 'big', severity: 'low', context: { blob: 'x'.repeat(64 * 1024) } });
    await expectProblem(413, res);
  });

  test('a body that is not JSON', async () => {
    await expectProblem(415, await post('/api/incidents', 'title=x', { 'content-type': 'application/x-www-form-urlencoded' }));
  });

  test('bad ids, queries and unknown routes', async () => {
    await expectProblem(400, await stack.call<Problem>('GET', '/api/incidents/not-a-uuid', tenant.keys.viewer), ['id']);
    await expectProblem(400, await stack.call<Problem>('GET', '/api/incidents?limit=0&severity=huge', tenant.keys.viewer), ['limit', 'severity']);
    await expectProblem(400, await stack.call<Problem>('GET', '/api/incidents?cursor=garbage', tenant.keys.viewer), ['cursor']);
    await expectProblem(404, await stack.call<Problem>('GET', '/api/nothing-here', tenant.keys.viewer));
    await expectProblem(404, await stack.call<Problem>('GET', '/api/incidents/5b7c2f4e-7a53-4f5e-9f0a-3d2b8c1e0f11', tenant.keys.viewer));
  });

  test('invalid runbooks are refused with the path of each error', async () => {
    const res = await post('/api/runbooks', {
      id: 'broken',
      name: 'broken',
      steps: [
        { id: 'a', name: 'a', action: 'notify', params: { message: 'hi' } },
        { id: 'a', name: 'dup', action: 'teleport', params: {} },
        { id: 'c', name: 'c', action: 'http', params: { url: '{{steps.zzz.output.url}}' } },
      ],
    });
    await expectProblem(400, res, ['steps[1].id', 'steps[2].params.url']);
    const res2 = await post('/api/runbooks', {
      id: 'broken2',
      name: 'b',
      steps: [
        { id: 'a', name: 'a', action: 'teleport' },
        { id: 'b', name: 'b', action: 'notify', params: { message: 'hi' } },
      ],
    });
    await expectProblem(400, res2, ['steps[0].action', 'steps[1].params.url']);
    await expectProblem(400, await post('/api/runbooks', 'id: [unclosed', { 'content-type': 'application/yaml' }), ['(body)']);
    const { rows } = await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM runbooks WHERE tenant_id = $1', [tenant.id]);
    expect(rows[0]!.n).toBe(0);
  });

  test('after all of that, nothing was written', async () => {
    expect(await incidentCount()).toBe(0);
    const workflows = await stack.temporal.workflow.count(`AireTenant = "${tenant.slug}"`);
    expect(workflows.count).toBe(0);
  });
});
