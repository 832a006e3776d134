import { type ControlInForce, type ControlKind, controlsInForce } from '../../db/controls';
import { withTenant } from '../../db/pool';
import type { Principal } from '../../domain/access';
import type { Deps } from '../deps';

/** The kill switches and blocks in force now: a feature listed is off, a target listed is blocked. */
export function listControls(deps: Deps, principal: Principal, kind?: ControlKind): Promise<ControlInForce[]> {
  return withTenant(deps.pool, principal.tenantId, (c) => controlsInForce(c, kind));
}
