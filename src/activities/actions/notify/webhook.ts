import type { z } from 'zod';
import type { WebhookParams, webhookChannel } from '../../../domain/actions/notify/webhook';
import { signBody } from '../../../domain/signing';
import { callOut } from '../../egress';
import { Channel, redacted } from './common';

/** A JSON POST, signed `x-aire-signature` when AIRE_WEBHOOK_SECRET is set. */
export const webhook: Channel<WebhookParams, z.infer<typeof webhookChannel.sent>> = {
  async send(ctx, params, note) {
    const type = note.retraction ? 'aire.notification.retracted' : 'aire.notification';
    const payload = { type, id: note.idempotencyKey, incident: ctx.incident, stepId: ctx.stepId, message: note.text, sentAt: new Date().toISOString() };
    const body = JSON.stringify(redacted(ctx, payload));
    const headers: Record<string, string> = { ...params.headers };
    if (ctx.webhookSecret) {
      headers['x-aire-signature'] = signBody(ctx.webhookSecret, body, Math.floor(Date.now() / 1000));
    }
    const res = await callOut({ method: 'POST', url: params.url, headers, rawBody: body, idempotencyKey: note.idempotencyKey }, ctx.egress.allowlist);
    return { status: res.status };
  },
};
