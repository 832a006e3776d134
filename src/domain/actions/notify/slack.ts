import { z } from 'zod';
import { HttpSent, Message } from './common';

export const SlackParams = z
  .object({
    channel: z.literal('slack'),
    /** A Slack incoming webhook. Its path is a credential, so descriptions name only its host. */
    url: z.string().url(),
    message: Message,
  })
  .strict();
export type SlackParams = z.infer<typeof SlackParams>;

/** Block Kit to an incoming webhook. */
export const slackChannel = {
  params: SlackParams,
  sent: HttpSent,
  describeCompensation: (params: SlackParams): string => `post a retraction of "${params.message}" to the Slack webhook on ${new URL(params.url).host}`,
};
