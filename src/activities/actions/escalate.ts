import { escalateSpec } from '../../domain/actions/escalate';
import { SeveritySchema, maxSeverity } from '../../domain/severity';
import { callOut } from '../egress';
import { defineExecutor } from './types';

/** `escalate` (src/domain/actions/escalate.ts): answers the severity the workflow raises the incident to, and pages the next tier. */
export const escalateExecutor = defineExecutor(escalateSpec, {
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
        ctx.egress.allowlist,
      );
    }
    return { severity, paged: params.url !== undefined };
  },
});
