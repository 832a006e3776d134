import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';

/** Runbooks as code: versions pinned per incident, dry runs without side effects, templating between steps. */
describe('runbooks', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('runbooks');
    target = await new Receiver().start();
    tenant = await stack.tenant('rbk');
  });
  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  const declare = async (title: string, extra: Record<string, unknown> = {}) => {
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title, severity: 'medium', ...extra });
    expect(res.status).toBe(201);
    return res.body.id;
  };

  test('PUT adds a version; a running incident keeps the version it started with', async () => {
    const rb = uniqueId('ver');
    const v1 = {
      name: 'v1',
      triggers: { titlePattern: rb },
      steps: [
        { id: 'gate', name: 'wait for a human', action: 'http', requiresApproval: true, params: { url: `${target.url}/${rb}/v1-gate` } },
        { id: 'act', name: 'act', action: 'http', params: { url: `${target.url}/${rb}/v1-act` } },
      ],
    };
    expect((await stack.call('PUT', `/api/runbooks/${rb}`, tenant.keys.admin, v1)).status).toBe(201);
    const id = await declare(`${rb} one`);
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'awaiting_approval');

    const v2 = { ...v1, name: 'v2', steps: [{ id: 'act', name: 'act', action: 'http', params: { url: `${target.url}/${rb}/v2-act` } }] };
    const put = await stack.call<{ version: number }>('PUT', `/api/runbooks/${rb}`, tenant.keys.admin, v2);
    expect([put.status, put.body.version]).toEqual([200, 2]);
    const versions = await stack.call<{ items: { version: number; definition: { name: string } }[] }>(
      'GET',
      `/api/runbooks/${rb}/versions`,
      tenant.keys.viewer,
    );
    expect(versions.body.items.map((v) => [v.version, v.definition.name])).toEqual([
      [2, 'v2'],
      [1, 'v1'],
    ]);

    await stack.call('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, {});
    const view = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(view.incident.runbookVersion).toBe(1);
    expect(target.paths(rb)).toEqual([`POST /${rb}/v1-gate`, `POST /${rb}/v1-act`]);

    const next = await declare(`${rb} two`);
    const second = await stack.incidentWhen(tenant, next, (v) => v.incident.status === 'mitigated');
    expect(second.incident.runbookVersion).toBe(2);
    expect(target.paths(rb)).toEqual([`POST /${rb}/v1-gate`, `POST /${rb}/v1-act`, `POST /${rb}/v2-act`]);
  });

  test('a later step reads an earlier step’s output; undo uses it too', async () => {
    const rb = uniqueId('tpl');
    target.capacity.set(`/${rb}/capacity`, 3);
    await stack.call('PUT', `/api/runbooks/${rb}`, tenant.keys.admin, {
      name: rb,
      triggers: { titlePattern: rb },
      steps: [
        { id: 'scale', name: 'scale', action: 'scale', params: { url: `${target.url}/${rb}/capacity`, replicas: '{{incident.context.replicas}}' } },
        {
          id: 'report',
          name: 'report',
          action: 'notify',
          params: {
            url: `${target.url}/${rb}/hook`,
            message: 'scaled {{incident.context.service}} from {{steps.scale.output.previous}} to {{steps.scale.output.current}}',
          },
        },
      ],
    });
    const id = await declare(`${rb} incident`, { context: { replicas: 9, service: 'search' } });
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.applied.find((r) => r.path === `/${rb}/hook`)?.body).toMatchObject({ message: 'scaled search from 3 to 9' });
  });

  test('a template naming a missing value fails the step with a clear error and sends nothing', async () => {
    const rb = uniqueId('missing');
    await stack.call('PUT', `/api/runbooks/${rb}`, tenant.keys.admin, {
      name: rb,
      triggers: { titlePattern: rb },
      steps: [{ id: 'deploy', name: 'deploy', action: 'http', params: { url: `${target.url}/${rb}/deploy/{{incident.context.commit_sha}}` } }],
    });
    const id = await declare(`${rb} incident`);
    const view = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'failed');
    expect(view.steps[0]).toMatchObject({ status: 'failed', error: 'steps[0].params.url: {{incident.context.commit_sha}} has no value' });
    expect(target.requests.filter((r) => r.path.startsWith(`/${rb}/`))).toHaveLength(0);
  });

  test('a step that times out is retried and applied once by an idempotent target', async () => {
    const rb = uniqueId('timeout');
    target.on('POST', `/${rb}/slow`, { delayMs: 2_500 }, {});
    await stack.call('PUT', `/api/runbooks/${rb}`, tenant.keys.admin, {
      name: rb,
      triggers: { titlePattern: rb },
      steps: [
        {
          id: 'slow',
          name: 'slow',
          action: 'http',
          timeout: '1s',
          retry: { maximumAttempts: 3, initialInterval: '100ms' },
          params: { url: `${target.url}/${rb}/slow` },
        },
      ],
    });
    const id = await declare(`${rb} incident`);
    const view = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    // The first delivery is still being answered when the retry arrives: delivered twice, applied once.
    expect(target.requests.filter((r) => r.path === `/${rb}/slow`).length).toBeGreaterThanOrEqual(2);
    expect(target.paths(rb)).toEqual([`POST /${rb}/slow`]);
    expect(view.actionLog.filter((e) => e.kind === 'step.started').length).toBeGreaterThanOrEqual(2);
  });

  test('a dry run of a restart says it cannot be undone, and restarts nothing', async () => {
    const rb = uniqueId('dry-restart');
    const put = await stack.call('PUT', `/api/runbooks/${rb}`, tenant.keys.admin, {
      name: rb,
      triggers: { titlePattern: rb },
      steps: [
        {
          id: 'restart',
          name: 'restart checkout',
          action: 'restart',
          params: { kind: 'kubernetes', apiUrl: `${target.url}/${rb}`, namespace: '{{incident.labels.namespace}}', name: 'checkout' },
        },
      ],
    });
    expect(put.status).toBe(201);
    const plan = await stack.call<{ wouldRun: boolean; steps: { compensation?: string }[] }>('POST', `/api/runbooks/${rb}/test`, tenant.keys.viewer, {
      incident: { title: `${rb} wedged`, severity: 'medium', labels: { namespace: 'shop' } },
    });
    expect(plan.status).toBe(200);
    expect(plan.body.wouldRun).toBe(true);
    expect(plan.body.steps[0]!.compensation).toBe(
      'nothing: cannot be undone: a restart of deployment shop/checkout stays done (a rollback records that and moves on)',
    );
    expect(target.requests.filter((r) => r.path.startsWith(`/${rb}/`))).toHaveLength(0);
  });

  test('a dry run says whether it matches, what would run and wait, with rendered parameters, and touches nothing', async () => {
    const rb = uniqueId('dry');
    await stack.call('PUT', `/api/runbooks/${rb}`, tenant.keys.admin, {
      name: rb,
      triggers: { titlePattern: rb, minSeverity: 'high' },
      steps: [
        { id: 'scale', name: 'scale', action: 'scale', params: { url: `${target.url}/${rb}/capacity`, replicas: '{{incident.context.replicas}}' } },
        {
          id: 'undo',
          name: 'report',
          action: 'notify',
          risk: 'high',
          params: { url: `${target.url}/${rb}/hook`, message: 'was {{steps.scale.output.previous}}' },
        },
      ],
    });
    const incidentsBefore = (await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE tenant_id = $1', [tenant.id])).rows[0]!.n;

    const plan = await stack.call<Record<string, unknown>>('POST', `/api/runbooks/${rb}/test`, tenant.keys.viewer, {
      incident: { title: `${rb} in prod`, severity: 'critical', context: { replicas: 12 } },
    });
    expect(plan.status).toBe(200);
    expect(plan.body).toMatchObject({
      runbook: { id: rb, version: 1 },
      matched: true,
      wouldRun: true,
      gate: { required: true, reasons: ['critical incidents always need a human approval'] },
      steps: [
        {
          id: 'scale',
          params: { url: `${target.url}/${rb}/capacity`, replicas: 12 },
          gate: { required: false },
          compensation: expect.stringContaining('back to the capacity'),
        },
        { id: 'undo', params: { message: 'was {{steps.scale.output.previous}}' }, gate: { required: true, reasons: [expect.stringMatching(/risk high/)] } },
      ],
    });

    const miss = await stack.call<{ matched: boolean; matchReasons: string[]; steps: { error?: string }[]; wouldRun: boolean }>(
      'POST',
      `/api/runbooks/${rb}/test`,
      tenant.keys.viewer,
      {
        incident: { title: `${rb} in prod`, severity: 'low' },
      },
    );
    expect(miss.body.matched).toBe(false);
    expect(miss.body.matchReasons).toEqual(['severity low is below at least high']);
    expect(miss.body.wouldRun).toBe(false);
    expect(miss.body.steps[0]!.error).toBe('steps[0].params.replicas: {{incident.context.replicas}} has no value');

    expect((await stack.call('POST', `/api/runbooks/${rb}/test`, tenant.keys.viewer, { incident: { title: 'x' } })).status).toBe(400);
    expect((await stack.call('POST', `/api/runbooks/nope/test`, tenant.keys.viewer, { incident: { title: 'x', severity: 'low' } })).status).toBe(404);

    expect(target.requests.filter((r) => r.path.startsWith(`/${rb}/`))).toHaveLength(0);
    const incidentsAfter = (await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE tenant_id = $1', [tenant.id])).rows[0]!.n;
    expect(incidentsAfter).toBe(incidentsBefore);
  });
});
