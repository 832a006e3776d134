import type { z } from 'zod';
import type { SlackParams, slackChannel } from '../../../domain/actions/notify/slack';
import type { ActionContext } from '../types';
import { callOut } from '../../egress';
import { Channel, Note, clip, headline, redacted } from './common';

/** Slack reads &, < and > in text as markup. */
const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Block Kit: a header (severity and title), the message, and a context line; `text` is the fallback for notifications. */
export function slackPayload(ctx: ActionContext, note: Note): Record<string, unknown> {
  const title = headline(ctx, note.retraction);
  const { incident } = ctx;
  return {
    text: escape(clip(`${title}: ${note.text}`, 3_000)),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(title, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: escape(clip(note.text, 3_000)) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: escape(`Incident ${incident.id} · source ${incident.source} · step ${ctx.stepId}`) }] },
    ],
  };
}

export const slack: Channel<SlackParams, z.infer<typeof slackChannel.sent>> = {
  async send(ctx, params, note) {
    const body = JSON.stringify(redacted(ctx, slackPayload(ctx, note)));
    const res = await callOut({ method: 'POST', url: params.url, rawBody: body, idempotencyKey: note.idempotencyKey }, ctx.egress.allowlist);
    return { status: res.status };
  },
};
