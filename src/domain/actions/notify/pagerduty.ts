import { z } from 'zod';
import { Message } from './common';

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
export type PagerDutyParams = z.infer<typeof PagerDutyParams>;

/** One PagerDuty alert per incident: the trigger and the resolve share this key. */
export const dedupKey = (incidentId: string): string => `aire-${incidentId}`;

/** Triggers an alert (Events API v2); compensation resolves it. */
export const pagerdutyChannel = {
  params: PagerDutyParams,
  sent: z.object({ status: z.number().int(), dedupKey: z.string() }),
  describeCompensation: (params: PagerDutyParams): string =>
    `resolve the PagerDuty alert it triggered (dedup key aire-<incident id>) via ${new URL(params.url).host}`,
};
