import type { z } from 'zod';
import { type PagerDutyParams, dedupKey, type pagerdutyChannel } from '../../../domain/actions/notify/pagerduty';
import type { Severity } from '../../../domain/severity';
import { callOut } from '../../egress';
import { Channel, clip, headline, redacted } from './common';

const SEVERITY: Record<Severity, string> = { critical: 'critical', high: 'error', medium: 'warning', low: 'info', info: 'info' };

export function pagerdutySeverity(severity: string): string {
  return severity in SEVERITY ? SEVERITY[severity as Severity] : 'info';
}

/** Triggers an alert; compensation resolves it. */
export const pagerduty: Channel<PagerDutyParams, z.infer<typeof pagerdutyChannel.sent>> = {
  async send(ctx, params, note) {
    const dedup_key = dedupKey(ctx.incidentId);
    const { incident } = ctx;
    const action = note.retraction ? 'resolve' : params.eventAction;
    const event =
      action !== 'trigger'
        ? { event_action: action, dedup_key }
        : {
            event_action: 'trigger',
            dedup_key,
            client: 'AIRE',
            payload: {
              summary: clip(`${headline(ctx, false)}: ${note.text}`, 1_024),
              source: `aire/${incident.source}`,
              severity: pagerdutySeverity(incident.severity),
              custom_details: { message: note.text, incident_id: incident.id, title: incident.title, severity: incident.severity, step_id: ctx.stepId },
            },
          };
    // The routing key is added after redaction: it must reach PagerDuty whatever AIRE_SENSITIVE_KEYS says.
    const body = { routing_key: params.routingKey, ...redacted(ctx, event) };
    const res = await callOut({ method: 'POST', url: params.url, body, idempotencyKey: note.idempotencyKey }, ctx.egress.allowlist);
    return { status: res.status, dedupKey: dedup_key };
  },
};
