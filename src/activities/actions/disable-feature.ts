import { z } from 'zod';
import { withTenant } from '../../db/pool';
import { callOut } from '../egress';
import { ActionContext, defineAction } from './types';

const Params = z
  .object({
    flag: z.string().min(1).max(200).regex(/^[\w.:-]+$/, 'letters, digits, ".", ":", "-" and "_"'),
    reason: z.string().max(500).optional(),
    /** Also push the new state to this endpoint (`{"flag", "enabled"}`), for services that do not poll. */
    pushUrl: z.string().url().optional(),
  })
  .strict();
type FlagParams = z.infer<typeof Params>;

interface Previous {
  existed: boolean;
  active: boolean;
}

async function setSwitch(ctx: ActionContext, params: FlagParams, active: boolean, reason: string | null, key: string): Promise<void> {
  await withTenant(ctx.pool, ctx.tenantId, (client) =>
    client.query(
      `INSERT INTO controls (tenant_id, kind, key, active, reason, incident_id, updated_at) VALUES ($1, 'feature', $2, $3, $4, $5, now())
       ON CONFLICT (tenant_id, kind, key) DO UPDATE SET active = EXCLUDED.active, reason = EXCLUDED.reason,
         incident_id = EXCLUDED.incident_id, updated_at = now()`,
      [ctx.tenantId, params.flag, active, reason, ctx.incidentId],
    ),
  );
  if (params.pushUrl) {
    await callOut(
      { method: 'POST', url: params.pushUrl, body: { flag: params.flag, enabled: !active, incidentId: ctx.incidentId }, idempotencyKey: key },
      ctx.config.AIRE_EGRESS_ALLOWLIST,
    );
  }
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
    const previous = await ctx.remember<Previous>('previousSwitch', () =>
      withTenant(ctx.pool, ctx.tenantId, async (client) => {
        const { rows } = await client.query<{ active: boolean }>(`SELECT active FROM controls WHERE kind = 'feature' AND key = $1`, [params.flag]);
        return { existed: rows.length > 0, active: rows[0]?.active ?? false };
      }),
    );
    await setSwitch(ctx, params, true, params.reason ?? `incident ${ctx.incidentId}`, ctx.idempotencyKey);
    return { flag: params.flag, disabled: true, previous };
  },
  async compensate(ctx, params, output) {
    await setSwitch(ctx, params, output.previous.active, output.previous.active ? 'restored by rollback' : null, `${ctx.idempotencyKey}:compensate`);
    return { flag: params.flag, enabled: !output.previous.active };
  },
  describeCompensation: (params) => `put the kill switch for "${params.flag}" back as it was (re-enable the feature)`,
});
