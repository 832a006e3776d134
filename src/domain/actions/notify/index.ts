import { z } from 'zod';
import { defineActionSpec } from '../spec';
import { EmailParams, emailChannel } from './email';
import { PagerDutyParams, pagerdutyChannel } from './pagerduty';
import { SlackParams, slackChannel } from './slack';
import { WebhookParams, webhookChannel } from './webhook';

export { Message } from './common';
export { EmailParams } from './email';
export { PAGERDUTY_EVENTS_URL, PagerDutyParams, dedupKey } from './pagerduty';
export { SlackParams } from './slack';
export { WebhookParams } from './webhook';

export const CHANNELS = ['webhook', 'slack', 'pagerduty', 'email'] as const;
export type ChannelName = (typeof CHANNELS)[number];

/** `channel` picks the schema; without it a step is a webhook, as before channels existed. */
export const NotifyParams = z.discriminatedUnion('channel', [WebhookParams, SlackParams, PagerDutyParams, EmailParams], {
  error: (issue) => (issue.code === 'invalid_union' ? `channel must be one of ${CHANNELS.join(', ')}` : undefined),
});
export type NotifyParams = z.infer<typeof NotifyParams>;

const delivered = <C extends ChannelName>(channel: C) => z.object({ delivered: z.literal(true), channel: z.literal(channel) });

/** What a delivery answers: `delivered` and the channel, then what the channel said. */
export const NotifyOutput = z.discriminatedUnion('channel', [
  delivered('webhook').extend(webhookChannel.sent.shape),
  delivered('slack').extend(slackChannel.sent.shape),
  delivered('pagerduty').extend(pagerdutyChannel.sent.shape),
  delivered('email').extend(emailChannel.sent.shape),
]);
export type NotifyOutput = z.infer<typeof NotifyOutput>;

function describeCompensation(params: NotifyParams): string {
  switch (params.channel) {
    case 'webhook':
      return webhookChannel.describeCompensation(params);
    case 'slack':
      return slackChannel.describeCompensation(params);
    case 'pagerduty':
      return pagerdutyChannel.describeCompensation(params);
    case 'email':
      return emailChannel.describeCompensation(params);
  }
  // Reached with unparsed parameters only (a dry run's templated channel): say nothing rather than guess.
  throw new Error(`no notify channel "${String((params as { channel?: unknown }).channel)}"`);
}

/** Notifies people on one channel; undoing it retracts the notification there. */
export const notifySpec = defineActionSpec({
  type: 'notify',
  description: `Send a notification: ${CHANNELS.join(', ')} (webhook JSON is HMAC-signed when AIRE_WEBHOOK_SECRET is set)`,
  params: NotifyParams,
  output: NotifyOutput,
  compensable: true,
  describeCompensation,
});
