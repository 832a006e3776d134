import { z } from 'zod';
import type { Severity } from '../../../domain/severity';
import { callOut } from '../../egress';
import { Channel, Message, clip, headline, redacted } from './common';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

export const PagerDutyParams = z
  .object({
    channel: z.literal('pagerduty'),
    /** Events API v2; refused unless its host is on AIRE_EGRESS_ALLOWLIST. */
    url: z.string().url().default(PAGERDUTY_EVENTS_URL),
    routingKey: z.string().min(1).max(128),
    /** trigger (default) opens or updates the alert; acknowledge and resolve follow the incident. */
    eventAction: z.enum(['trigger', 'acknowledge', 'resolve']).default('trigger'),
    message: Message,
  })
  .strict();

const SEVERITY: Record<Severity, string> = { critical: 'critical', high: 'error', medium: 'warning', low: 'info', info: 'info' };

export function pagerdutySeverity(severity: string): string {
  return severity in SEVERITY ? SEVERITY[severity as Severity] : 'info';
}

/** One PagerDuty alert per incident: the trigger and the resolve share this key. */
export const dedupKey = (incidentId: string): string => `aire-${incidentId}`;

/** Triggers an alert; compensation resolves it. */
export const pagerduty: Channel<z.infer<typeof PagerDutyParams>> = {
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
    const res = await callOut({ method: 'POST', url: params.url, body, idempotencyKey: note.idempotencyKey }, ctx.config.AIRE_EGRESS_ALLOWLIST);
    return { status: res.status, dedupKey: dedup_key };
  },
  describeCompensation: (params) => `resolve the PagerDuty alert it triggered (dedup key aire-<incident id>) via ${new URL(params.url).host}`,
};
