import { z } from 'zod';
import { SlugSchema } from './incident';

/** Who did it: `key:<name>` for an API key, or a person's name given by a trusted front end. */
export const ActorSchema = z.string().trim().min(1).max(200);

const reason = z.string().trim().max(2_000).optional();
/**
 * The incident a message is meant for. Workflow ids are reused once an incident closes, so a message
 * names its incident and a newer incident with the same id ignores it.
 */
const incidentId = z.uuid().optional();

/** An approve or reject decision on the pending gate (the runbook's, or the step named). */
export const DecisionSchema = z.object({
  actor: ActorSchema,
  reason,
  incidentId,
  /** Which gate the decision is for; omitted means whichever gate is waiting now. */
  stepId: SlugSchema.optional(),
});
export type Decision = z.infer<typeof DecisionSchema>;

/** acknowledge, rollback, resolve and close carry who and why. */
export const NoteSchema = z.object({ actor: ActorSchema, reason, incidentId });
export type Note = z.infer<typeof NoteSchema>;

/** A duplicate event joining an open incident. */
export const EventJoinSchema = z.object({
  eventId: z.string().min(1).max(300),
  at: z.string(),
  summary: z.string().max(500).optional(),
});
export type EventJoin = z.infer<typeof EventJoinSchema>;

/** A person reports a `manual` step done (or failed). */
export const ManualCompletionSchema = z.object({
  actor: ActorSchema,
  stepId: SlugSchema,
  outcome: z.enum(['done', 'failed']).default('done'),
  note: z.string().trim().max(2_000).optional(),
  incidentId,
});
export type ManualCompletion = z.infer<typeof ManualCompletionSchema>;

/** What to do with a step that failed and says `onFailure: escalate`. */
export const StepDecisionSchema = z.object({
  actor: ActorSchema,
  stepId: SlugSchema,
  decision: z.enum(['retry', 'skip', 'abort']),
  reason,
  incidentId,
});
export type StepDecision = z.infer<typeof StepDecisionSchema>;
