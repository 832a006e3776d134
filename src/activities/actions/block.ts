import { z } from 'zod';
import { Switch, SwitchState, engageSwitch, restoreSwitch } from './switches';
import { defineAction } from './types';

const Params = z
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
type BlockParams = z.infer<typeof Params>;

function blockSwitch(incidentId: string, params: BlockParams): Switch {
  return {
    kind: 'block',
    key: params.target,
    pushUrl: params.pushUrl,
    pushBody: (active) => ({ target: params.target, blocked: active, incidentId }),
  };
}

/**
 * Blocks a target (an IP, a user) with a switch AIRE keeps in PostgreSQL and serves at
 * GET /api/controls; compensation puts the block back as it was (unblocks what this step blocked).
 */
export const blockAction = defineAction({
  type: 'block',
  description: 'Block a target (IP, user id) with a switch served at GET /api/controls (optionally pushed over HTTP); compensation unblocks it',
  params: Params,
  async execute(ctx, params) {
    const previous: SwitchState = await engageSwitch(ctx, blockSwitch(ctx.incidentId, params), params.reason);
    return { target: params.target, blocked: true, previous };
  },
  async compensate(ctx, params, output) {
    await restoreSwitch(ctx, blockSwitch(ctx.incidentId, params), output.previous);
    return { target: params.target, blocked: output.previous.active };
  },
  describeCompensation: (params) => `put the block on "${params.target}" back as it was (unblock it unless it was blocked before)`,
});
