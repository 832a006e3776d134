import { Stack, TestTenant, uniqueId } from '../support/stack';

/** Classification from history, a first hypothesis from the data, and runbooks suggested by relevance. */
describe('incident analysis', () => {
  let stack: Stack;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('analysis');
    tenant = await stack.tenant('analysis');
  });
  afterAll(async () => stack?.stop());

  test('more than 3 related incidents in 24 h raise severity one level, counted from the database', async () => {
    const category = uniqueId('disk');
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await stack.call<{ id: string; severity: string }>('POST', '/api/incidents', tenant.keys.ingest, {
        title: `volume full ${i}`,
        severity: 'low',
        category,
      });
      ids.push(res.body.id);
      await stack.incidentWhen(tenant, res.body.id, () => true);
      expect([i, res.body.severity]).toEqual([i, i < 4 ? 'low' : 'medium']);
    }
    const view = await stack.incidentWhen(tenant, ids[4]!, () => true);
    expect(view.incident.severityReasons).toEqual(['declared low', '4 related incidents in 24 h: raised from low to medium']);
  });

  test('a root-cause hypothesis from the event features, and runbook suggestions ranked by relevance', async () => {
    for (const [id, name, description] of [
      ['disk-cleanup', 'Free disk space', 'Rotate logs and remove old snapshots when a volume fills up'],
      ['cpu-scale', 'Scale out on CPU saturation', 'Add replicas when CPU stays high'],
      ['auth-lockdown', 'Brute force lockdown', 'Block source addresses after failed logins'],
    ]) {
      await stack.call('PUT', `/api/runbooks/${id}`, tenant.keys.admin, {
        name,
        description,
        triggers: { titlePattern: 'never-matches-anything' },
        steps: [{ id: 'wait', name, action: 'wait', params: { duration: '1ms' } }],
      });
    }
    const res = await stack.call<{ id: string }>('POST', '/api/incident/from-forecast', tenant.keys.ingest, {
      id: uniqueId('fc'),
      riskType: 'CPU saturation',
      confidence: 45,
      recommendedAction: 'add replicas',
      rawFeatures: { cpu_utilization: 0.97, error_rate: 0.12, region: 'eu-west-1' },
    });
    const view = await stack.incidentWhen(tenant, res.body.id, (v) => (v.incident.suggestions as unknown[]).length > 0);
    expect(view.incident.rootCauseHypothesis).toBe(
      "Likely CPU saturation (cpu_utilization=0.97); or a rising error rate (error_rate=0.12), from the incident's own data.",
    );
    expect((view.incident.suggestions as { runbookId: string }[])[0]!.runbookId).toBe('cpu-scale');
    expect(view.incident.runbookId).toBeNull();
  });
});
