import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { type HttpRestartParams, type KubernetesRestartParams, RolloutSchema, restartSpec, restartTarget } from '../../domain/actions/restart';
import { type Healthy, PollSchema } from '../../domain/actions/verify';
import { heartbeat, pause } from '../activity-context';
import { NON_RETRYABLE, callOut, checkEgress } from '../egress';
import { ActionContext, defineExecutor } from './types';
import { pollHealth } from './verify';

/** The annotation `kubectl rollout restart` sets: a new value changes the pod template, so the Deployment rolls. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** The parts of a Deployment (apps/v1) a rollout is judged by; absent counts are 0, as the API server omits them. */
const Deployment = z.object({
  metadata: z.object({ generation: z.number().int() }),
  spec: z.object({ replicas: z.number().int().default(1) }),
  status: z
    .object({
      observedGeneration: z.number().int().default(0),
      replicas: z.number().int().default(0),
      updatedReplicas: z.number().int().default(0),
      readyReplicas: z.number().int().default(0),
    })
    .default({ observedGeneration: 0, replicas: 0, updatedReplicas: 0, readyReplicas: 0 }),
});
type Deployment = z.infer<typeof Deployment>;

function join(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  return url.toString();
}

function deploymentUrl(params: KubernetesRestartParams): string {
  return join(params.apiUrl, `/apis/apps/v1/namespaces/${encodeURIComponent(params.namespace)}/deployments/${encodeURIComponent(params.name)}`);
}

/** The step's headers without any content-type of their own: the patch must be sent as a strategic merge patch. */
function patchHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const kept = Object.entries(headers ?? {}).filter(([name]) => name.toLowerCase() !== 'content-type');
  return { ...Object.fromEntries(kept), 'content-type': 'application/strategic-merge-patch+json' };
}

async function readDeployment(ctx: ActionContext, params: KubernetesRestartParams, timeoutMs?: number): Promise<Deployment> {
  const url = deploymentUrl(params);
  const res = await callOut({ method: 'GET', url, headers: params.headers, idempotencyKey: ctx.idempotencyKey, timeoutMs }, ctx.egress.allowlist);
  const parsed = Deployment.safeParse(res.body);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`GET ${url} did not answer a Deployment (metadata.generation, spec.replicas)`, NON_RETRYABLE.rejectedByTarget);
  }
  return parsed.data;
}

/** Why the rollout is not finished yet, as `kubectl rollout status` would say it; undefined once it is. */
function rolloutProblem(d: Deployment): string | undefined {
  const want = d.spec.replicas;
  const s = d.status;
  if (s.observedGeneration < d.metadata.generation) return `generation ${d.metadata.generation} not observed yet (observed ${s.observedGeneration})`;
  if (s.updatedReplicas < want) return `${s.updatedReplicas} of ${want} replicas updated`;
  if (s.replicas > s.updatedReplicas) return `${s.replicas - s.updatedReplicas} old replicas pending termination`;
  if (s.readyReplicas < want) return `${s.readyReplicas} of ${want} updated replicas ready`;
  return undefined;
}

/** Polls the Deployment until its rollout is finished or `rollout.timeout` passes (a retryable Error), heartbeating meanwhile. */
async function awaitRollout(ctx: ActionContext, params: KubernetesRestartParams): Promise<{ health: Healthy; deployment: Deployment }> {
  const { interval, timeout } = params.rollout ?? RolloutSchema.parse({});
  const started = Date.now();
  const deadline = started + timeout;
  let checks = 0;
  let problem = 'no answer yet';
  for (;;) {
    checks += 1;
    heartbeat({ checks, problem });
    try {
      const deployment = await readDeployment(ctx, params, Math.min(10_000, Math.max(1_000, deadline - Date.now())));
      const notYet = rolloutProblem(deployment);
      if (notYet === undefined) return { health: { healthy: true, status: 200, checks, elapsedMs: Date.now() - started }, deployment };
      problem = notYet;
    } catch (err) {
      // A Deployment that is gone or refused is final; a slow or failing API server is "not yet".
      if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
      problem = err instanceof Error ? err.message : String(err);
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await pause(Math.min(interval, left), { checks, problem });
  }
  throw new Error(`${restartTarget(params)} did not finish its rollout within ${timeout} ms (${checks} checks); last: ${problem}`);
}

/** kubectl's RFC 3339 timestamp, without fractions of a second. */
function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function restartHttp(ctx: ActionContext, params: HttpRestartParams, restartedAt: string) {
  // An unhealthy verdict would come after the restart: refuse a health URL off the allowlist before.
  await checkEgress(params.healthUrl, ctx.egress.allowlist);
  // Read first: a wrong URL fails here, before anything restarts.
  await ctx.remember('restartRead', async () => {
    await callOut({ method: 'GET', url: params.url, headers: params.headers, idempotencyKey: ctx.idempotencyKey }, ctx.egress.allowlist);
    return true;
  });
  await ctx.remember('restarted', async () => {
    const body = { restartedAt, incidentId: ctx.incidentId };
    await callOut(
      { method: 'POST', url: join(params.url, '/restart'), headers: params.headers, body, idempotencyKey: ctx.idempotencyKey },
      ctx.egress.allowlist,
    );
    return true;
  });
  const health = await pollHealth(ctx, { url: params.healthUrl, ...(params.health ?? PollSchema.parse({})) }, ctx.idempotencyKey);
  return { kind: 'http' as const, target: params.url, restartedAt, health };
}

async function restartKubernetes(ctx: ActionContext, params: KubernetesRestartParams, restartedAt: string) {
  // Read first: a Deployment that does not exist (404) or a token that may not read it fails here.
  await ctx.remember('restartRead', async () => (await readDeployment(ctx, params)).metadata.generation);
  await ctx.remember('restarted', async () => {
    const patch = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } } };
    await callOut(
      { method: 'PATCH', url: deploymentUrl(params), headers: patchHeaders(params.headers), body: patch, idempotencyKey: ctx.idempotencyKey },
      ctx.egress.allowlist,
    );
    return true;
  });
  const { health, deployment } = await awaitRollout(ctx, params);
  return {
    kind: 'kubernetes' as const,
    target: restartTarget(params),
    restartedAt,
    health,
    generation: deployment.metadata.generation,
    replicas: deployment.spec.replicas,
  };
}

/**
 * `restart` (src/domain/actions/restart.ts): read, restart once, then wait until healthy. The
 * timestamp is remembered before the restart is sent and the restart is remembered once it landed:
 * a retry (the health check timed out, the worker died) re-checks health without restarting again,
 * and a retry whose first restart landed unrecorded sends the very same request again (the same
 * Idempotency-Key; for Kubernetes the same annotation value, which leaves the pod template as it is,
 * so no second rollout).
 */
export const restartExecutor = defineExecutor(restartSpec, {
  async execute(ctx, params) {
    const restartedAt = await ctx.remember('restartedAt', () => Promise.resolve(now()));
    return params.kind === 'kubernetes' ? restartKubernetes(ctx, params, restartedAt) : restartHttp(ctx, params, restartedAt);
  },
});
