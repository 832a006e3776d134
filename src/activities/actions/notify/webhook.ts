import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { callOut } from '../../egress';
import { Channel, Message, redacted } from './common';

export const WebhookParams = z
  .object({
    channel: z.literal('webhook').default('webhook'),
    url: z.string().url(),
    message: Message,
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict();

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the scheme webhook receivers commonly verify. */
export function signBody(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** A JSON POST, signed `x-aire-signature` when AIRE_WEBHOOK_SECRET is set. */
export const webhook: Channel<z.infer<typeof WebhookParams>> = {
  async send(ctx, params, note) {
    const type = note.retraction ? 'aire.notification.retracted' : 'aire.notification';
    const payload = { type, id: note.idempotencyKey, incident: ctx.incident, stepId: ctx.stepId, message: note.text, sentAt: new Date().toISOString() };
    const body = JSON.stringify(redacted(ctx, payload));
    const headers: Record<string, string> = { ...params.headers };
    if (ctx.config.AIRE_WEBHOOK_SECRET) {
      headers['x-aire-signature'] = signBody(ctx.config.AIRE_WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000));
    }
    const res = await callOut(
      { method: 'POST', url: params.url, headers, rawBody: body, idempotencyKey: note.idempotencyKey },
      ctx.config.AIRE_EGRESS_ALLOWLIST,
    );
    return { status: res.status };
  },
  describeCompensation: (params) => `send a retraction of "${params.message}" to ${params.url}`,
};
