import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, Spawned, freePort, spawnNode, stopProcess } from '../support/processes';
import { PROMETHEUS, PROMETHEUS_DIR, PROMTOOL, Prometheus, promtool } from '../support/prometheus';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';
import { TEST_STATE_DIR, testEnv } from '../support/env';

const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'aire-dashboard.json');
const SCREENSHOT = join(ROOT, 'docs', 'prometheus-graph.png');
const CHROMIUM = '/usr/bin/chromium';

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

/**
 * Debian's Prometheus scraping a real API and a real worker process (src/worker/main.ts, its own
 * metrics port) with the scrape config and rules of deploy/prometheus/, while incidents run through
 * Temporal and PostgreSQL; then PromQL over its HTTP API must find what happened, the rules must
 * evaluate, and every panel of the Grafana dashboard must query metrics that exist.
 */
describe('Prometheus', () => {
  let stack: Stack;
  let worker: Spawned;
  let prometheus: Prometheus;
  let target: Receiver;
  let tenant: TestTenant;
  let workerMetrics = '';
  /** What /metrics must never show: tenant, incident, runbook and service names. */
  const names: string[] = ['payments'];

  beforeAll(async () => {
    for (const bin of [PROMETHEUS, PROMTOOL]) {
      if (!existsSync(bin))
        throw new Error(`${bin} is missing: install Debian's prometheus (\`apt-get install -y prometheus\`, scripts/install-system-packages.sh)`);
    }
    stack = await Stack.start('prometheus', { worker: false });
    target = await new Receiver().start();
    const workerPort = await freePort();
    workerMetrics = `http://127.0.0.1:${workerPort}/metrics`;
    worker = spawnNode('src/worker/main.ts', {
      DATABASE_URL: stack.config.DATABASE_URL,
      TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS,
      AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE,
      AIRE_WORKFLOW_BUNDLE: testEnv().workflowBundlePath,
      AIRE_WORKER_METRICS_PORT: String(workerPort),
      HOST: '127.0.0.1',
      AIRE_LOG_LEVEL: 'warn',
    });
    worker.child.stdout?.resume(); // its log: read, or a full pipe would stall it
    await eventually(() => fetch(`http://127.0.0.1:${workerPort}/metrics`).then((r) => (r.ok ? true : undefined)), 60_000);
    prometheus = new Prometheus();
    const config = prometheus.writeConfig({ 'aire-api': new URL(stack.baseUrl).host, 'aire-worker': `127.0.0.1:${workerPort}` });
    expectSuccess(await promtool(['check', 'config', config]));
    await prometheus.start(config);
    // Scraped once before anything happens, so the series are first seen at zero and rate() counts every event.
    await eventually(async () => ((await prometheus.value('count(up == 1)')) === 2 ? true : undefined), 30_000);
    tenant = await stack.tenant('prom');
    await runIncidents();
  }, 240_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (worker) await stopProcess(worker);
    await stack?.stop();
    await target?.stop();
  });

  async function runbook(id: string, extra: Record<string, unknown>, path = 'call'): Promise<void> {
    const res = await stack.call('POST', '/api/runbooks', tenant.keys.admin, {
      id,
      name: id,
      triggers: { titlePattern: id },
      steps: [
        {
          id: 'call',
          name: 'call',
          action: 'http',
          params: { method: 'POST', url: `${target.url}/${id}/${path}` },
          retry: { maximumAttempts: 2, initialInterval: '100ms' },
        },
      ],
      ...extra,
    });
    expect(res.status).toBe(201);
  }

  /** Only the failing runbook's incidents name the service (the breaker is per service); more than 3 related incidents would raise the severity. */
  async function declare(title: string, severity: string, affectedServices: string[] = []): Promise<string> {
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title, severity, affectedServices });
    expect(res.status).toBe(201);
    names.push(res.body.id);
    return res.body.id;
  }

  const settled = (id: string, status: string) => stack.incidentWhen(tenant, id, (v) => v.incident.status === status, 60_000);

  /**
   * Five incidents: one remediated and resolved; one approved after 1.5 s; one whose step fails both
   * attempts; one that finds the breaker that failure opened and is rejected; one low incident that
   * nobody acknowledges within its 1 s SLA. And two refused intake requests.
   */
  async function runIncidents(): Promise<void> {
    expect((await stack.call('PUT', '/api/settings', tenant.keys.admin, { responseSla: { low: '1s' } })).status).toBe(200);
    const [ok, gated, bad] = [uniqueId('prom-ok'), uniqueId('prom-gated'), uniqueId('prom-bad')];
    names.push(tenant.id, tenant.slug, ok, gated, bad);
    target.on('POST', `/${bad}/call`, { status: 503 });
    await runbook(ok, { completion: { autoResolve: true } });
    await runbook(gated, { requiresApproval: true });
    await runbook(bad, { limits: { breaker: { failures: 1, window: '1h' } } });

    const okId = await declare(`${ok} disk full`, 'medium');
    const gatedId = await declare(`${gated} database failover`, 'medium');
    const badId = await declare(`${bad} deploy stuck`, 'medium', ['payments']);
    const slaId = await declare(`${uniqueId('prom-sla')} nobody looks`, 'low');
    expect((await stack.call('POST', '/api/incidents', tenant.keys.ingest, { severity: 'medium' })).status).toBe(400);
    expect((await stack.call('POST', '/api/incidents', undefined, { title: 'x', severity: 'low' })).status).toBe(401);

    await stack.incidentWhen(tenant, gatedId, (v) => v.incident.status === 'awaiting_approval');
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await stack.call('POST', `/api/incidents/${gatedId}/approve`, tenant.keys.approver, { reason: 'go' })).status).toBe(200);
    await settled(okId, 'resolved');
    await settled(gatedId, 'mitigated');
    await settled(badId, 'failed');

    const brokenId = await declare(`${bad} deploy stuck again`, 'medium', ['payments']);
    await stack.incidentWhen(tenant, brokenId, (v) => v.incident.status === 'awaiting_approval');
    expect((await stack.call('POST', `/api/incidents/${brokenId}/reject`, tenant.keys.approver, { reason: 'by hand' })).status).toBe(200);
    await stack.incidentWhen(tenant, brokenId, (v) => v.approvals.length === 1);
    await stack.incidentWhen(tenant, slaId, (v) => v.actionLog.some((e) => e.kind === 'sla.breached'));
  }

  /** promtool exited 0; otherwise the failure shows what it printed. */
  function expectSuccess(result: { code: number; output: string }): void {
    expect(result.code === 0 ? result : result.output).toEqual(expect.objectContaining({ code: 0 }));
  }

  /** Waits until Prometheus has scraped `expr` at `expected` (scrapes are every second). */
  async function expectValue(expr: string, expected: number | ((v: number) => boolean)): Promise<void> {
    const ok = (v: number | undefined): boolean => v !== undefined && (typeof expected === 'number' ? v === expected : expected(v));
    let last: number | undefined;
    const probe = async (): Promise<true | undefined> => {
      last = await prometheus.value(expr);
      return ok(last) ? true : undefined;
    };
    await eventually(probe, 20_000, 500).catch(() => undefined); // the expectation below says what was seen
    expect({ expr, value: last, ok: ok(last) }).toEqual({ expr, value: typeof expected === 'number' ? expected : last, ok: true });
  }

  test('the shipped scrape config and rules pass promtool, and the rules pass their unit tests', async () => {
    expect(await promtool(['check', 'config', join(PROMETHEUS_DIR, 'prometheus.yml')])).toMatchObject({ code: 0 });
    const rules = await promtool(['check', 'rules', join(PROMETHEUS_DIR, 'rules', 'aire.yml')]);
    expect(rules).toMatchObject({ code: 0, output: expect.stringMatching(/SUCCESS: 12 rules found/) });
    expect(await promtool(['test', 'rules', 'aire.test.yml'], join(PROMETHEUS_DIR, 'rules'))).toMatchObject({
      code: 0,
      output: expect.stringContaining('SUCCESS'),
    });
  });

  test('it scrapes both processes', async () => {
    await expectValue('up{job="aire-api"}', 1);
    await expectValue('up{job="aire-worker"}', 1);
    // Each process exports the series it records (at zero until then), not the other's.
    expect(await prometheus.query('aire_incidents_opened_total{job="aire-worker"}')).toEqual([]);
    expect(await prometheus.query('aire_steps_finished_total{job="aire-api"}')).toEqual([]);
  });

  test('intake and incidents opened, from the API', async () => {
    await expectValue('sum(aire_incidents_opened_total{job="aire-api"})', 5);
    await expectValue('aire_incidents_opened_total{job="aire-api",severity="medium",source="manual"}', 4);
    await expectValue('aire_incidents_opened_total{job="aire-api",severity="low",source="manual"}', 1);
    await expectValue('aire_intake_requests_total{route="/api/incidents",outcome="accepted"}', 5);
    await expectValue('aire_intake_requests_total{route="/api/incidents",outcome="rejected"}', 2);
    await expectValue('sum(aire_http_request_duration_seconds_count{job="aire-api",route=~"/api/incidents/:id/(approve|reject)",status="200"})', 2);
  });

  test('steps, approvals, status changes, SLA breaches and breakers, from the worker', async () => {
    await expectValue('aire_steps_finished_total{job="aire-worker",action="http",outcome="succeeded"}', 2);
    await expectValue('aire_steps_finished_total{job="aire-worker",action="http",outcome="failed"}', 1);
    await expectValue('aire_step_attempt_failures_total{job="aire-worker",action="http"}', 2);
    await expectValue('aire_step_duration_seconds_count{job="aire-worker",action="http",outcome="failed"}', 2);
    await expectValue('aire_approval_latency_seconds_count{job="aire-worker",gate="runbook",decision="approve"}', 1);
    await expectValue('aire_approval_latency_seconds_count{job="aire-worker",gate="runbook",decision="reject"}', 1);
    // Approved 1.5 s after the request was recorded (plus the time to see it): in the 5 s bucket, not the 1 s one.
    await expectValue('aire_approval_latency_seconds_sum{job="aire-worker",gate="runbook",decision="approve"}', (v) => v >= 1.5 && v < 5);
    await expectValue('aire_approval_latency_seconds_bucket{job="aire-worker",gate="runbook",decision="approve",le="5"}', 1);
    await expectValue('aire_incident_transitions_total{job="aire-worker",status="resolved"}', 1);
    await expectValue('aire_incident_transitions_total{job="aire-worker",status="awaiting_approval"}', 2);
    await expectValue('aire_sla_breaches_total{job="aire-worker",severity="low"}', 1);
    await expectValue('aire_breakers_opened_total{job="aire-worker"}', 1);
  });

  test('the health gauges the API reads from PostgreSQL (every tenant: at least this test’s)', async () => {
    await expectValue('max(aire_breakers_open)', (v) => v >= 1);
    await expectValue('sum(aire_incidents_open{severity="low",status="open"})', (v) => v >= 1);
    await expectValue('max(aire_incident_quiet_seconds_max{status="open"})', (v) => v > 0);
    await expectValue('aire_health_read_errors_total{job="aire-api"}', 0);
    for (const url of [`${stack.baseUrl}/metrics`, workerMetrics]) {
      const text = await (await fetch(url)).text();
      expect(names.filter((n) => text.includes(n))).toEqual([]);
    }
  });

  test('the rules evaluate without error, and the breaker and SLA alerts are raised', async () => {
    const { groups } = await prometheus.api<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>('rules');
    const rules = groups.flatMap((g) => g.rules);
    expect(rules).toHaveLength(12);
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
    await expectValue('aire:incidents_opened:rate5m{severity="medium"}', (v) => v > 0);
    await expectValue('aire:step_failure_ratio:rate15m{action="http"}', (v) => v > 0 && v < 1);
    const alerts = await eventually(async () => {
      const { alerts: list } = await prometheus.api<{ alerts: { labels: Record<string, string>; state: string }[] }>('alerts');
      const names = list.map((a) => `${a.labels.alertname}:${a.labels.incident_severity ?? ''}`);
      return names.includes('AireSlaBreached:low') && names.includes('AireBreakerOpen:') ? list : undefined;
    }, 20_000);
    expect(alerts.find((a) => a.labels.alertname === 'AireSlaBreached')?.state).toBe('firing');
    expect(['pending', 'firing']).toContain(alerts.find((a) => a.labels.alertname === 'AireBreakerOpen')?.state);
  });

  test('every panel of the Grafana dashboard queries metrics that exist, and gets data', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(dashboard.panels.filter((p) => p.type !== 'row' && !(p.targets?.length ?? 0))).toEqual([]);
    expect(exprs.length).toBeGreaterThanOrEqual(15);
    const names = await prometheus.metricNames();
    for (const { panel, expr } of exprs) {
      // Grafana's own variable, as Grafana would fill it in for a 1 s scrape.
      const promql = expr.replaceAll('$__rate_interval', '5m');
      expect([panel, promql.includes('$')]).toEqual([panel, false]);
      const metrics = [...promql.matchAll(/\b(?:aire_|nodejs_|up\b)[a-z_]*/g)].map((m) => m[0]);
      expect([panel, metrics.length > 0]).toEqual([panel, true]);
      expect([panel, metrics.filter((m) => !names.has(m))]).toEqual([panel, []]);
      const result = await prometheus.query(promql);
      expect([panel, expr, result.length > 0]).toEqual([panel, expr, true]);
    }
  });

  test('the graph page renders a query in Debian’s Chromium (the screenshot in docs/observability.md)', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (\`apt-get install -y chromium\`)`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'], headless: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 760 }, locale: 'en-GB', timezoneId: 'UTC' });
      const expr = 'sum by (status) (aire_incident_transitions_total)';
      await page.goto(`${prometheus.url}/classic/graph?${new URLSearchParams({ 'g0.expr': expr, 'g0.tab': '0', 'g0.range_input': '1m' }).toString()}`);
      await page.locator('.graph_area svg').first().waitFor({ timeout: 30_000 });
      await page.locator('.legend').filter({ hasText: 'resolved' }).first().waitFor({ timeout: 30_000 });
      const shot = process.env.AIRE_UPDATE_SCREENSHOTS === '1' ? SCREENSHOT : join(TEST_STATE_DIR, 'prometheus-graph.png');
      mkdirSync(join(shot, '..'), { recursive: true });
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
