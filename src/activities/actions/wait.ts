import { waitSpec } from '../../domain/actions/wait';
import { pause } from '../activity-context';
import { defineExecutor } from './types';

/** `wait` (src/domain/actions/wait.ts): cancelling the incident cuts it short. */
export const waitExecutor = defineExecutor(waitSpec, {
  async execute(_ctx, params) {
    const started = Date.now();
    await pause(params.duration, { waitingMs: params.duration });
    return { waitedMs: Date.now() - started };
  },
});
