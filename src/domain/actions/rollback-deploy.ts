import { z } from 'zod';
import { defineActionSpec } from './spec';
import { HealthySchema, PollSchema } from './verify';

export const RollbackDeployParams = z
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
export type RollbackDeployParams = z.infer<typeof RollbackDeployParams>;

/** A release as the deploy API names it. */
export const ReleaseVersion = z.union([z.string().min(1), z.number()]);
export type ReleaseVersion = z.infer<typeof ReleaseVersion>;

/** Rolls a service back to its last known good release, then checks its health. */
export const rollbackDeploySpec = defineActionSpec({
  type: 'rollback_deploy',
  description: 'Roll a service back to its last known good release through its deploy API, then check its health; compensation rolls forward again',
  params: RollbackDeployParams,
  output: z.object({
    /** The release that was current: compensation rolls forward to it. */
    from: ReleaseVersion,
    to: ReleaseVersion,
    /** Present when the step has a healthUrl. */
    health: HealthySchema.optional(),
  }),
  compensable: true,
  describeCompensation: (params) => `roll ${params.service} forward again to the release that was current before the rollback (read when the step runs)`,
});
