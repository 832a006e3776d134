import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { NON_RETRYABLE, callOut, checkEgress } from '../egress';
import { ActionContext, defineAction } from './types';
import { Healthy, PollSchema, pollHealth } from './verify';

const Params = z
  .object({
    /** The deploy API: GET answers `{"releases": [...]}` oldest first; POST `<url>/rollback` rolls back. */
    deploymentsUrl: z.string().url(),
    service: z.string().min(1).max(200),
    /** Checked after the rollback, like `verify`, until healthy or `health.timeout`. */
    healthUrl: z.string().url().optional(),
    health: PollSchema.optional(),
    /** Sent to the deploy API only, not to `healthUrl`. */
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine((p) => !p.health || p.healthUrl, { message: 'health needs a healthUrl to check', path: ['health'] });
type RollbackParams = z.infer<typeof Params>;

const Version = z.union([z.string().min(1), z.number()]);
type Version = z.infer<typeof Version>;

const Releases = z.object({
  releases: z.array(
    z.object({
      version: Version,
      status: z.string(),
      current: z.boolean().optional(),
    }),
  ),
});

interface Plan {
  from: Version;
  to: Version;
}

function rollbackUrl(deploymentsUrl: string): string {
  const url = new URL(deploymentsUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/rollback`;
  return url.toString();
}

/** The current release and the last release marked good before it. */
async function planRollback(ctx: ActionContext, params: RollbackParams): Promise<Plan> {
  const res = await callOut(
    { method: 'GET', url: params.deploymentsUrl, headers: params.headers, idempotencyKey: ctx.idempotencyKey },
    ctx.config.AIRE_EGRESS_ALLOWLIST,
  );
  const parsed = Releases.safeParse(res.body);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `GET ${params.deploymentsUrl} did not answer {"releases": [{"version", "status", "current"}]}`,
      NON_RETRYABLE.rejectedByTarget,
    );
  }
  const { releases } = parsed.data;
  const currentIndex = releases.findIndex((r) => r.current === true);
  const current = releases[currentIndex];
  if (current === undefined) {
    throw ApplicationFailure.nonRetryable(`GET ${params.deploymentsUrl}: no release is marked current`, NON_RETRYABLE.rejectedByTarget);
  }
  const good = releases
    .slice(0, currentIndex)
    .reverse()
    .find((r) => r.status === 'good');
  if (!good) {
    throw ApplicationFailure.nonRetryable(
      `${params.service}: no release marked good before the current release ${current.version}; nothing to roll back to`,
      NON_RETRYABLE.rejectedByTarget,
    );
  }
  return { from: current.version, to: good.version };
}

async function rollTo(ctx: ActionContext, params: RollbackParams, to: Version, idempotencyKey: string): Promise<void> {
  await callOut(
    { method: 'POST', url: rollbackUrl(params.deploymentsUrl), headers: params.headers, body: { service: params.service, to }, idempotencyKey },
    ctx.config.AIRE_EGRESS_ALLOWLIST,
  );
}

/** Rolls a service back to its last known good release, then checks its health. */
export const rollbackDeployAction = defineAction({
  type: 'rollback_deploy',
  description: 'Roll a service back to its last known good release through its deploy API, then check its health; compensation rolls forward again',
  params: Params,
  async execute(ctx, params) {
    // A health URL the egress allowlist refuses would fail the step after the rollback: refuse it before.
    if (params.healthUrl) await checkEgress(params.healthUrl, ctx.config.AIRE_EGRESS_ALLOWLIST);
    // Read once: a retry after the rollback landed must not take the good release for the current one.
    const plan = await ctx.remember<Plan>('rollbackPlan', () => planRollback(ctx, params));
    await rollTo(ctx, params, plan.to, ctx.idempotencyKey);
    let health: Healthy | undefined;
    if (params.healthUrl) {
      const poll = params.health ?? PollSchema.parse({});
      health = await pollHealth(ctx, { url: params.healthUrl, ...poll }, ctx.idempotencyKey);
    }
    return { from: plan.from, to: plan.to, ...(health ? { health } : {}) };
  },
  async compensate(ctx, params, output) {
    await rollTo(ctx, params, output.from, `${ctx.idempotencyKey}:compensate`);
    return { rolledForwardTo: output.from };
  },
  describeCompensation: (params) => `roll ${params.service} forward again to the release that was current before the rollback (read when the step runs)`,
});
