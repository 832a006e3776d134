import { AddressInfo } from 'node:net';
import { startMetricsServer, stepAttemptFailures, stepDuration } from '../../src/metrics';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, testConfig, uniqueId } from '../support/stack';

interface Sla {
  slaSeconds: number;
  met: number;
  breached: number;
  pending: number;
  compliance: number | null;
}

interface Summary {
  window: { duration: string; from: string; to: string; seconds: number };
  incidents: number;
  mttaSeconds: number | null;
  mttrSeconds: number | null;
  mtbfSeconds: number | null;
  slaBySeverity: Record<string, Sla>;
  byStatus: Record<string, number>;
  bySeverity: Record<string, number>;
  bySource: Record<string, number>;
}

/**
 * Operator metrics end to end: incidents opened, acknowledged and resolved through the API on real
 * Temporal and PostgreSQL, then the tenant's summary (MTTA, MTTR, MTBF, SLA, counts) and the
 * Prometheus exposition. The Stack's worker runs in this process, so its step metrics land in the
 * same registry the API serves at /metrics.
 */
describe('metrics', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let quiet: TestTenant;
  let slaTenant: TestTenant;
  const ids: Record<string, string> = {};
  const okRunbook = uniqueId('metrics-ok');
  const badRunbook = uniqueId('metrics-bad');

  async function forecast(riskType: string, confidence: number, id = uniqueId('fc')) {
    return stack.call<{ id: string; created: boolean; severity: string }>('POST', '/api/incident/from-forecast', tenant.keys.ingest, {
      id,
      riskType,
      confidence,
      recommendedAction: 'scale out',
    });
  }

  async function summary(who: TestTenant, window?: string): Promise<Summary> {
    const res = await stack.call<Summary>('GET', `/api/metrics/summary${window ? `?window=${window}` : ''}`, who.keys.viewer);
    expect(res.status).toBe(200);
    return res.body;
  }

  async function signal(who: TestTenant, id: string, action: 'acknowledge' | 'resolve') {
    const res = await stack.call('POST', `/api/incidents/${id}/${action}`, who.keys.responder, { reason: 'metrics test' });
    expect(res.status).toBe(200);
  }

  /** Means over the tenant's incidents, computed from the rows themselves as the schema owner. */
  async function fromDb(tenantId: string, window: string) {
    const { rows } = await stack.admin.query<{ n: number; mtta: number | null; mttr: number | null; mtbf: number | null }>(
      `SELECT count(*)::int AS n,
              avg(EXTRACT(EPOCH FROM acknowledged_at - created_at))::float8 AS mtta,
              avg(EXTRACT(EPOCH FROM resolved_at - created_at))::float8 AS mttr,
              CASE WHEN count(*) > 1 THEN (EXTRACT(EPOCH FROM max(created_at) - min(created_at)) / (count(*) - 1))::float8 END AS mtbf
         FROM incidents WHERE tenant_id = $1 AND created_at >= now() - $2::interval`,
      [tenantId, window],
    );
    return rows[0]!;
  }

  beforeAll(async () => {
    stack = await Stack.start('metrics');
    target = await new Receiver().start();
    [tenant, quiet, slaTenant] = [await stack.tenant('metrics'), await stack.tenant('quiet'), await stack.tenant('sla')];
    target.on('POST', `/${badRunbook}/deploy`, { status: 503 });
    for (const [id, path, retry] of [
      [okRunbook, 'ping', { maximumAttempts: 1 }],
      [badRunbook, 'deploy', { maximumAttempts: 2, initialInterval: '100ms' }],
    ] as const) {
      const res = await stack.call('PUT', `/api/runbooks/${id}`, tenant.keys.admin, {
        id,
        name: id,
        triggers: { sources: ['upewe'], titlePattern: id },
        completion: { autoResolve: false },
        steps: [{ id: 'call', name: 'Call the platform', action: 'http', params: { method: 'POST', url: `${target.url}/${id}/${path}` }, retry }],
      });
      expect(res.status).toBe(201);
    }

    // Two high forecasts whose http step succeeds: A gets acknowledged and resolved, B acknowledged only.
    const fcA = uniqueId('fc');
    const a = await forecast(`capacity ${okRunbook}`, 65, fcA);
    const b = await forecast(`capacity ${okRunbook}`, 65);
    // C: medium, no runbook matches, stays open. E: medium, its http step fails twice and aborts.
    const c = await forecast('disk pressure', 45);
    const e = await forecast(`deploy ${badRunbook}`, 55);
    for (const [name, res, severity] of [
      ['a', a, 'high'],
      ['b', b, 'high'],
      ['c', c, 'medium'],
      ['e', e, 'medium'],
    ] as const) {
      expect([name, res.status, res.body.severity]).toEqual([name, 201, severity]);
      ids[name] = res.body.id;
    }
    // D: a low safety event from ASRS.
    const d = await stack.call<{ id: string }>('POST', '/api/incident/from-event', tenant.keys.ingest, {
      id: uniqueId('ev'),
      source: 'asrs',
      riskScore: 30,
      outcome: 'near miss',
      actionType: 'manual override',
    });
    expect(d.status).toBe(201);
    ids.d = d.body.id;
    // The same forecast again joins A; a bad one and one without a key are rejected. None opens an incident.
    expect((await forecast(`capacity ${okRunbook}`, 65, fcA)).status).toBe(200);
    expect((await forecast(`capacity ${okRunbook}`, 165)).status).toBe(400);
    expect((await stack.call('POST', '/api/incident/from-forecast', undefined, { id: 'x' })).status).toBe(401);

    await stack.incidentWhen(tenant, ids.a!, (v) => v.incident.status === 'mitigated');
    await stack.incidentWhen(tenant, ids.b!, (v) => v.incident.status === 'mitigated');
    await stack.incidentWhen(tenant, ids.e!, (v) => v.incident.status === 'failed');
    await signal(tenant, ids.a!, 'acknowledge');
    await signal(tenant, ids.b!, 'acknowledge');
    await stack.incidentWhen(tenant, ids.b!, (v) => v.incident.acknowledgedAt !== null);
    await stack.incidentWhen(tenant, ids.a!, (v) => v.incident.acknowledgedAt !== null);
    await signal(tenant, ids.a!, 'resolve');
    await stack.incidentWhen(tenant, ids.a!, (v) => v.incident.status === 'resolved');
  });

  afterAll(async () => {
    await stack?.stop();
    await target?.stop();
  });

  test('the summary counts the tenant incidents by status, severity and source, exactly', async () => {
    const s = await summary(tenant);
    expect(s.window).toMatchObject({ duration: '7d', seconds: 7 * 86_400 });
    expect(Date.parse(s.window.to) - Date.parse(s.window.from)).toBe(7 * 86_400_000);
    expect(s.incidents).toBe(5);
    expect(s.byStatus).toMatchObject({ resolved: 1, mitigated: 1, open: 2, failed: 1, acknowledged: 0, closed: 0 });
    expect(s.bySeverity).toEqual({ critical: 0, high: 2, medium: 2, low: 1, info: 0 });
    expect(s.bySource).toMatchObject({ upewe: 4, asrs: 1, mcse: 0, manual: 0 });
  });

  test('MTTA, MTTR and MTBF are positive and agree with the timestamps in the database', async () => {
    const s = await summary(tenant);
    const db = await fromDb(tenant.id, '7 days');
    expect(db.n).toBe(5);
    expect(s.mttaSeconds).toBeGreaterThan(0);
    expect(s.mttrSeconds).toBeGreaterThan(0);
    expect(s.mtbfSeconds).toBeGreaterThan(0);
    expect(s.mttaSeconds).toBeCloseTo(db.mtta as number, 3);
    expect(s.mttrSeconds).toBeCloseTo(db.mttr as number, 3);
    expect(s.mtbfSeconds).toBeCloseTo(db.mtbf as number, 3);
    // Only A is resolved, so MTTR is A's time to resolve, which came after its acknowledgement.
    const { rows } = await stack.admin.query<{ ack: number; res: number }>(
      `SELECT EXTRACT(EPOCH FROM acknowledged_at - created_at)::float8 AS ack, EXTRACT(EPOCH FROM resolved_at - created_at)::float8 AS res
         FROM incidents WHERE id = $1`,
      [ids.a],
    );
    expect(s.mttrSeconds).toBeCloseTo(rows[0]!.res, 3);
    expect(rows[0]!.res).toBeGreaterThan(rows[0]!.ack);
  });

  test('SLA compliance: acknowledged in time is met; incidents not acknowledged and still within their SLA are not judged', async () => {
    const s = await summary(tenant);
    expect(s.slaBySeverity.high).toEqual({ slaSeconds: 3_600, met: 2, breached: 0, pending: 0, compliance: 1 });
    expect(s.slaBySeverity.medium).toEqual({ slaSeconds: 14_400, met: 0, breached: 0, pending: 2, compliance: null });
    expect(s.slaBySeverity.low).toEqual({ slaSeconds: 86_400, met: 0, breached: 0, pending: 1, compliance: null });
    expect(s.slaBySeverity.critical).toEqual({ slaSeconds: 900, met: 0, breached: 0, pending: 0, compliance: null });
  });

  test('late acknowledgements and unacknowledged incidents past their SLA are breaches; the window bounds what counts', async () => {
    const declare = async (severity: string, ageSql: string | null): Promise<string> => {
      const res = await stack.call<{ id: string }>('POST', '/api/incidents', slaTenant.keys.ingest, { title: uniqueId('sla'), severity });
      expect(res.status).toBe(201);
      // Backdated as the schema owner, as if the incident had been opened that long ago.
      if (ageSql) await stack.admin.query(`UPDATE incidents SET created_at = now() - $2::interval WHERE id = $1`, [res.body.id, ageSql]);
      return res.body.id;
    };
    const lateAck = await declare('medium', '5 hours');
    await declare('medium', '5 hours'); // never acknowledged: past the 4 h SLA
    await declare('medium', null); // never acknowledged, still within it
    const quickAck = await declare('high', '30 minutes');
    await declare('low', '8 days'); // outside a 7-day window
    for (const id of [lateAck, quickAck]) {
      await signal(slaTenant, id, 'acknowledge');
      await stack.incidentWhen(slaTenant, id, (v) => v.incident.acknowledgedAt !== null);
    }

    const week = await summary(slaTenant, '7d');
    expect(week.incidents).toBe(4);
    expect(week.bySource).toMatchObject({ manual: 4, upewe: 0 });
    expect(week.slaBySeverity.medium).toEqual({ slaSeconds: 14_400, met: 0, breached: 2, pending: 1, compliance: 0 });
    expect(week.slaBySeverity.high).toEqual({ slaSeconds: 3_600, met: 1, breached: 0, pending: 0, compliance: 1 });
    expect(week.slaBySeverity.low).toMatchObject({ met: 0, breached: 0, pending: 0, compliance: null });
    const db = await fromDb(slaTenant.id, '7 days');
    expect(week.mttaSeconds).toBeCloseTo(db.mtta as number, 3);
    expect(week.mttaSeconds).toBeGreaterThan((5 * 3_600 + 30 * 60) / 2 - 60);
    expect(week.mtbfSeconds).toBeCloseTo(db.mtbf as number, 3);
    expect(week.mttrSeconds).toBeNull();

    const month = await summary(slaTenant, '30d');
    expect(month.incidents).toBe(5);
    expect(month.slaBySeverity.low).toEqual({ slaSeconds: 86_400, met: 0, breached: 1, pending: 0, compliance: 0 });
    expect(month.mtbfSeconds).toBeCloseTo((await fromDb(slaTenant.id, '30 days')).mtbf as number, 3);

    const hour = await summary(slaTenant, '1h');
    expect(hour.incidents).toBe(2);
    expect(hour.bySeverity).toMatchObject({ medium: 1, high: 1, low: 0 });
  });

  test('another tenant sees none of it: zero counts and no means', async () => {
    const s = await summary(quiet, '30d');
    expect(s.incidents).toBe(0);
    expect([s.mttaSeconds, s.mttrSeconds, s.mtbfSeconds]).toEqual([null, null, null]);
    expect(Object.values(s.byStatus).every((n) => n === 0)).toBe(true);
    expect(Object.values(s.bySeverity).every((n) => n === 0)).toBe(true);
    expect(Object.values(s.bySource).every((n) => n === 0)).toBe(true);
    expect(Object.values(s.slaBySeverity).every((x) => x.met + x.breached + x.pending === 0 && x.compliance === null)).toBe(true);
  });

  test('a bad window is a 400 problem naming `window`; unknown parameters and non-readers are refused', async () => {
    for (const window of ['banana', '7', '0d', '-1d', '400d', '7d%20x']) {
      const res = await stack.call<{ errors: { path: string; message: string }[] }>('GET', `/api/metrics/summary?window=${window}`, tenant.keys.viewer);
      expect([window, res.status]).toEqual([window, 400]);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body.errors.map((e) => e.path)).toEqual(['window']);
    }
    const unknown = await stack.call<{ errors: { path: string }[] }>('GET', '/api/metrics/summary?since=yesterday', tenant.keys.viewer);
    expect(unknown.status).toBe(400);
    expect((await stack.call('GET', '/api/metrics/summary', tenant.keys.ingest)).status).toBe(403);
    expect((await stack.call('GET', '/api/metrics/summary', undefined)).status).toBe(401);
  });

  test('the worker times each step attempt by action and outcome, and counts failed attempts', async () => {
    const counts = (await stepDuration.get()).values.filter((v) => v.metricName === 'aire_step_duration_seconds_count');
    const count = (outcome: string) => counts.find((v) => v.labels.action === 'http' && v.labels.outcome === outcome)?.value;
    expect(count('succeeded')).toBe(2);
    expect(count('failed')).toBe(2);
    const failures = (await stepAttemptFailures.get()).values.find((v) => v.labels.action === 'http');
    expect(failures?.value).toBe(2);
  });

  test('the worker serves the same registry on its own port (AIRE_WORKER_METRICS_PORT, default 9464, 0 = off)', async () => {
    expect(testConfig('tq-unused').AIRE_WORKER_METRICS_PORT).toBe(9464);
    expect(testConfig('tq-unused', { AIRE_WORKER_METRICS_PORT: '0' }).AIRE_WORKER_METRICS_PORT).toBe(0);
    expect(() => testConfig('tq-unused', { AIRE_WORKER_METRICS_PORT: 'x' })).toThrow(/AIRE_WORKER_METRICS_PORT/);
    const server = await startMetricsServer(0, '127.0.0.1');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await res.text()).toMatch(/^aire_step_attempt_failures_total\{action="http"\} 2$/m);
      expect((await fetch(`${url}/`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("the worker's metrics port answers the probes: /healthz while alive, /readyz only while ready() holds", async () => {
    let ready = false;
    const server = await startMetricsServer(0, '127.0.0.1', () => ready);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const health = await fetch(`${url}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
      const notReady = await fetch(`${url}/readyz`);
      expect([notReady.status, notReady.headers.get('retry-after'), await notReady.json()]).toEqual([503, '5', { status: 'unavailable' }]);
      ready = true;
      const nowReady = await fetch(`${url}/readyz`);
      expect([nowReady.status, await nowReady.json()]).toEqual([200, { status: 'ready' }]);
      expect((await fetch(`${url}/readyz`, { method: 'POST' })).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('GET /metrics serves Prometheus text without a key, with counts and no tenant-identifying data', async () => {
    const res = await fetch(`${stack.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const sample = (series: string): number | undefined => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };

    expect(sample('aire_incidents_opened_total{severity="high",source="upewe"}')).toBe(2);
    expect(sample('aire_incidents_opened_total{severity="medium",source="upewe"}')).toBe(2);
    expect(sample('aire_incidents_opened_total{severity="low",source="asrs"}')).toBe(1);
    expect(sample('aire_incidents_opened_total{severity="medium",source="manual"}')).toBe(3);

    expect(sample('aire_intake_requests_total{route="/api/incident/from-forecast",outcome="accepted"}')).toBe(4);
    expect(sample('aire_intake_requests_total{route="/api/incident/from-forecast",outcome="joined"}')).toBe(1);
    expect(sample('aire_intake_requests_total{route="/api/incident/from-forecast",outcome="rejected"}')).toBe(2);
    expect(sample('aire_intake_requests_total{route="/api/incident/from-event",outcome="accepted"}')).toBe(1);
    expect(sample('aire_intake_requests_total{route="/api/incidents",outcome="accepted"}')).toBe(5);

    // prom-client writes the bucket's `le` label first: aire_step_duration_seconds_bucket{le="0.01",action="http",…}
    expect(text).toMatch(/^aire_step_duration_seconds_bucket\{le="[^"]+",action="http",outcome="succeeded"\} 2$/m);
    expect(sample('aire_step_duration_seconds_bucket{le="+Inf",action="http",outcome="failed"}')).toBe(2);
    expect(sample('aire_step_duration_seconds_count{action="http",outcome="succeeded"}')).toBe(2);
    expect(sample('aire_step_attempt_failures_total{action="http"}')).toBe(2);

    // Route patterns, never raw URLs: the incident reads show up under one series.
    expect(sample('aire_http_request_duration_seconds_count{method="GET",route="/api/incidents/:id",status="200"}')).toBeGreaterThan(0);
    expect(sample('aire_http_request_duration_seconds_count{method="GET",route="/api/metrics/summary",status="400"}')).toBeGreaterThanOrEqual(6);
    expect(text).toMatch(/aire_http_request_duration_seconds_count\{method="POST",route="\(unmatched\)",status="401"\}/);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');

    for (const secret of [tenant.id, tenant.slug, quiet.slug, slaTenant.slug, okRunbook, ...Object.values(ids)]) {
      expect([secret, text.includes(secret)]).toEqual([secret, false]);
    }
  });
});
