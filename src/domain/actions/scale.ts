import { z } from 'zod';
import { defineActionSpec } from './spec';

export const ScaleParams = z
  .object({
    /** The capacity resource of a platform API: GET answers `{"replicas": n}`, PUT sets it. */
    url: z.string().url(),
    replicas: z.number().int().min(0).max(10_000),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type ScaleParams = z.infer<typeof ScaleParams>;

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
