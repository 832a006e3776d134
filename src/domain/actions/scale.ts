import { z } from 'zod';
import { defineActionSpec } from './spec';

export const ScaleParams = z
  .object({
    /** The capacity resource of a platform API: GET answers `{"replicas": n}`, PUT sets it. */
    url: z.string().url(),
    /** The capacity to set; or give `percentOfCurrent`. */
    replicas: z.number().int().min(0).max(10_000).optional(),
    /** The capacity to set as a percentage of the current one (50: half, rounded), as seed 000's scale_down says it. */
    percentOfCurrent: z.number().min(0).max(1_000).optional(),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine((p) => (p.replicas === undefined) !== (p.percentOfCurrent === undefined), {
    message: 'give either replicas or percentOfCurrent',
    path: ['replicas'],
  });
export type ScaleParams = z.infer<typeof ScaleParams>;

/** The capacity a step sets, from what the platform answered before it. */
export function targetReplicas(params: ScaleParams, previous: number): number {
  return params.replicas ?? Math.min(10_000, Math.round((previous * (params.percentOfCurrent ?? 100)) / 100));
}

/** Sets capacity, remembering what it replaced so compensation can put it back. */
export const scaleSpec = defineActionSpec({
  type: 'scale',
  description: 'Set the capacity of a service through its platform API; compensation restores the previous capacity',
  params: ScaleParams,
  output: z.object({
    /** The capacity before the step, as the platform API answered it. */
    previous: z.number(),
    current: z.number().int(),
  }),
  compensable: true,
  describeCompensation: (params) => `set ${params.url} back to the capacity it had before (read when the step runs)`,
});
