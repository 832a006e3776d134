import { z } from 'zod';
import { ActionContext, defineAction } from '../types';
import { Channel, Note, noteFor } from './common';
import { EmailParams, email } from './email';
import { PagerDutyParams, pagerduty } from './pagerduty';
import { SlackParams, slack } from './slack';
import { WebhookParams, webhook } from './webhook';

export { signBody } from './webhook';

const CHANNELS = ['webhook', 'slack', 'pagerduty', 'email'] as const;

/** `channel` picks the schema; without it a step is a webhook, as before channels existed. */
const Params = z.discriminatedUnion('channel', [WebhookParams, SlackParams, PagerDutyParams, EmailParams], {
  error: (issue) => (issue.code === 'invalid_union' ? `channel must be one of ${CHANNELS.join(', ')}` : undefined),
});
type NotifyParams = z.infer<typeof Params>;

interface Bound {
  send(ctx: ActionContext, note: Note): Promise<Record<string, unknown>>;
  describeCompensation(): string;
}

function bind<P>(channel: Channel<P>, params: P): Bound {
  return { send: (ctx, note) => channel.send(ctx, params, note), describeCompensation: () => channel.describeCompensation(params) };
}

function channelFor(params: NotifyParams): Bound {
  switch (params.channel) {
    case 'webhook':
      return bind(webhook, params);
    case 'slack':
      return bind(slack, params);
    case 'pagerduty':
      return bind(pagerduty, params);
    case 'email':
      return bind(email, params);
  }
}

/** Notifies people on one channel; undoing it retracts the notification there. */
export const notifyAction = defineAction({
  type: 'notify',
  description: `Send a notification: ${CHANNELS.join(', ')} (webhook JSON is HMAC-signed when AIRE_WEBHOOK_SECRET is set)`,
  params: Params,
  async execute(ctx, params): Promise<Record<string, unknown>> {
    const sent = await channelFor(params).send(ctx, noteFor(ctx, params.message, false));
    return { delivered: true, channel: params.channel, ...sent };
  },
  async compensate(ctx, params) {
    const sent = await channelFor(params).send(ctx, noteFor(ctx, params.message, true));
    return { retracted: true, channel: params.channel, ...sent };
  },
  describeCompensation: (params) => channelFor(params).describeCompensation(),
});
