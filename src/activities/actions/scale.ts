import { ApplicationFailure } from '@temporalio/activity';
import { type ScaleParams, scaleSpec, targetReplicas } from '../../domain/actions/scale';
import { NON_RETRYABLE, callOut } from '../egress';
import { ActionContext, defineExecutor } from './types';

async function readReplicas(ctx: ActionContext, params: ScaleParams): Promise<number> {
  const res = await callOut({ method: 'GET', url: params.url, headers: params.headers, idempotencyKey: ctx.idempotencyKey }, ctx.egress.allowlist);
  const replicas = (res.body as { replicas?: unknown } | null)?.replicas;
  if (typeof replicas !== 'number') {
    throw ApplicationFailure.nonRetryable(`GET ${params.url} did not answer {"replicas": <number>}`, NON_RETRYABLE.rejectedByTarget);
  }
  return replicas;
}

async function setReplicas(ctx: ActionContext, params: ScaleParams, replicas: number, idempotencyKey: string): Promise<void> {
  await callOut({ method: 'PUT', url: params.url, headers: params.headers, body: { replicas }, idempotencyKey }, ctx.egress.allowlist);
}

/** `scale` (src/domain/actions/scale.ts): sets capacity, remembering what it replaced so compensation can put it back. */
export const scaleExecutor = defineExecutor(scaleSpec, {
  async execute(ctx, params) {
    // Read once: a retry after the PUT landed must not mistake the new capacity for the old one.
    const previous = await ctx.remember('previousReplicas', () => readReplicas(ctx, params));
    const current = targetReplicas(params, previous);
    await setReplicas(ctx, params, current, ctx.idempotencyKey);
    return { previous, current };
  },
  async compensate(ctx, params, output) {
    await setReplicas(ctx, params, output.previous, `${ctx.idempotencyKey}:compensate`);
    return { restored: output.previous };
  },
});
