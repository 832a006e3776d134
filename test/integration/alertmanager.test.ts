import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signBody } from '../../src/domain/signing';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';
import { freePort } from '../support/processes';

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

/** An Alertmanager webhook payload as Alertmanager 0.25 sends it. */
function payload(alerts: { fingerprint: string; status?: 'firing' | 'resolved'; startsAt?: string; labels?: Record<string, string> }[]) {
  return {
    version: '4',
    groupKey: '{}:{alertname="HighErrorRate"}',
    status: alerts.some((a) => (a.status ?? 'firing') === 'firing') ? 'firing' : 'resolved',
    receiver: 'aire',
    groupLabels: { alertname: 'HighErrorRate' },
    commonLabels: { alertname: 'HighErrorRate' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.local',
    truncatedAlerts: 0,
    alerts: alerts.map((a) => ({
      status: a.status ?? 'firing',
      labels: { alertname: 'HighErrorRate', service: 'checkout', severity: 'critical', ...a.labels },
      annotations: { summary: 'checkout 5xx above 5%', description: 'error budget burning' },
      startsAt: a.startsAt ?? '2026-11-23T10:00:00Z',
      endsAt: a.status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.local/graph',
      fingerprint: a.fingerprint,
    })),
  };
}

interface Outcome {
  alerts: { fingerprint: string; outcome: string; incidentId?: string | null; reason?: string }[];
}

describe('Alertmanager intake', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start('alertmanager');
  });
  afterAll(async () => stack?.stop());

  async function tenantWith(settings: Record<string, unknown>, runbook?: Record<string, unknown>): Promise<TestTenant> {
    const tenant = await stack.tenant('am');
    expect((await stack.call('PUT', '/api/settings', tenant.keys.admin, settings)).status).toBe(200);
    if (runbook) expect((await stack.call('POST', '/api/runbooks', tenant.keys.admin, runbook)).status).toBe(201);
    return tenant;
  }

  const resolvingRunbook = (id: string) => ({
    id,
    name: 'error rate',
    triggers: { sources: ['alertmanager'] },
    requiresApproval: false,
    completion: { resolveWhenAlertResolves: true },
    steps: [{ id: 'note', name: 'note', action: 'wait', params: { duration: '10ms' } }],
  });

  test('firing opens, a repeat is the same event, a re-fire joins, resolved resolves, quiet closes, flapping stays one incident', async () => {
    const tenant = await tenantWith({ intake: { flapWindow: '1500ms' } }, resolvingRunbook(uniqueId('am')));
    const fp = uniqueId('fp');
    const post = (body: unknown) => stack.call<Outcome>('POST', '/api/intake/alertmanager', tenant.keys.ingest, body);

    const first = await post(payload([{ fingerprint: fp, labels: { severity: 'warning' } }]));
    expect(first.status).toBe(202);
    expect(first.body.alerts[0]).toMatchObject({ fingerprint: fp, outcome: 'opened' });
    const id = first.body.alerts[0]!.incidentId as string;

    // Alertmanager repeats a firing alert every repeat_interval with the same startsAt: one event.
    expect((await post(payload([{ fingerprint: fp, labels: { severity: 'warning' } }]))).body.alerts[0]).toMatchObject({ outcome: 'joined', incidentId: id });
    const opened = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(opened.incident).toMatchObject({ source: 'alertmanager', severity: 'medium', occurrences: 1, affectedServices: ['checkout'] });

    expect((await post(payload([{ fingerprint: fp, status: 'resolved' }]))).body.alerts[0]).toMatchObject({ outcome: 'resolved' });
    await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'resolved');

    // It fires again within the flap window: the same incident, counted, and no new one.
    const refire = await post(payload([{ fingerprint: fp, startsAt: '2026-11-23T10:05:00Z' }]));
    expect(refire.body.alerts[0]).toMatchObject({ outcome: 'joined', incidentId: id });
    await stack.incidentWhen(tenant, id, (v) => v.actionLog.some((e) => e.kind === 'alert.flapping') && v.incident.occurrences === 2);
    await post(payload([{ fingerprint: fp, status: 'resolved', startsAt: '2026-11-23T10:05:00Z' }]));

    // Quiet for the flap window after the last resolve: closed.
    const closed = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'closed', 20_000);
    expect(closed.actionLog.filter((e) => e.kind === 'alert.resolved')).toHaveLength(2);
    const { rows } = await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE tenant_id = $1', [tenant.id]);
    expect(rows[0]!.n).toBe(1);

    // After close, the same fingerprint is a new incident.
    const again = await post(payload([{ fingerprint: fp, startsAt: '2026-11-23T11:00:00Z' }]));
    expect(again.body.alerts[0]!.outcome).toBe('opened');
    expect(again.body.alerts[0]!.incidentId).not.toBe(id);
  });

  test('a silence records the alert and opens nothing, and says why', async () => {
    const tenant = await tenantWith({ intake: { silences: [{ matchers: { service: 'checkout' }, reason: 'maintenance window CHG-123' }] } });
    const fp = uniqueId('fp');
    const res = await stack.call<Outcome>(
      'POST',
      '/api/intake/alertmanager',
      tenant.keys.ingest,
      payload([{ fingerprint: fp }, { fingerprint: `${fp}-b`, labels: { service: 'search' } }]),
    );
    expect(res.body.alerts[0]).toMatchObject({ outcome: 'silenced', incidentId: null, reason: expect.stringContaining('maintenance window CHG-123') });
    expect(res.body.alerts[1]).toMatchObject({ outcome: 'opened' });
    const suppressed = await stack.admin.query('SELECT dedup_key, reason FROM suppressed_events WHERE tenant_id = $1', [tenant.id]);
    expect(suppressed.rows).toEqual([{ dedup_key: `alertmanager:${fp}`, reason: expect.stringContaining('CHG-123') }]);
    const declared = await stack.call<{ silenced: boolean }>('POST', '/api/incidents', tenant.keys.ingest, {
      title: 'checkout slow',
      severity: 'high',
      affectedServices: ['checkout'],
    });
    expect([declared.status, declared.body.silenced]).toEqual([202, true]);
  });

  test('a signing secret makes unsigned, stale or forged requests 401', async () => {
    const secret = 'a-shared-secret-of-enough-length';
    const tenant = await tenantWith({ intake: { signingSecrets: { alertmanager: secret } } });
    const settings = await stack.call<{ intake: { signedSources: string[] } }>('GET', '/api/settings', tenant.keys.admin);
    expect(settings.body.intake.signedSources).toEqual(['alertmanager']);
    expect(JSON.stringify(settings.body)).not.toContain(secret);

    const body = JSON.stringify(payload([{ fingerprint: uniqueId('fp') }]));
    const send = (signature?: string) =>
      stack.call('POST', '/api/intake/alertmanager', tenant.keys.ingest, body, {
        'content-type': 'application/json',
        ...(signature ? { 'x-aire-signature': signature } : {}),
      });
    const now = Math.floor(Date.now() / 1000);
    expect((await send()).status).toBe(401);
    expect((await send(signBody(secret, body, now - 3_600))).status).toBe(401);
    expect((await send(signBody('another-secret-entirely-xx', body, now))).status).toBe(401);
    expect((await send(signBody(secret, body, now))).status).toBe(202);
  });

  test('1,000 concurrent duplicate events make exactly one incident that counts 1,000', async () => {
    const tenant = await stack.tenant('storm');
    const key = uniqueId('storm');
    const send = (i: number) =>
      stack.call<{ id: string }>(
        'POST',
        '/api/incidents',
        tenant.keys.ingest,
        { title: 'disk full on db-1', severity: 'low', dedupKey: key },
        { 'idempotency-key': `${key}-${i}` },
      );
    const ids = new Set<string>();
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => send(batch * 100 + i)));
      for (const a of answers) {
        statuses.push(a.status);
        ids.add(a.body.id);
      }
    }
    expect(statuses.filter((s) => s !== 200 && s !== 201)).toEqual([]);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const view = await stack.incidentWhen(tenant, id!, (v) => v.incident.occurrences === 1_000, 60_000);
    expect(view.live?.occurrences).toBe(1_000);
    const { rows } = await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE tenant_id = $1', [tenant.id]);
    expect(rows[0]!.n).toBe(1);
  });

  describe('a real Alertmanager', () => {
    let alertmanager: ChildProcess | undefined;
    let dir: string;

    afterAll(async () => {
      // Alertmanager writes its state on the way out: wait for it before removing its directory.
      if (alertmanager && alertmanager.exitCode === null) {
        const exited = new Promise((resolve) => alertmanager?.once('exit', resolve));
        alertmanager.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      }
      if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    });

    test('drives AIRE with no glue: fire opens an incident, resolve resolves it', async () => {
      const tenant = await tenantWith({ intake: { flapWindow: '1h' } }, resolvingRunbook(uniqueId('am')));
      const port = await freePort();
      dir = mkdtempSync(join(tmpdir(), 'aire-am-'));
      writeFileSync(
        join(dir, 'alertmanager.yml'),
        [
          'route:',
          '  receiver: aire',
          "  group_by: ['alertname', 'service']",
          '  group_wait: 0s',
          '  group_interval: 1s',
          '  repeat_interval: 1h',
          'receivers:',
          '  - name: aire',
          '    webhook_configs:',
          `      - url: ${stack.baseUrl}/api/intake/alertmanager`,
          '        send_resolved: true',
          '        http_config:',
          '          authorization:',
          '            type: Bearer',
          `            credentials: ${tenant.keys.ingest}`,
          '',
        ].join('\n'),
      );
      alertmanager = spawn(
        ALERTMANAGER,
        [
          `--config.file=${join(dir, 'alertmanager.yml')}`,
          `--storage.path=${dir}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--cluster.listen-address=',
          '--log.level=warn',
        ],
        { stdio: 'ignore' },
      );
      const am = `http://127.0.0.1:${port}`;
      await eventually(async () => ((await fetch(`${am}/-/ready`)).ok ? true : undefined), 30_000, 200);

      const labels = { alertname: 'HighErrorRate', service: uniqueId('svc'), severity: 'critical' };
      const startsAt = new Date().toISOString();
      const post = (endsAt?: string) =>
        fetch(`${am}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([{ labels, annotations: { summary: `5xx on ${labels.service}` }, startsAt, ...(endsAt ? { endsAt } : {}) }]),
        });
      expect((await post()).status).toBe(200);

      const incident = await eventually(async () => {
        const list = await stack.call<{ items: { id: string; source: string; title: string }[] }>(
          'GET',
          '/api/incidents?source=alertmanager',
          tenant.keys.viewer,
        );
        return list.body.items.find((i) => i.title === `5xx on ${labels.service}`);
      }, 30_000);
      const open = await stack.incidentWhen(tenant, incident.id, (v) => v.incident.status === 'awaiting_approval');
      expect(open.incident).toMatchObject({ severity: 'critical', affectedServices: [labels.service] });

      expect((await post(new Date().toISOString())).status).toBe(200);
      const resolved = await stack.incidentWhen(tenant, incident.id, (v) => v.incident.status === 'resolved', 30_000);
      expect(resolved.actionLog.find((e) => e.kind === 'alert.resolved')).toMatchObject({ actor: 'alertmanager', detail: { resolvesIncident: true } });
    });
  });
});
