import { z } from 'zod';
import { SeveritySchema, maxSeverity } from '../../domain/severity';
import { callOut } from '../egress';
import { defineAction } from './types';

const Params = z
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
export const escalateAction = defineAction({
  type: 'escalate',
  description: 'Raise the incident severity and/or page the next tier; a raise to critical gates the remaining steps',
  params: Params,
  async execute(ctx, params) {
    const severity = params.severity ? maxSeverity(params.severity, SeveritySchema.parse(ctx.incident.severity)) : null;
    if (params.url) {
      await callOut(
        {
          method: 'POST',
          url: params.url,
          body: { type: 'aire.escalation', incident: { ...ctx.incident, severity: severity ?? ctx.incident.severity }, message: params.message },
          idempotencyKey: ctx.idempotencyKey,
        },
        ctx.config.AIRE_EGRESS_ALLOWLIST,
      );
    }
    return { severity, paged: params.url !== undefined };
  },
  describeCompensation: () => 'nothing: an escalation stands after a rollback',
});
