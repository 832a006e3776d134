import { z } from 'zod';
import { HttpSent, Message } from './common';

export const WebhookParams = z
  .object({
    channel: z.literal('webhook').default('webhook'),
    url: z.string().url(),
    message: Message,
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type WebhookParams = z.infer<typeof WebhookParams>;

/** A JSON POST, signed `x-aire-signature` when AIRE_WEBHOOK_SECRET is set. */
export const webhookChannel = {
  params: WebhookParams,
  sent: HttpSent,
  describeCompensation: (params: WebhookParams): string => `send a retraction of "${params.message}" to ${params.url}`,
};
