import { z } from 'zod';
import { callOut } from '../egress';
import { defineAction } from './types';

const Params = z
  .object({
    /** What the person has to do, in words they can act on at 3 a.m. */
    instructions: z.string().min(1).max(4_000),
    /** A person or team, as your paging tool names them. */
    assignee: z.string().min(1).max(200).optional(),
    /** Tell the assignee here (a webhook), in addition to the incident's own record. */
    notifyUrl: z.string().url().optional(),
  })
  .strict();

/**
 * A step a person does. Execute assigns it (and optionally notifies the assignee); the workflow then
 * waits until someone reports it done or failed through the API.
 */
export const manualAction = defineAction({
  type: 'manual',
  description: 'A step a person does: assign it, then wait for POST /api/incidents/:id/steps/:stepId/complete',
  params: Params,
  awaitsPerson: true,
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
        ctx.config.AIRE_EGRESS_ALLOWLIST,
      );
    }
    return { assignee: params.assignee ?? null, instructions: params.instructions };
  },
  describeCompensation: () => 'nothing automatic: a person did this step, and undoes it by hand if needed',
});
