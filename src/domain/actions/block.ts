import { z } from 'zod';
import { defineActionSpec } from './spec';
import { SwitchStateSchema } from './switch';

export const BlockParams = z
  .object({
    /** What to block: an IP address or network, a user or account id, an API key prefix. */
    target: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\w.:@/-]+$/, 'letters, digits, ".", ":", "@", "/", "-" and "_"'),
    reason: z.string().max(500).optional(),
    /** Also push the new state to this endpoint (`{"target", "blocked"}`), for services that do not poll. */
    pushUrl: z.string().url().optional(),
  })
  .strict();
export type BlockParams = z.infer<typeof BlockParams>;

/**
 * Blocks a target (an IP, a user) with a switch AIRE keeps in PostgreSQL and serves at
 * GET /api/controls; compensation puts the block back as it was (unblocks what this step blocked).
 */
export const blockSpec = defineActionSpec({
  type: 'block',
  description: 'Block a target (IP, user id) with a switch served at GET /api/controls (optionally pushed over HTTP); compensation unblocks it',
  params: BlockParams,
  output: z.object({ target: z.string(), blocked: z.literal(true), previous: SwitchStateSchema }),
  compensable: true,
  describeCompensation: (params) => `put the block on "${params.target}" back as it was (unblock it unless it was blocked before)`,
});
