import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../support/processes';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';

const ROOT = join(__dirname, '..', '..');

/** The worker entry point with the test stack's settings and `env` on top; AIRE_LOG_FORMAT unset unless given. */
function startWorker(stack: Stack, env: Record<string, string>, onLine: (line: string) => void): ChildProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.AIRE_LOG_FORMAT; // the default is under test, whatever the shell exported
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/worker/main.ts')], {
    cwd: ROOT,
    env: {
      ...childEnv,
      DATABASE_URL: stack.config.DATABASE_URL,
      TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS,
      AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE,
      AIRE_WORKER_METRICS_PORT: '0',
      AIRE_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    parts.forEach(onLine);
  });
  return child;
}

function stopped(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** The real worker process logs JSON lines that carry tenant, incident and workflow ids; AIRE_LOG_FORMAT=pretty makes them readable lines. */
describe('structured logs', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let worker: ChildProcess | undefined;
  const lines: Record<string, unknown>[] = [];

  /** A runbook of one http step and an incident it runs on, mitigated. */
  async function runOneStep(): Promise<{ id: string; workflowId: string }> {
    const rb = uniqueId('logs');
    await stack.call('POST', '/api/runbooks', tenant.keys.admin, {
      id: rb,
      name: rb,
      triggers: { titlePattern: rb },
      steps: [{ id: 'one', name: 'one', action: 'http', params: { url: `${target.url}/${rb}` } }],
    });
    const res = await stack.call<{ id: string; workflowId: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: `${rb} now`, severity: 'low' });
    await stack.incidentWhen(tenant, res.body.id, (v) => v.incident.status === 'mitigated');
    return res.body;
  }

  beforeAll(async () => {
    stack = await Stack.start('logs', { worker: false });
    target = await new Receiver().start();
    tenant = await stack.tenant('logs');
  });
  afterAll(async () => {
    await stopped(worker);
    await stack?.stop();
    await target?.stop();
  });

  test('a step run by src/worker/main.ts is logged as JSON with tenantId, incidentId and workflowId', async () => {
    const metricsPort = await freePort();
    worker = startWorker(
      stack,
      { AIRE_WORKER_METRICS_PORT: String(metricsPort) },
      (line) => line.startsWith('{') && lines.push(JSON.parse(line) as Record<string, unknown>),
    );
    await eventually(async () => (lines.some((l) => l.msg === 'worker started') ? true : undefined), 60_000);
    // The probe a Kubernetes readiness check uses (deploy/helm/aire): ready once the worker polls.
    await eventually(async () => ((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status === 200 ? true : undefined));
    const incident = await runOneStep();

    const step = await eventually(async () => lines.find((l) => l.msg === 'step executed' && l.incidentId === incident.id));
    expect(step).toMatchObject({
      level: 30,
      component: 'worker',
      tenantId: tenant.id,
      incidentId: incident.id,
      workflowId: incident.workflowId,
      stepId: 'one',
      action: 'http',
    });
  });

  test('with AIRE_LOG_FORMAT=pretty the same worker writes one readable line per entry, with the incident and the step', async () => {
    await stopped(worker); // the JSON worker must not take the step
    const pretty: string[] = [];
    worker = startWorker(stack, { AIRE_LOG_FORMAT: 'pretty' }, (line) => pretty.push(line));
    await eventually(async () => (pretty.some((l) => / INFO: worker worker started /.test(l)) ? true : undefined), 60_000);
    const incident = await runOneStep();

    const step = await eventually(async () => pretty.find((l) => l.includes('step executed') && l.includes(incident.id)));
    expect(step).toMatch(new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: worker step executed incident=${incident.id} step=one `));
    expect(step).toContain(`tenantId=${tenant.id}`);
    expect(step).toContain(`workflowId=${incident.workflowId}`);
    expect(step).toContain('action=http');
    // Every line is an entry of its own: no JSON object, no continuation lines (an SDK entry included).
    expect(pretty.length).toBeGreaterThan(2);
    for (const line of pretty) expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): worker /);
    for (const line of pretty) expect(line).not.toMatch(/[{}]/);
  });
});
