import { type ControlKind, readControl, writeControl } from '../../db/controls';
import { withTenant } from '../../db/pool';
import { callOut, checkEgress } from '../egress';
import { ActionContext } from './types';

/**
 * Kill switches AIRE keeps in PostgreSQL (the `controls` table) and serves at GET /api/controls:
 * the shared machinery of `disable_feature` (kind 'feature') and `block` (kind 'block').
 */
export type SwitchKind = ControlKind;

/** How the switch stood before the step threw it, so compensation can put it back. */
export interface SwitchState {
  existed: boolean;
  active: boolean;
}

export interface Switch {
  kind: SwitchKind;
  key: string;
  /** Also push every change to this endpoint, for services that do not poll GET /api/controls. */
  pushUrl?: string;
  /** The JSON body pushed to `pushUrl` for the new state. */
  pushBody(active: boolean): Record<string, unknown>;
}

export async function readSwitch(ctx: ActionContext, kind: SwitchKind, key: string): Promise<SwitchState> {
  return withTenant(ctx.pool, ctx.tenantId, (client) => readControl(client, kind, key));
}

export async function setSwitch(ctx: ActionContext, sw: Switch, active: boolean, reason: string | null, idempotencyKey: string): Promise<void> {
  // Refuse a push target off the allowlist before changing anything, so a denied step leaves no switch behind.
  if (sw.pushUrl) await checkEgress(sw.pushUrl, ctx.config.AIRE_EGRESS_ALLOWLIST);
  await withTenant(ctx.pool, ctx.tenantId, (client) =>
    writeControl(client, { tenantId: ctx.tenantId, kind: sw.kind, key: sw.key, active, reason, incidentId: ctx.incidentId }),
  );

  if (sw.pushUrl) {
    await callOut({ method: 'POST', url: sw.pushUrl, body: sw.pushBody(active), idempotencyKey }, ctx.config.AIRE_EGRESS_ALLOWLIST);
  }
}

/**
 * Puts the switch in force and returns how it stood before. The previous state is read once per
 * step: a retry after the switch was thrown must not mistake the new state for the old one.
 */
export async function engageSwitch(ctx: ActionContext, sw: Switch, reason: string | undefined): Promise<SwitchState> {
  const previous = await ctx.remember<SwitchState>('previousSwitch', () => readSwitch(ctx, sw.kind, sw.key));
  await setSwitch(ctx, sw, true, reason ?? `incident ${ctx.incidentId}`, ctx.idempotencyKey);
  return previous;
}

/** Puts the switch back as it was before `engageSwitch`. */
export async function restoreSwitch(ctx: ActionContext, sw: Switch, previous: SwitchState): Promise<void> {
  await setSwitch(ctx, sw, previous.active, previous.active ? 'restored by rollback' : null, `${ctx.idempotencyKey}:compensate`);
}
