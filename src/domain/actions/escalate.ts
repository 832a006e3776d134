import { z } from 'zod';
import { SeveritySchema } from '../severity';
import { defineActionSpec } from './spec';

export const EscalateParams = z
  .object({
    /** Raise the incident to at least this severity (never lowers it). */
    severity: SeveritySchema.optional(),
    /** Page the next tier: a webhook that receives the escalation. */
    url: z.string().url().optional(),
    message: z.string().min(1).max(4_000).default('The incident is escalated'),
  })
  .strict()
  .refine((p) => p.severity !== undefined || p.url !== undefined, { message: 'give a severity to raise to, a url to page, or both', path: ['severity'] });

/**
 * Escalates: raises the incident's severity (the workflow applies it, and a raise to critical puts a
 * human gate before the next step) and pages the next tier. Escalation is not undone by a rollback.
 */
export const escalateSpec = defineActionSpec({
  type: 'escalate',
  description: 'Raise the incident severity and/or page the next tier; a raise to critical gates the remaining steps',
  params: EscalateParams,
  output: z.object({
    /** The severity the incident is raised to (never below its own), null when the step names none. */
    severity: SeveritySchema.nullable(),
    paged: z.boolean(),
  }),
  compensable: false,
  describeCompensation: () => 'nothing: an escalation stands after a rollback',
});
