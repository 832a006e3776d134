import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { NON_RETRYABLE, callOut } from '../egress';
import { ActionContext, defineAction } from './types';

const Params = z
  .object({
    /** The capacity resource of a platform API: GET answers `{"replicas": n}`, PUT sets it. */
    url: z.string().url(),
    replicas: z.number().int().min(0).max(10_000),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict();
type ScaleParams = z.infer<typeof Params>;

async function readReplicas(ctx: ActionContext, params: ScaleParams): Promise<number> {
  const res = await callOut({ method: 'GET', url: params.url, headers: params.headers, idempotencyKey: ctx.idempotencyKey }, ctx.config.AIRE_EGRESS_ALLOWLIST);
  const replicas = (res.body as { replicas?: unknown } | null)?.replicas;
  if (typeof replicas !== 'number') {
    throw ApplicationFailure.nonRetryable(`GET ${params.url} did not answer {"replicas": <number>}`, NON_RETRYABLE.rejectedByTarget);
  }
  return replicas;
}

async function setReplicas(ctx: ActionContext, params: ScaleParams, replicas: number, idempotencyKey: string): Promise<void> {
  await callOut({ method: 'PUT', url: params.url, headers: params.headers, body: { replicas }, idempotencyKey }, ctx.config.AIRE_EGRESS_ALLOWLIST);
}

/** Sets capacity, remembering what it replaced so compensation can put it back. */
export const scaleAction = defineAction({
  type: 'scale',
  description: 'Set the capacity of a service through its platform API; compensation restores the previous capacity',
  params: Params,
  async execute(ctx, params) {
    // Read once: a retry after the PUT landed must not mistake the new capacity for the old one.
    const previous = await ctx.remember('previousReplicas', () => readReplicas(ctx, params));
    await setReplicas(ctx, params, params.replicas, ctx.idempotencyKey);
    return { previous, current: params.replicas };
  },
  async compensate(ctx, params, output) {
    await setReplicas(ctx, params, output.previous, `${ctx.idempotencyKey}:compensate`);
    return { restored: output.previous };
  },
  describeCompensation: (params) => `set ${params.url} back to the capacity it had before (read when the step runs)`,
});
