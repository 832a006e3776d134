import { z } from 'zod';
import { defineActionSpec } from './spec';

export const ManualParams = z
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
export const manualSpec = defineActionSpec({
  type: 'manual',
  description: 'A step a person does: assign it, then wait for POST /api/incidents/:id/steps/:stepId/complete',
  params: ManualParams,
  output: z.object({ assignee: z.string().nullable(), instructions: z.string() }),
  compensable: false,
  awaitsPerson: true,
  describeCompensation: () => 'nothing automatic: a person did this step, and undoes it by hand if needed',
});
