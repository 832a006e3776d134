import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { ReleaseVersion, type RollbackDeployParams, rollbackDeploySpec } from '../../domain/actions/rollback-deploy';
import { type Healthy, PollSchema } from '../../domain/actions/verify';
import { NON_RETRYABLE, callOut, checkEgress } from '../egress';
import { ActionContext, defineExecutor } from './types';
import { pollHealth } from './verify';

const Releases = z.object({
  releases: z.array(
    z.object({
      version: ReleaseVersion,
      status: z.string(),
      current: z.boolean().optional(),
    }),
  ),
});

interface Plan {
  from: ReleaseVersion;
  to: ReleaseVersion;
}

function rollbackUrl(deploymentsUrl: string): string {
  const url = new URL(deploymentsUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/rollback`;
  return url.toString();
}

/** The current release and the last release marked good before it. */
async function planRollback(ctx: ActionContext, params: RollbackDeployParams): Promise<Plan> {
  const res = await callOut({ method: 'GET', url: params.deploymentsUrl, headers: params.headers, idempotencyKey: ctx.idempotencyKey }, ctx.egress.allowlist);
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

async function rollTo(ctx: ActionContext, params: RollbackDeployParams, to: ReleaseVersion, idempotencyKey: string): Promise<void> {
  await callOut(
    { method: 'POST', url: rollbackUrl(params.deploymentsUrl), headers: params.headers, body: { service: params.service, to }, idempotencyKey },
    ctx.egress.allowlist,
  );
}

/** `rollback_deploy` (src/domain/actions/rollback-deploy.ts): rolls a service back to its last known good release, then checks its health. */
export const rollbackDeployExecutor = defineExecutor(rollbackDeploySpec, {
  async execute(ctx, params) {
    // A health URL the egress allowlist refuses would fail the step after the rollback: refuse it before.
    if (params.healthUrl) await checkEgress(params.healthUrl, ctx.egress.allowlist);
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
});
