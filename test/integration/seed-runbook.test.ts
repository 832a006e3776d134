import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';

// Seed 000's "Example Runbooks", exactly as printed (test/fixtures/seeds/README.md names the lines).
const fixtureText = (name: string): string => readFileSync(join(__dirname, '../fixtures/seeds', name), 'utf8');
const budgetText = fixtureText('000-budget-overrun.json');
const budget = JSON.parse(budgetText) as Record<string, unknown>;
const critical = JSON.parse(fixtureText('000-critical-failure.json')) as Record<string, unknown>;

interface Problem {
  errors: { path: string; message: string }[];
}
interface Plan {
  matched: boolean;
  gate: { required: boolean };
  steps: { id: string; action: string; params?: Record<string, unknown>; error?: string; gate: { required: boolean } }[];
  wouldRun: boolean;
}

/** Seed 000's runbook format on the real API: posted as printed, dry-run, exported back. */
describe('seed 000 runbook format over the API', () => {
  let stack: Stack;
  let tenant: TestTenant;
  let target: Receiver;

  beforeAll(async () => {
    stack = await Stack.start('seedrunbook');
    target = await new Receiver().start();
    tenant = await stack.tenant('seedrb');
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  test('POST takes the Budget Overrun example as printed; the dry run shows its steps; GET ?format=seed gives it back', async () => {
    const created = await stack.call<{ id: string; version: number; steps: { action: string }[] }>('POST', '/api/runbooks', tenant.keys.admin, budgetText, {
      'content-type': 'application/json',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/runbooks/budget-overrun-response');
    expect(created.body.steps.map((s) => s.action)).toEqual(['notify', 'scale', 'disable_feature']);

    const incident = {
      title: 'Predicted budget_risk: reduce spend',
      severity: 'high',
      source: 'upewe',
      context: { slackWebhookUrl: 'http://127.0.0.1:9/slack', platformUrl: 'http://127.0.0.1:9' },
    };
    const plan = await stack.call<Plan>('POST', '/api/runbooks/budget-overrun-response/test', tenant.keys.viewer, { incident });
    expect(plan.status).toBe(200);
    expect(plan.body.matched).toBe(true);
    expect(plan.body.steps.map((s) => [s.id, s.action, s.params, s.error, s.gate.required])).toEqual([
      ['notify_1', 'notify', { channel: 'slack', message: 'Budget overrun detected', url: 'http://127.0.0.1:9/slack' }, undefined, false],
      ['scale_down_2', 'scale', { url: 'http://127.0.0.1:9/services/ai_workers/capacity', percentOfCurrent: 50 }, undefined, false],
      ['disable_feature_3', 'disable_feature', { flag: 'extended_thinking' }, undefined, true],
    ]);
    expect(plan.body.wouldRun).toBe(true);

    // Without the context the seed leaves to the incident, the dry run says which value is missing.
    const bare = await stack.call<Plan>('POST', '/api/runbooks/budget-overrun-response/test', tenant.keys.viewer, {
      incident: { ...incident, context: {} },
    });
    expect(bare.body.steps[0]!.error).toContain('{{incident.context.slackWebhookUrl}} has no value');
    expect(bare.body.wouldRun).toBe(false);

    const exported = await stack.call('GET', '/api/runbooks/budget-overrun-response?format=seed', tenant.keys.viewer);
    expect(exported.status).toBe(200);
    expect(exported.body).toEqual({ ...budget, id: 'budget-overrun-response', enabled: true });
    // The export posts back as the same runbook: PUT adds a version with the same definition.
    const put = await stack.call<{ version: number }>('PUT', '/api/runbooks/budget-overrun-response', tenant.keys.admin, exported.body);
    expect([put.status, put.body.version]).toEqual([200, 2]);
    const versions = await stack.call<{ items: { definition: unknown }[] }>('GET', '/api/runbooks/budget-overrun-response/versions', tenant.keys.viewer);
    expect(versions.body.items[0]!.definition).toEqual(versions.body.items[1]!.definition);
  });

  test('requiresHsoeApproval gates the runbook through the local approver role', async () => {
    const created = await stack.call<{ requiresApproval: boolean; description: string }>('POST', '/api/runbooks', tenant.keys.admin, critical);
    expect(created.status).toBe(201);
    expect(created.body.requiresApproval).toBe(true);
    expect(created.body.description).toMatch(/HSOE approval is asked through the local approver role/);
    const plan = await stack.call<Plan>('POST', '/api/runbooks/critical-failure-response/test', tenant.keys.viewer, {
      incident: { title: 'API down', severity: 'critical', context: { pagerdutyRoutingKey: 'rk' } },
    });
    expect(plan.body.gate.required).toBe(true);
    expect(plan.body.steps.map((s) => [s.action, s.params?.message ?? s.params?.target])).toEqual([
      ['notify', '[P1] API down'],
      ['block', 'all_workflows'],
    ]);
  });

  test('bad seed input: 400 naming the seed path, nothing stored', async () => {
    const bad = structuredClone(budget);
    const actions = bad.actions as { type: string; order: number; payload: Record<string, unknown> }[];
    actions[1]!.type = 'reboot';
    actions[2]!.order = 1;
    bad.name = 'Bad seed runbook';
    const res = await stack.call<Problem>('POST', '/api/runbooks', tenant.keys.admin, bad);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e) => e.path).sort()).toEqual(['actions[1].type', 'actions[2].order']);
    expect(res.body.errors.find((e) => e.path === 'actions[1].type')!.message).toContain('one of notify, block, scale_down, disable_feature, restart');

    const badPayload = structuredClone(budget);
    badPayload.name = 'Bad seed runbook';
    (badPayload.actions as { payload: Record<string, unknown> }[])[2]!.payload.feature = 'two words';
    const put = await stack.call<Problem>('PUT', '/api/runbooks/bad-seed-runbook', tenant.keys.admin, badPayload);
    expect(put.status).toBe(400);
    expect(put.body.errors.map((e) => e.path)).toEqual(['actions[2].payload.feature']);
    expect((await stack.call('GET', '/api/runbooks/bad-seed-runbook', tenant.keys.viewer)).status).toBe(404);
  });

  test('GET ?format=seed of a runbook the seed format cannot say is 409 naming the step', async () => {
    const native = { id: 'native-http', name: 'native', steps: [{ id: 'call', name: 'call', action: 'http', params: { url: 'http://127.0.0.1:9/x' } }] };
    expect((await stack.call('POST', '/api/runbooks', tenant.keys.admin, native)).status).toBe(201);
    const res = await stack.call<Problem>('GET', '/api/runbooks/native-http?format=seed', tenant.keys.viewer);
    expect(res.status).toBe(409);
    expect(res.body.errors).toEqual([{ path: 'steps[0].action', message: expect.stringContaining('"http" has no seed 000 action type') }]);
    expect((await stack.call('GET', '/api/runbooks/native-http?format=yaml', tenant.keys.viewer)).status).toBe(400);
  });

  test('a UPEWE budget_risk forecast runs the seed runbook: Slack told, ai_workers scaled to half, the feature waits for approval', async () => {
    const other = await stack.tenant('seedrun');
    expect((await stack.call('POST', '/api/runbooks', other.keys.admin, budget)).status).toBe(201);
    target.capacity.set('/services/ai_workers/capacity', 6);
    const fc = await stack.call<{ id: string; severity: string }>('POST', '/api/incident/from-forecast', other.keys.ingest, {
      id: uniqueId('fc'),
      riskType: 'budget_risk',
      confidence: 65,
      recommendedAction: 'reduce spend',
      rawFeatures: { slackWebhookUrl: `${target.url}/slack`, platformUrl: target.url },
    });
    expect([fc.status, fc.body.severity]).toEqual([201, 'high']);
    const view = await stack.incidentWhen(other, fc.body.id, (v) => v.incident.status === 'awaiting_approval');
    expect(view.incident.runbookId).toBe('budget-overrun-response');
    expect(target.capacity.get('/services/ai_workers/capacity')).toBe(3);
    expect(target.paths().filter((p) => p.endsWith('/slack'))).toEqual(['POST /slack']);
  });
});
