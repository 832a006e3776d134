import { type NotifyParams, notifySpec } from '../../../domain/actions/notify';
import { defineExecutor } from '../types';
import { Note, noteFor } from './common';
import { email } from './email';
import { pagerduty } from './pagerduty';
import { slack } from './slack';
import type { ActionContext } from '../types';
import { webhook } from './webhook';

/** One delivery on the step's channel: the channel's name, then what the channel answered. */
async function send(ctx: ActionContext, params: NotifyParams, note: Note) {
  switch (params.channel) {
    case 'webhook':
      return { channel: params.channel, ...(await webhook.send(ctx, params, note)) };
    case 'slack':
      return { channel: params.channel, ...(await slack.send(ctx, params, note)) };
    case 'pagerduty':
      return { channel: params.channel, ...(await pagerduty.send(ctx, params, note)) };
    case 'email':
      return { channel: params.channel, ...(await email.send(ctx, params, note)) };
  }
}

/** `notify` (src/domain/actions/notify): notifies people on one channel; undoing it retracts the notification there. */
export const notifyExecutor = defineExecutor(notifySpec, {
  async execute(ctx, params) {
    return { delivered: true, ...(await send(ctx, params, noteFor(ctx, params.message, false))) };
  },
  async compensate(ctx, params) {
    return { retracted: true, ...(await send(ctx, params, noteFor(ctx, params.message, true))) };
  },
});
