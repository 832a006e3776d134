import { z } from 'zod';

/**
 * The kill switches AIRE keeps (the `controls` table, served at GET /api/controls): a feature's
 * (`disable_feature`) or a block's (`block`).
 */
export type SwitchKind = 'feature' | 'block';

/** How a switch stood before a step threw it, so compensation can put it back. */
export const SwitchStateSchema = z.object({ existed: z.boolean(), active: z.boolean() });
export type SwitchState = z.infer<typeof SwitchStateSchema>;
