import { manualSpec } from '../../domain/actions/manual';
import { callOut } from '../egress';
import { defineExecutor } from './types';

/**
 * `manual` (src/domain/actions/manual.ts): assigns the step (and optionally notifies the assignee);
 * the workflow then waits until someone reports it done or failed through the API.
 */
export const manualExecutor = defineExecutor(manualSpec, {
  async execute(ctx, params) {
    if (params.notifyUrl) {
      await callOut(
        {
          method: 'POST',
          url: params.notifyUrl,
          body: {
            type: 'aire.manual_step',
            incident: ctx.incident,
            stepId: ctx.stepId,
            assignee: params.assignee,
            instructions: params.instructions,
            complete: `/api/incidents/${ctx.incidentId}/steps/${ctx.stepId}/complete`,
          },
          idempotencyKey: ctx.idempotencyKey,
        },
        ctx.egress.allowlist,
      );
    }
    return { assignee: params.assignee ?? null, instructions: params.instructions };
  },
});
