import type { z } from 'zod';
import type { SlackParams, slackChannel } from '../../../domain/actions/notify/slack';
import { type SlackActionId, approvalGateOf, gateValue } from '../../../domain/slack';
import type { ActionContext } from '../types';
import { callOut } from '../../egress';
import { Channel, Note, clip, headline, redacted } from './common';

/** Slack reads &, < and > in text as markup. */
const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The notification activity's step id for an approval request (src/activities/notifications.ts: `notify:<event>`). */
const APPROVAL_NEEDED = 'notify:approval.needed';

const button = (actionId: SlackActionId, text: string, style: 'primary' | 'danger', value: string) => ({
  type: 'button',
  action_id: actionId,
  text: { type: 'plain_text', text },
  style,
  value,
});

/**
 * Approve and Reject for an approval request: each button's value names the incident and the gate,
 * and a click comes back, signed by Slack, to POST /api/slack/interactions/<tenant> (src/api/routes/slack.ts).
 */
function approvalButtons(ctx: ActionContext, note: Note): Record<string, unknown>[] {
  const gate = ctx.stepId === APPROVAL_NEEDED && !note.retraction ? approvalGateOf(note.text) : undefined;
  if (!gate) return [];
  const value = gateValue({ incidentId: ctx.incidentId, stepId: gate.stepId });
  return [
    {
      type: 'actions',
      block_id: 'aire_approval',
      elements: [button('aire_approve', 'Approve', 'primary', value), button('aire_reject', 'Reject', 'danger', value)],
    },
  ];
}

/** Block Kit: a header (severity and title), the message, a context line, and for an approval request its buttons; `text` is the fallback for notifications. */
export function slackPayload(ctx: ActionContext, note: Note): Record<string, unknown> {
  const title = headline(ctx, note.retraction);
  const { incident } = ctx;
  return {
    text: escape(clip(`${title}: ${note.text}`, 3_000)),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(title, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: escape(clip(note.text, 3_000)) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: escape(`Incident ${incident.id} · source ${incident.source} · step ${ctx.stepId}`) }] },
      ...approvalButtons(ctx, note),
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
