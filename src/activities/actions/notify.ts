import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { redact } from '../../domain/redact';
import { callOut } from '../egress';
import { ActionContext, defineAction } from './types';

const Params = z
  .object({
    channel: z.literal('webhook').default('webhook'),
    url: z.string().url(),
    message: z.string().min(1).max(4_000),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict();
type NotifyParams = z.infer<typeof Params>;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the scheme webhook receivers commonly verify. */
export function signBody(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

async function post(ctx: ActionContext, params: NotifyParams, type: string, message: string, idempotencyKey: string): Promise<{ status: number }> {
  const payload = redact(
    { type, id: idempotencyKey, incident: ctx.incident, stepId: ctx.stepId, message, sentAt: new Date().toISOString() },
    ctx.config.AIRE_SENSITIVE_KEYS,
  );
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { ...params.headers };
  if (ctx.config.AIRE_WEBHOOK_SECRET) {
    headers['x-aire-signature'] = signBody(ctx.config.AIRE_WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000));
  }
  const res = await callOut({ method: 'POST', url: params.url, headers, rawBody: body, idempotencyKey }, ctx.config.AIRE_EGRESS_ALLOWLIST);
  return { status: res.status };
}

/** Sends a notification to a webhook; undoing it sends a retraction to the same place. */
export const notifyAction = defineAction({
  type: 'notify',
  description: 'Send a notification to a webhook (JSON, HMAC-signed when AIRE_WEBHOOK_SECRET is set)',
  params: Params,
  async execute(ctx, params) {
    const { status } = await post(ctx, params, 'aire.notification', params.message, ctx.idempotencyKey);
    return { delivered: true, status };
  },
  async compensate(ctx, params) {
    const message = `Retracted after rollback: ${params.message}`;
    const { status } = await post(ctx, params, 'aire.notification.retracted', message, `${ctx.idempotencyKey}:compensate`);
    return { retracted: true, status };
  },
  describeCompensation: (params) => `send a retraction of "${params.message}" to ${params.url}`,
});
