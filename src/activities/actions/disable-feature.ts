import { z } from 'zod';
import { Switch, SwitchState, engageSwitch, restoreSwitch } from './switches';
import { defineAction } from './types';

const Params = z
  .object({
    flag: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\w.:-]+$/, 'letters, digits, ".", ":", "-" and "_"'),
    reason: z.string().max(500).optional(),
    /** Also push the new state to this endpoint (`{"flag", "enabled"}`), for services that do not poll. */
    pushUrl: z.string().url().optional(),
  })
  .strict();
type FlagParams = z.infer<typeof Params>;

function featureSwitch(incidentId: string, params: FlagParams): Switch {
  return {
    kind: 'feature',
    key: params.flag,
    pushUrl: params.pushUrl,
    pushBody: (active) => ({ flag: params.flag, enabled: !active, incidentId }),
  };
}

/**
 * Turns a feature off with a kill switch AIRE keeps in PostgreSQL and serves at GET /api/controls;
 * compensation puts the switch back as it was.
 */
export const disableFeatureAction = defineAction({
  type: 'disable_feature',
  description: 'Turn a feature off with a kill switch served at GET /api/controls (optionally pushed over HTTP); compensation re-enables it',
  params: Params,
  async execute(ctx, params) {
    const previous: SwitchState = await engageSwitch(ctx, featureSwitch(ctx.incidentId, params), params.reason);
    return { flag: params.flag, disabled: true, previous };
  },
  async compensate(ctx, params, output) {
    await restoreSwitch(ctx, featureSwitch(ctx.incidentId, params), output.previous);
    return { flag: params.flag, enabled: !output.previous.active };
  },
  describeCompensation: (params) => `put the kill switch for "${params.flag}" back as it was (re-enable the feature)`,
});
