import { z } from 'zod';
import { defineActionSpec } from './spec';
import { SwitchStateSchema } from './switch';

export const DisableFeatureParams = z
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
export type DisableFeatureParams = z.infer<typeof DisableFeatureParams>;

/**
 * Turns a feature off with a kill switch AIRE keeps in PostgreSQL and serves at GET /api/controls;
 * compensation puts the switch back as it was.
 */
export const disableFeatureSpec = defineActionSpec({
  type: 'disable_feature',
  description: 'Turn a feature off with a kill switch served at GET /api/controls (optionally pushed over HTTP); compensation re-enables it',
  params: DisableFeatureParams,
  output: z.object({ flag: z.string(), disabled: z.literal(true), previous: SwitchStateSchema }),
  compensable: true,
  describeCompensation: (params) => `put the kill switch for "${params.flag}" back as it was (re-enable the feature)`,
});
