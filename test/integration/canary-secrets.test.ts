import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { signBody } from '../../src/domain/signing';
import { temporalBinary, testEnv } from '../support/env';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';
import { freePort } from '../support/processes';

/**
 * Canary secrets planted in a realistic run, through the real API and worker processes (their logs
 * captured at debug level): API keys, the webhook HMAC secret, an intake and a Slack signing secret, and a
 * password, a token and an API key in the incident's context. The run opens an incident from a
 * signed forecast, waits for approval, approves, runs a runbook that sends the token where it
 * belongs (an Authorization header to the target), notifies, resolves, closes, and reads everything
 * back. Then every API answer, the report (JSON and Markdown), every notification received, the
 * action_log, incident_steps and approvals rows, and both processes' logs are scanned: no canary
 * may appear in any of them.
 */
const canary = (name: string): string => `canary-${name}-${randomBytes(8).toString('hex')}`;
const CANARIES = {
  webhookSecret: canary('hmac'),
  signingSecret: canary('signing'),
  slackSigningSecret: canary('slack'),
  password: canary('password'),
  token: canary('token'),
  dbPassword: canary('dbpass'),
  contextApiKey: `aire_${randomBytes(24).toString('base64url')}`,
};

/**
 * Canaries only the Temporal history is checked for: a token in a channel's target, and costs (the
 * policy's threshold, a step's estimate) that are business data, shown in API answers on purpose.
 */
const HISTORY_CANARIES = { channelToken: canary('channel'), costThreshold: '8675.31', estimatedCost: '9191.37' };

const ROOT = join(__dirname, '..', '..');

/** A history as `temporal workflow show --output json` prints it, with every base64 payload also decoded, so a plain value cannot hide. */
function readable(json: string): string {
  const decoded: string[] = [];
  JSON.stringify(JSON.parse(json), (_key, value: unknown) => {
    if (typeof value === 'string' && /^[A-Za-z0-9+/]{8,}={0,2}$/.test(value)) decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return `${json}\n${decoded.join('\n')}`;
}

interface Component {
  child: ChildProcess;
  output: () => string;
}

/** `node --import tsx <script>` from the repository root, stdout and stderr captured. */
function start(script: string, env: Record<string, string>): Component {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

async function stop(component: Component | undefined): Promise<void> {
  if (!component || component.child.exitCode !== null || component.child.signalCode !== null) return;
  const exited = new Promise((resolve) => component.child.once('exit', resolve));
  component.child.kill('SIGTERM');
  const timer = setTimeout(() => component.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

describe('canary secrets never leave where they belong', () => {
  let stack: Stack;
  let tenant: TestTenant;
  let api: Component;
  let worker: Component;
  let apiUrl: string;
  let notifications: Receiver;
  let target: Receiver;
  /** Every answer the API gave in this test: status line, headers and body. */
  const answers: string[] = [];
  let incidentId = '';

  async function call(
    method: string,
    path: string,
    key: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
    const raw = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(raw !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: raw,
    });
    const text = await res.text();
    answers.push(`${method} ${path} ${res.status}\n${JSON.stringify(Object.fromEntries(res.headers))}\n${text}`);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Markdown and other text
    }
    return { status: res.status, json, text };
  }

  beforeAll(async () => {
    stack = await Stack.start('canary', { worker: false });
    tenant = await stack.tenant('canary');
    notifications = await new Receiver().start();
    target = await new Receiver().start();
    const env = testEnv();
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    const common = {
      DATABASE_URL: env.appUrl,
      DATABASE_ADMIN_URL: env.adminUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      AIRE_TASK_QUEUE: uniqueId('tq-canary'),
      AIRE_WEBHOOK_SECRET: CANARIES.webhookSecret,
      AIRE_LOG_LEVEL: 'debug',
      AIRE_WORKER_METRICS_PORT: '0',
      AIRE_WORKER_SHUTDOWN_GRACE: '2s',
      HOST: '127.0.0.1',
      PORT: String(port),
    };
    api = start('src/api/main.ts', common);
    worker = start('src/worker/main.ts', common);
    await eventually(
      () =>
        fetch(`${apiUrl}/readyz`).then(
          (r) => (r.status === 200 ? true : undefined),
          () => undefined,
        ),
      60_000,
    );
    await eventually(async () => (worker.output().includes('worker started') ? true : undefined), 120_000, 300);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([stop(api), stop(worker)]);
    await notifications?.stop();
    await target?.stop();
    await stack?.stop();
  });

  test('a realistic run: signed intake, approval, remediation with a credential, notifications, review', async () => {
    const admin = tenant.keys.admin;
    // Tenant settings: a notification channel, and a signing secret for forecast intake.
    const settings = await call('PUT', '/api/settings', admin, {
      channels: [{ name: 'ops', target: { channel: 'webhook', url: `${notifications.url}/channel/${HISTORY_CANARIES.channelToken}` } }],
      intake: { signingSecrets: { forecast: CANARIES.signingSecret } },
      slack: { signingSecret: CANARIES.slackSigningSecret },
      approval: { costThreshold: Number(HISTORY_CANARIES.costThreshold) },
    });
    expect(settings.status).toBe(200);
    const runbook = await call('POST', '/api/runbooks', admin, {
      id: 'canary-capacity',
      name: 'Canary capacity',
      triggers: { sources: ['upewe'], titlePattern: 'canary' },
      requiresApproval: true,
      steps: [
        {
          id: 'tell',
          name: 'Tell',
          action: 'notify',
          params: { url: `${notifications.url}/hook`, message: 'Scaling {{incident.context.service}} for {{incident.title}}' },
        },
        {
          id: 'deploy',
          name: 'Deploy with a credential',
          action: 'http',
          params: {
            method: 'POST',
            url: `${target.url}/deploy/{{incident.context.service}}`,
            headers: { Authorization: 'Bearer {{incident.context.token}}', 'x-db-password': '{{incident.context.db.password}}' },
            body: { service: '{{incident.context.service}}', password: '{{incident.context.password}}' },
          },
        },
        {
          id: 'scale',
          name: 'Scale',
          action: 'scale',
          estimatedCost: Number(HISTORY_CANARIES.estimatedCost),
          params: { url: `${target.url}/capacity`, replicas: '{{incident.context.replicas}}' },
        },
        {
          id: 'done',
          name: 'Done',
          action: 'notify',
          params: { url: `${notifications.url}/hook`, message: 'Scaled {{incident.context.service}} from {{steps.scale.output.previous}}' },
        },
      ],
    });
    expect(runbook.status).toBe(201);

    // A forecast carrying secrets in its features (they become the incident's context), signed.
    const forecast = JSON.stringify({
      id: uniqueId('fc'),
      riskType: 'canary capacity',
      confidence: 65,
      recommendedAction: 'scale out',
      rawFeatures: {
        service: 'checkout',
        replicas: 4,
        password: CANARIES.password,
        token: CANARIES.token,
        db: { password: CANARIES.dbPassword, apiKey: CANARIES.contextApiKey },
      },
    });
    const unsigned = await call('POST', '/api/incident/from-forecast', tenant.keys.ingest, forecast);
    expect(unsigned.status).toBe(401);
    const signature = signBody(CANARIES.signingSecret, forecast, Math.floor(Date.now() / 1000));
    const opened = await call('POST', '/api/incident/from-forecast', tenant.keys.ingest, forecast, { 'x-aire-signature': signature });
    expect(opened.status).toBe(201);
    incidentId = opened.json.id as string;

    const view = async () => (await call('GET', `/api/incidents/${incidentId}`, tenant.keys.viewer)).json as { incident: { status: string } };
    await eventually(async () => ((await view()).incident?.status === 'awaiting_approval' ? true : undefined), 60_000, 300);
    // A dry run with the same secrets in the sample incident.
    const dry = await call('POST', '/api/runbooks/canary-capacity/test', tenant.keys.viewer, {
      incident: {
        title: 'canary capacity',
        severity: 'high',
        source: 'upewe',
        context: { service: 'checkout', replicas: 2, password: CANARIES.password, token: CANARIES.token, db: { password: CANARIES.dbPassword } },
      },
    });
    expect(dry.status).toBe(200);
    expect((await call('POST', `/api/incidents/${incidentId}/approve`, tenant.keys.approver, { reason: 'capacity review done' })).status).toBe(200);
    // The scale step costs more than the policy allows: a second gate.
    const live = async () =>
      (await call('GET', `/api/incidents/${incidentId}`, tenant.keys.viewer)).json as { live: { pendingApproval: { stepId: string | null } | null } | null };
    await eventually(async () => ((await live()).live?.pendingApproval?.stepId === 'scale' ? true : undefined), 60_000, 300);
    expect((await call('POST', `/api/incidents/${incidentId}/approve`, tenant.keys.approver, { reason: 'worth it' })).status).toBe(200);
    await eventually(async () => ((await view()).incident?.status === 'mitigated' ? true : undefined), 60_000, 300);
    expect((await call('POST', `/api/incidents/${incidentId}/acknowledge`, tenant.keys.responder, {})).status).toBe(200);
    expect((await call('POST', `/api/incidents/${incidentId}/action-items`, tenant.keys.responder, { title: 'Rotate the credential' })).status).toBe(201);
    expect((await call('POST', `/api/incidents/${incidentId}/resolve`, tenant.keys.responder, { reason: 'capacity restored' })).status).toBe(200);
    expect((await call('POST', `/api/incidents/${incidentId}/close`, tenant.keys.responder, {})).status).toBe(200);
    await eventually(async () => ((await view()).incident?.status === 'closed' ? true : undefined), 60_000, 300);

    // Read everything back, as people and scripts would.
    for (const path of [
      `/api/incidents/${incidentId}`,
      '/api/incidents?limit=50',
      `/api/incidents/${incidentId}/report`,
      `/api/incidents/${incidentId}/report?format=markdown`,
      `/api/incidents/${incidentId}/action-items`,
      '/api/runbooks',
      '/api/runbooks/canary-capacity',
      '/api/runbooks/canary-capacity/versions',
      '/api/settings',
      '/api/keys',
      '/api/controls',
      '/api/metrics/summary',
    ]) {
      expect([path, (await call('GET', path, admin)).status]).toEqual([path, 200]);
    }

    // The credential went where the runbook sends it, and only there.
    const deploy = target.requests.find((r) => r.path === '/deploy/checkout');
    expect(deploy?.headers.authorization).toBe(`Bearer ${CANARIES.token}`);
    expect(deploy?.body).toEqual({ service: 'checkout', password: CANARIES.password });
    // Notifications arrived, signed with the HMAC secret (but not carrying it).
    expect(notifications.requests.filter((r) => r.path === '/hook')).toHaveLength(2);
    // The channel's target (and its token) came from the settings when the notification went out, not from the workflow.
    expect(notifications.requests.some((r) => r.path === `/channel/${HISTORY_CANARIES.channelToken}`)).toBe(true);
    expect(notifications.requests.every((r) => /^t=\d+,v1=[0-9a-f]{64}$/.test(String(r.headers['x-aire-signature'])))).toBe(true);
  }, 240_000);

  test('no canary appears in any answer, report, notification, audit row or log', async () => {
    const { rows } = await stack.admin.query(
      `SELECT 'action_log' AS t, to_jsonb(l)::text AS row FROM action_log l WHERE tenant_id = $1
       UNION ALL SELECT 'incident_steps', to_jsonb(s)::text FROM incident_steps s WHERE tenant_id = $1
       UNION ALL SELECT 'approvals', to_jsonb(a)::text FROM approvals a WHERE tenant_id = $1
       UNION ALL SELECT 'action_items', to_jsonb(i)::text FROM action_items i WHERE tenant_id = $1`,
      [tenant.id],
    );
    expect(rows.length).toBeGreaterThan(10);
    const places: Record<string, string> = {
      'API answers': answers.join('\n'),
      notifications: notifications.requests.map((r) => `${r.method} ${r.path}\n${JSON.stringify(r.headers)}\n${r.raw}`).join('\n'),
      'audit rows': rows.map((r: { t: string; row: string }) => `${r.t} ${r.row}`).join('\n'),
      'API log': api.output(),
      'worker log': worker.output(),
    };
    // The report is among the answers; make sure it was read in both forms.
    expect(places['API answers']).toContain(`/report?format=markdown 200`);
    expect(places['worker log']!.length).toBeGreaterThan(0);
    const secrets: Record<string, string> = { ...CANARIES, ...Object.fromEntries(Object.entries(tenant.keys).map(([role, key]) => [`${role} API key`, key])) };
    const found: string[] = [];
    for (const [where, text] of Object.entries(places)) {
      for (const [name, secret] of Object.entries(secrets)) if (text.includes(secret)) found.push(`${name} in ${where}`);
    }
    expect(found).toEqual([]);
    // What is stored for the steps says a value was there, without it.
    expect(places['audit rows']).toContain('[REDACTED]');
  });

  test('the Temporal history, read with the real CLI, holds none of them; decoded, still no setting secret', async () => {
    const { json } = await call('GET', `/api/incidents/${incidentId}`, tenant.keys.viewer);
    const workflowId = (json.incident as { workflowId: string }).workflowId;
    const show = (extra: string[] = []): string =>
      execFileSync(temporalBinary(), [
        'workflow',
        'show',
        '--workflow-id',
        workflowId,
        '--output',
        'json',
        '--address',
        testEnv().temporalAddress,
        ...extra,
      ]).toString();
    const all: Record<string, string> = { ...CANARIES, ...HISTORY_CANARIES };
    const leaks = (text: string, names: string[]): string[] => names.filter((name) => text.includes(all[name]!));

    // As anyone with access to Temporal reads it: every payload encrypted, nothing readable.
    const raw = readable(show());
    expect(raw).toContain('binary/encrypted');
    expect(raw).not.toContain('canary capacity');
    expect(leaks(raw, Object.keys(all))).toEqual([]);

    // As an admin reads it through the codec endpoint (what the Web UI calls): the incident is
    // readable, what the source sent is there, but the tenant's secrets never entered the history.
    const decoded = readable(show(['--codec-endpoint', `${apiUrl}/api/codec`, '--codec-auth', `Bearer ${tenant.keys.admin}`]));
    expect(decoded).toContain('canary capacity');
    expect(leaks(decoded, ['password'])).toEqual(['password']);
    expect(leaks(decoded, ['signingSecret', 'slackSigningSecret', 'webhookSecret', 'channelToken'])).toEqual([]);
    // Only an admin key decodes (the CLI retries a refusal until its deadline, so ask the endpoint itself).
    const sealed = (JSON.parse(show()) as { events: { workflowExecutionStartedEventAttributes?: { input: { payloads: unknown[] } } }[] }).events[0]!
      .workflowExecutionStartedEventAttributes?.input;
    for (const [key, status] of [
      [tenant.keys.responder, 403],
      [tenant.keys.viewer, 403],
      [undefined, 401],
      [tenant.keys.admin, 200],
    ] as const) {
      expect([key === undefined ? 'no key' : key.slice(0, 12), (await call('POST', '/api/codec/decode', key, sealed)).status]).toEqual([
        key === undefined ? 'no key' : key.slice(0, 12),
        status,
      ]);
    }
    // The Web UI's preflight, from the allowed origin only.
    const preflight = async (origin: string) =>
      fetch(`${apiUrl}/api/codec/decode`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    expect((await preflight('http://localhost:8233')).headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect((await preflight('http://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });
});
