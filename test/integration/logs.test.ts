import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';

const ROOT = join(__dirname, '..', '..');

/** The real worker process logs JSON lines that carry tenant, incident and workflow ids. */
describe('structured logs', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let worker: ChildProcess | undefined;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    stack = await Stack.start('logs', { worker: false });
    target = await new Receiver().start();
    tenant = await stack.tenant('logs');
  });
  afterAll(async () => {
    worker?.kill('SIGTERM');
    await stack?.stop();
    await target?.stop();
  });

  test('a step run by src/worker/main.ts is logged as JSON with tenantId, incidentId and workflowId', async () => {
    worker = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/worker/main.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: stack.config.DATABASE_URL,
        TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS,
        AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE,
        AIRE_WORKER_METRICS_PORT: '0',
        AIRE_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    worker.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    await eventually(async () => (lines.some((l) => l.msg === 'worker started') ? true : undefined), 60_000);

    const rb = uniqueId('logs');
    await stack.call('POST', '/api/runbooks', tenant.keys.admin, {
      id: rb,
      name: rb,
      triggers: { titlePattern: rb },
      steps: [{ id: 'one', name: 'one', action: 'http', params: { url: `${target.url}/${rb}` } }],
    });
    const res = await stack.call<{ id: string; workflowId: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: `${rb} now`, severity: 'low' });
    await stack.incidentWhen(tenant, res.body.id, (v) => v.incident.status === 'mitigated');

    const step = await eventually(async () => lines.find((l) => l.msg === 'step executed' && l.incidentId === res.body.id));
    expect(step).toMatchObject({
      level: 30,
      component: 'worker',
      tenantId: tenant.id,
      incidentId: res.body.id,
      workflowId: res.body.workflowId,
      stepId: 'one',
      action: 'http',
    });
  });
});
