import { testEnv } from '../support/env';
import { Jaeger, JaegerSpan } from '../support/jaeger';
import { Spawned, freePort, spawnNode, startApiProcess, stopProcess } from '../support/processes';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';

/**
 * Tracing (docs/tracing.md) end to end: the real API and worker entry points as processes, configured
 * only by OTEL_* variables, export over OTLP/HTTP to a real Jaeger; a forecast opens an incident
 * whose two steps call a target on 127.0.0.1. The trace Jaeger assembles must run from the intake
 * request through the workflow start, the workflow and each step's activity to each outbound call,
 * and the target must have been handed that trace in its `traceparent` header.
 */
describe('tracing with OpenTelemetry', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let jaeger: Jaeger;
  const processes: Spawned[] = [];
  let api = '';

  /** The real worker entry point (src/worker/main.ts) with the test run's bundle, resolved once it polls. */
  async function startWorkerMain(env: Record<string, string>): Promise<Spawned> {
    const worker = spawnNode('src/worker/main.ts', {
      AIRE_LOG_LEVEL: 'info',
      AIRE_WORKER_METRICS_PORT: '0',
      AIRE_WORKFLOW_BUNDLE: testEnv().workflowBundlePath,
      ...env,
    });
    processes.push(worker);
    let out = '';
    worker.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(async () => {
      if (worker.child.exitCode !== null) throw new Error(`worker exited (${worker.child.exitCode}): ${worker.stderr()}`);
      return out.includes('"msg":"worker started"') ? true : undefined;
    }, 60_000);
    return worker;
  }

  beforeAll(async () => {
    jaeger = await new Jaeger().start(testEnv().stateDir);
    stack = await Stack.start('tracing', { worker: false });
    target = await new Receiver().start();
    tenant = await stack.tenant('tracing');
    const env = {
      DATABASE_URL: stack.config.DATABASE_URL,
      TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS,
      AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE,
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl,
      // Spans leave within 100 ms instead of the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    await startWorkerMain(env);
    const started = await startApiProcess(await freePort(), env);
    processes.push(started);
    api = started.url;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => stopProcess(p)));
    await stack?.stop();
    await target?.stop();
    await jaeger?.stop();
  });

  async function call<T>(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  test('one trace runs from the intake request through the workflow and each step to the target, which gets its traceparent', async () => {
    const rb = uniqueId('traced');
    const step = (id: string) => ({ id, name: `Call ${id}`, action: 'http', params: { method: 'POST', url: `${target.url}/${rb}/${id}`, body: { step: id } } });
    const runbook = { id: rb, name: rb, triggers: { titlePattern: rb }, completion: { autoResolve: true }, steps: [step('one'), step('two')] };
    expect((await call('PUT', `/api/runbooks/${rb}`, tenant.keys.admin, runbook)).status).toBe(201);

    // Medium (confidence 50): a high incident's resolution would start its post-mortem review, whose
    // workflow span stays open until the review date, days away, and so is not in the trace yet.
    const forecast = { id: uniqueId('fc'), riskType: `capacity exhaustion ${rb}`, confidence: 50, recommendedAction: 'scale out' };
    const opened = await call<{ id: string }>('POST', '/api/incident/from-forecast', tenant.keys.ingest, forecast);
    expect(opened.status).toBe(201);
    await stack.incidentWhen(tenant, opened.body.id, (v) => v.incident.status === 'resolved');
    // The workflow's own span ends with the workflow: close the incident so that it does.
    expect((await call('POST', `/api/incidents/${opened.body.id}/close`, tenant.keys.responder, {})).status).toBe(200);
    await stack.incidentWhen(tenant, opened.body.id, (v) => v.incident.status === 'closed');

    // The target saw each step's call with a W3C traceparent: version 00, a trace id, the caller's span id, sampled.
    const received = ['one', 'two'].map((id) => target.requests.find((r) => r.path === `/${rb}/${id}`));
    const parents = received.map((r) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(r?.headers.traceparent)));
    expect(parents.map((m) => m !== null)).toEqual([true, true]);
    const traceId = parents[0]![1]!;
    expect(parents[1]![1]).toBe(traceId);

    const names = ['RunWorkflow:incidentWorkflow', 'POST /api/incident/from-forecast'];
    const spans = await eventually(async () => {
      const found = await jaeger.trace(traceId);
      const complete = names.every((n) => found.some((s) => s.operationName === n)) && found.filter((s) => s.operationName === 'POST').length === 2;
      return complete ? found : undefined;
    }, 30_000);

    const byId = new Map(spans.map((s) => [s.spanID, s]));
    const parentOf = (s: JaegerSpan | undefined): JaegerSpan | undefined => byId.get(s?.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? '');
    const tag = (s: JaegerSpan | undefined, key: string): unknown => s?.tags.find((t) => t.key === key)?.value;
    const only = (name: string): JaegerSpan => {
      const found = spans.filter((s) => s.operationName === name);
      expect(found.map((s) => s.operationName)).toEqual([name]);
      return found[0]!;
    };

    // The API and the worker both report into this one trace.
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['aire-api', 'aire-worker']));
    // The intake request is the root: the API's server span, named by its route.
    const request = only('POST /api/incident/from-forecast');
    expect(spans.filter((s) => parentOf(s) === undefined)).toEqual([request]);
    expect([request.service, tag(request, 'http.route'), tag(request, 'http.response.status_code')]).toEqual(['aire-api', '/api/incident/from-forecast', 201]);
    // The Temporal client starts the workflow inside it; the worker runs the workflow under that start.
    const start = only('StartWorkflow:incidentWorkflow');
    expect([start.service, parentOf(start)]).toEqual(['aire-api', request]);
    const run = only('RunWorkflow:incidentWorkflow');
    expect([run.service, parentOf(run)]).toEqual(['aire-worker', start]);
    // Workflow spans name their workflow, and carry nothing of its memo or search attributes (the incident's title, its context).
    expect([tag(run, 'workflowId'), tag(run, 'workflowType')]).toEqual([expect.stringMatching(/^incident\//), 'incidentWorkflow']);
    expect(
      spans.flatMap((s) => s.tags.filter((t) => JSON.stringify(t.value).includes('capacity exhaustion')).map((t) => `${s.operationName} ${t.key}`)),
    ).toEqual([]);

    // Each step: the workflow schedules its activity, the worker runs it, and the action's call goes out from there.
    for (const [i, id] of ['one', 'two'].entries()) {
      const activity = spans.find((s) => s.operationName === 'RunActivity:http.execute' && tag(s, 'aire.step.id') === id);
      expect([tag(activity, 'aire.step.name'), tag(activity, 'aire.incident.id')]).toEqual([`Call ${id}`, opened.body.id]);
      const scheduled = parentOf(activity);
      expect([scheduled?.operationName, parentOf(scheduled)]).toEqual(['StartActivity:http.execute', run]);
      const outbound = spans.filter((s) => s.operationName === 'POST' && parentOf(s) === activity);
      expect(outbound.map((s) => [s.service, tag(s, 'url.full'), tag(s, 'http.response.status_code')])).toEqual([
        ['aire-worker', `${target.url}/${rb}/${id}`, 200],
      ]);
      // The traceparent the target got names the outbound call's span.
      expect(parents[i]![2]).toBe(outbound[0]!.spanID);
    }
  }, 120_000);

  test('an incident started without a trace (through an API that does not trace) is not traced by a worker that does', async () => {
    const rb = uniqueId('untraced');
    const steps = [{ id: 'one', name: 'Call one', action: 'http', params: { method: 'POST', url: `${target.url}/${rb}/one` } }];
    await stack.call('PUT', `/api/runbooks/${rb}`, tenant.keys.admin, { id: rb, name: rb, triggers: { titlePattern: rb }, steps });
    // The test's in-process API has no tracing; the worker process that runs the incident has.
    const opened = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, {
      title: `${rb} incident`,
      severity: 'medium',
      dedupKey: rb,
    });
    expect(opened.status).toBe(201);
    await stack.incidentWhen(tenant, opened.body.id, (v) => v.incident.status === 'mitigated');
    const sent = target.requests.filter((r) => r.path === `/${rb}/one`);
    expect(sent.map((r) => [r.method, r.headers.traceparent, r.headers.tracestate])).toEqual([['POST', undefined, undefined]]);
    // Spans leave within ~0.2 s (export every 100 ms, Jaeger's batch 100 ms): after a second, none came.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await jaeger.find('aire-worker', { 'aire.incident.id': opened.body.id })).toEqual([]);
  }, 60_000);
});
