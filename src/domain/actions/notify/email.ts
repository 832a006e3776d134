import { z } from 'zod';
import { Message } from './common';

export const EmailParams = z
  .object({
    channel: z.literal('email'),
    to: z.array(z.email()).min(1).max(50),
    subject: z.string().min(1).max(200).optional(),
    message: Message,
    /** Defaults to AIRE_SMTP_HOST and AIRE_SMTP_PORT; the host must be on the egress allowlist. */
    smtp: z
      .object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) })
      .strict()
      .optional(),
  })
  .strict();
export type EmailParams = z.infer<typeof EmailParams>;

/** A plain-text email; compensation sends a retraction in the same thread. */
export const emailChannel = {
  params: EmailParams,
  /** What the relay answered: the Message-ID and the recipients it accepted. */
  sent: z.object({
    messageId: z.string(),
    accepted: z.array(z.union([z.string(), z.object({ name: z.string().optional(), address: z.string() })])),
  }),
  describeCompensation: (params: EmailParams): string => `email a retraction of "${params.message}" to ${params.to.join(', ')}`,
};
