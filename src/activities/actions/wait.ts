import { z } from 'zod';
import { DurationSchema } from '../../domain/duration';
import { pause } from '../activity-context';
import { defineAction } from './types';

const Params = z
  .object({
    /** How long to wait, e.g. "30s" or "5m"; the step's timeout must be longer. */
    duration: DurationSchema,
  })
  .strict();

/** Waits, e.g. to let a change settle before verifying it; cancelling the incident cuts it short. */
export const waitAction = defineAction({
  type: 'wait',
  description: 'Wait for a duration (cancellable), e.g. to let a change settle before verifying it',
  params: Params,
  async execute(_ctx, params) {
    const started = Date.now();
    await pause(params.duration, { waitingMs: params.duration });
    return { waitedMs: Date.now() - started };
  },
  describeCompensation: () => 'nothing: waiting has no effect to undo',
});
