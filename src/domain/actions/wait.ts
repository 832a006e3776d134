import { z } from 'zod';
import { DurationSchema } from '../duration';
import { defineActionSpec } from './spec';

export const WaitParams = z
  .object({
    /** How long to wait, e.g. "30s" or "5m"; the step's timeout must be longer. */
    duration: DurationSchema,
  })
  .strict();

/** Waits, e.g. to let a change settle before verifying it; cancelling the incident cuts it short. */
export const waitSpec = defineActionSpec({
  type: 'wait',
  description: 'Wait for a duration (cancellable), e.g. to let a change settle before verifying it',
  params: WaitParams,
  output: z.object({ waitedMs: z.number() }),
  compensable: false,
  describeCompensation: () => 'nothing: waiting has no effect to undo',
});
