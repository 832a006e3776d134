import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { z } from 'zod';
import { RESTARTED_AT, restartExecutor } from '../../src/activities/actions/restart';
import { ActionContext } from '../../src/activities/actions/types';
import { restartSpec } from '../../src/domain/actions';
import { ConfigSchema } from '../../src/config';
import { planRunbook, draftFromSample, SampleIncidentSchema } from '../../src/domain/dry-run';
import { RunbookSchema } from '../../src/domain/runbook';
import { DEFAULT_APPROVAL_POLICY } from '../../src/domain/policy';
import { Received, Receiver } from '../support/receiver';

/**
 * `restart` against a platform API and a Kubernetes-style deployments API, both played by a
 * receiver on 127.0.0.1: read, restart once, wait until healthy; a retry never restarts twice.
 */
let target: Receiver;
const config = ConfigSchema.parse({});

beforeAll(async () => {
  target = await new Receiver().start();
});
afterAll(async () => {
  await target?.stop();
});

/** A step's context as steps.ts builds it, `remember` kept in memory; restart uses no switches. */
function context(): ActionContext & { memory: Map<string, unknown> } {
  const incidentId = randomUUID();
  const stepId = `step-${randomUUID().slice(0, 8)}`;
  const memory = new Map<string, unknown>();
  const noSwitches = (): Promise<never> => Promise.reject(new Error('restart uses no switches'));
  return {
    tenantId: randomUUID(),
    incidentId,
    stepId,
    incident: { id: incidentId, title: 'Checkout is wedged', severity: 'high', source: 'manual' },
    idempotencyKey: `aire:${incidentId}:${stepId}`,
    egress: { allowlist: config.AIRE_EGRESS_ALLOWLIST },
    commands: { allowlist: [] },
    smtp: { host: '127.0.0.1', port: 25, from: 'aire@localhost' },
    sensitiveKeys: [],
    controls: { read: noSwitches, write: noSwitches },
    memory,
    async remember<T>(key: string, produce: () => Promise<T>): Promise<T> {
      if (memory.has(key)) return memory.get(key) as T;
      const value = await produce();
      memory.set(key, value);
      return value;
    },
  };
}

type Output = z.output<typeof restartSpec.output>;

/** Parses as steps.ts does and runs `execute` as a real activity; the answer must match the spec's output schema. */
async function execute(ctx: ActionContext, raw: unknown): Promise<Output> {
  const params = restartSpec.params.parse(raw);
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const output: Output = await env.run(() => restartExecutor.execute(ctx, params));
  expect(restartSpec.output.parse(output)).toEqual(output);
  return output;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`, { cause: err });
  }
  throw new Error('expected a failure, but it succeeded');
}

const sent = (method: string, path: string): Received[] => target.requests.filter((r) => r.method === method && r.path === path);

describe('restart, kind http', () => {
  const service = (name: string) => ({ url: `${target.url}/${name}/services/checkout`, healthUrl: `${target.url}/${name}/health` });

  test('reads the service, restarts it once, then waits until it is healthy', async () => {
    target.on('GET', '/h1/health', { status: 503 }, { status: 503 }, { status: 200, body: { status: 'ok' } });
    const ctx = context();
    const output = await execute(ctx, { ...service('h1'), health: { interval: '20ms', timeout: '5s' } });
    expect(output).toMatchObject({ kind: 'http', target: `${target.url}/h1/services/checkout`, health: { healthy: true, status: 200, checks: 3 } });
    expect(output.restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const read = sent('GET', '/h1/services/checkout');
    const restarts = sent('POST', '/h1/services/checkout/restart');
    expect([read.length, restarts.length]).toEqual([1, 1]);
    expect(read[0]!.at).toBeLessThanOrEqual(restarts[0]!.at);
    expect(restarts[0]!.body).toEqual({ restartedAt: output.restartedAt, incidentId: ctx.incidentId });
    expect(restarts[0]!.headers['idempotency-key']).toBe(ctx.idempotencyKey);
    // Health is checked only after the restart.
    expect(sent('GET', '/h1/health').every((h) => h.at >= restarts[0]!.at)).toBe(true);
  });

  test('a service that stays unhealthy fails the step with a clear, retryable error; the retry does not restart again', async () => {
    target.on('GET', '/h2/health', { status: 503, body: { status: 'down' } });
    const ctx = context();
    const params = { ...service('h2'), health: { interval: '50ms', timeout: '250ms' } };
    const err = await failure(execute(ctx, params));
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.message).toContain(`${target.url}/h2/health was not healthy within 250 ms`);
    expect(err.message).toContain('answered 503');

    // Temporal retries the activity with the same step memory: it waits again, it does not restart again.
    target.on('GET', '/h2/health', { status: 200 });
    const retry = await execute(ctx, params);
    expect(retry.health.healthy).toBe(true);
    expect(sent('POST', '/h2/services/checkout/restart')).toHaveLength(1);
    expect(sent('GET', '/h2/services/checkout')).toHaveLength(1);
  });

  test('a restart that landed but was not recorded is sent again with the same key and timestamp, and applied once', async () => {
    const ctx = context();
    const params = service('h3');
    const first = await execute(ctx, params);
    // The worker died after the POST, before it was remembered: only the timestamp survived.
    ctx.memory.delete('restarted');
    const retry = await execute(ctx, params);
    expect(retry.restartedAt).toBe(first.restartedAt);
    const posts = sent('POST', '/h3/services/checkout/restart');
    expect(posts).toHaveLength(2);
    expect(new Set(posts.map((p) => p.headers['idempotency-key'])).size).toBe(1);
    expect(target.paths('h3')).toEqual(['POST /h3/services/checkout/restart']);
  });

  test('a service the platform API does not know fails for good, before anything restarts', async () => {
    target.on('GET', '/h4/services/checkout', { status: 404, body: { error: 'no such service' } });
    const err = await failure(execute(context(), service('h4')));
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect(err.message).toContain('answered 404');
    expect(sent('POST', '/h4/services/checkout/restart')).toHaveLength(0);
  });

  test('refuses a health URL off the egress allowlist before restarting', async () => {
    const err = await failure(execute(context(), { url: `${target.url}/h5/services/checkout`, healthUrl: 'https://example.com/health' }));
    expect(err.message).toContain('egress denied');
    expect(target.requests.filter((r) => r.path.startsWith('/h5/'))).toHaveLength(0);
  });
});

/** A Deployment as the API server answers it, `ready` of `replicas` pods updated and ready. */
function deployment(generation: number, observed: number, replicas: number, ready: number, old = 0): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'checkout', namespace: 'shop', generation },
    spec: { replicas, template: { metadata: { annotations: {} } } },
    status: { observedGeneration: observed, replicas: ready + old, updatedReplicas: ready, readyReplicas: ready },
  };
}

describe('restart, kind kubernetes', () => {
  const PATH = (api: string) => `/${api}/apis/apps/v1/namespaces/shop/deployments/checkout`;
  const params = (api: string, extra: Record<string, unknown> = {}) => ({
    kind: 'kubernetes',
    apiUrl: `${target.url}/${api}`,
    namespace: 'shop',
    name: 'checkout',
    headers: { Authorization: 'Bearer k8s-token', 'Content-Type': 'application/json' },
    rollout: { interval: '20ms', timeout: '5s' },
    ...extra,
  });

  test('patches the restartedAt annotation as kubectl rollout restart does, then waits for the rollout', async () => {
    target.on(
      'GET',
      PATH('k1'),
      { body: deployment(4, 4, 3, 3) },
      { body: deployment(5, 4, 3, 3) },
      { body: deployment(5, 5, 3, 1, 2) },
      { body: deployment(5, 5, 3, 3, 1) },
      { body: deployment(5, 5, 3, 3) },
    );
    const ctx = context();
    const output = await execute(ctx, params('k1'));
    expect(output).toMatchObject({ kind: 'kubernetes', target: 'deployment shop/checkout', generation: 5, replicas: 3, health: { healthy: true, checks: 4 } });

    const patches = sent('PATCH', PATH('k1'));
    expect(patches).toHaveLength(1);
    expect(patches[0]!.headers['content-type']).toBe('application/strategic-merge-patch+json');
    expect(patches[0]!.headers.authorization).toBe('Bearer k8s-token');
    expect(patches[0]!.body).toEqual({ spec: { template: { metadata: { annotations: { [RESTARTED_AT]: output.restartedAt } } } } });
    // One read before the patch, then polls until observed, updated, old pods gone and ready.
    expect(sent('GET', PATH('k1'))).toHaveLength(5);
  });

  test('a rollout that does not finish fails the step saying why; the retry waits again without a second patch', async () => {
    target.on('GET', PATH('k2'), { body: deployment(2, 2, 2, 2) }, { body: deployment(3, 3, 2, 2, 1) });
    const ctx = context();
    const err = await failure(execute(ctx, params('k2', { rollout: { interval: '50ms', timeout: '250ms' } })));
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.message).toContain('deployment shop/checkout did not finish its rollout within 250 ms');
    expect(err.message).toContain('old replicas pending termination');

    target.on('GET', PATH('k2'), { body: deployment(3, 3, 2, 2) });
    const retry = await execute(ctx, params('k2'));
    expect(retry.generation).toBe(3);
    expect(sent('PATCH', PATH('k2'))).toHaveLength(1);
  });

  test('a patch repeated after a lost record carries the same restartedAt, so the pod template does not change again', async () => {
    target.on('GET', PATH('k3'), { body: deployment(1, 1, 1, 1) });
    const ctx = context();
    const first = await execute(ctx, params('k3'));
    ctx.memory.delete('restarted');
    await execute(ctx, params('k3'));
    const annotations = sent('PATCH', PATH('k3')).map((p) => JSON.stringify(p.body));
    expect(annotations).toHaveLength(2);
    expect(new Set(annotations)).toEqual(
      new Set([JSON.stringify({ spec: { template: { metadata: { annotations: { [RESTARTED_AT]: first.restartedAt } } } } })]),
    );
  });

  test('a Deployment that does not exist fails for good without a patch', async () => {
    target.on('GET', PATH('k4'), { status: 404, body: { kind: 'Status', reason: 'NotFound' } });
    const err = await failure(execute(context(), params('k4')));
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect(sent('PATCH', PATH('k4'))).toHaveLength(0);
  });

  test('refuses an API server off the egress allowlist, and names that are not Kubernetes names', async () => {
    const err = await failure(execute(context(), params('k5', { apiUrl: 'https://k8s.example.com:6443' })));
    expect(err.message).toContain('egress denied');
    const bad = restartSpec.params.safeParse(params('k5', { namespace: 'Shop/..', name: 'checkout?x=1' }));
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join('.'))).toEqual(['namespace', 'name']);
    expect(restartSpec.params.safeParse({ kind: 'nomad', url: target.url }).success).toBe(false);
  });
});

describe('restart in a dry run', () => {
  test('is not compensable, and the dry run says a restart cannot be undone', () => {
    expect(restartSpec.compensable).toBe(false);
    expect(restartExecutor.compensate).toBeUndefined();
    const k8s = restartSpec.params.parse({ kind: 'kubernetes', apiUrl: 'https://k8s.internal', namespace: 'shop', name: 'checkout' });
    expect(restartSpec.describeCompensation(k8s)).toBe(
      'nothing: cannot be undone: a restart of deployment shop/checkout stays done (a rollback records that and moves on)',
    );
    const http = restartSpec.params.parse({ url: 'https://platform.internal/services/checkout', healthUrl: 'https://checkout.internal/health' });
    expect(restartSpec.describeCompensation(http)).toContain('cannot be undone: a restart of https://platform.internal/services/checkout');
  });

  test('a runbook with a restart step plans it with its parameters rendered from the incident', () => {
    const runbook = RunbookSchema.parse({
      id: 'restart-wedged',
      name: 'restart wedged workers',
      triggers: { titlePattern: 'wedged' },
      steps: [
        {
          id: 'restart',
          name: 'restart the deployment',
          action: 'restart',
          params: { kind: 'kubernetes', apiUrl: 'https://k8s.internal', namespace: '{{incident.labels.namespace}}', name: 'checkout' },
        },
      ],
    });
    const incident = draftFromSample(SampleIncidentSchema.parse({ title: 'checkout wedged', severity: 'high', labels: { namespace: 'shop' } }));
    const plan = planRunbook(runbook, incident, DEFAULT_APPROVAL_POLICY);
    expect(plan.matched).toBe(true);
    expect(plan.steps[0]).toMatchObject({ action: 'restart', params: { namespace: 'shop' } });
    expect(restartSpec.describeCompensation(restartSpec.params.parse(plan.steps[0]!.params))).toContain(
      'cannot be undone: a restart of deployment shop/checkout',
    );
  });
});
