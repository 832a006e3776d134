import type { SwitchKind, SwitchState } from '../../domain/actions/switch';
import { callOut, checkEgress } from '../egress';
import { ActionContext } from './types';

/**
 * Kill switches AIRE keeps in PostgreSQL (the `controls` table) and serves at GET /api/controls:
 * the shared machinery of `disable_feature` (kind 'feature') and `block` (kind 'block'), through
 * the context's `controls` port.
 */
export interface Switch {
  kind: SwitchKind;
  key: string;
  /** Also push every change to this endpoint, for services that do not poll GET /api/controls. */
  pushUrl?: string;
  /** The JSON body pushed to `pushUrl` for the new state. */
  pushBody(active: boolean): Record<string, unknown>;
}

export async function setSwitch(ctx: ActionContext, sw: Switch, active: boolean, reason: string | null, idempotencyKey: string): Promise<void> {
  // Refuse a push target off the allowlist before changing anything, so a denied step leaves no switch behind.
  if (sw.pushUrl) await checkEgress(sw.pushUrl, ctx.egress.allowlist);
  await ctx.controls.write({ kind: sw.kind, key: sw.key, active, reason, incidentId: ctx.incidentId });

  if (sw.pushUrl) {
    await callOut({ method: 'POST', url: sw.pushUrl, body: sw.pushBody(active), idempotencyKey }, ctx.egress.allowlist);
  }
}

/**
 * Puts the switch in force and returns how it stood before. The previous state is read once per
 * step: a retry after the switch was thrown must not mistake the new state for the old one.
 */
export async function engageSwitch(ctx: ActionContext, sw: Switch, reason: string | undefined): Promise<SwitchState> {
  const previous = await ctx.remember<SwitchState>('previousSwitch', () => ctx.controls.read(sw.kind, sw.key));
  await setSwitch(ctx, sw, true, reason ?? `incident ${ctx.incidentId}`, ctx.idempotencyKey);
  return previous;
}

/** Puts the switch back as it was before `engageSwitch`. */
export async function restoreSwitch(ctx: ActionContext, sw: Switch, previous: SwitchState): Promise<void> {
  await setSwitch(ctx, sw, previous.active, previous.active ? 'restored by rollback' : null, `${ctx.idempotencyKey}:compensate`);
}
