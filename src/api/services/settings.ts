import { cachedTenantSettings, saveTenantSettings, tenantSettings } from '../../db/tenant-settings';
import type { Principal } from '../../domain/access';
import type { TenantSettings } from '../../domain/tenant-settings';
import type { Deps } from '../deps';

/**
 * The tenant's settings: approval policy, response SLAs, escalation, channels, intake. New
 * incidents start with those in force then; the notification activity reads channel targets from
 * them when it delivers (src/db/tenant-settings.ts, shared with the worker).
 */
export function readSettings(deps: Deps, principal: Principal): Promise<TenantSettings> {
  return tenantSettings(deps.pool, principal.tenantId);
}

/** For intake's hot path: reused for up to a second (SETTINGS_CACHE_MS), never for what people read. */
export function settingsForIntake(deps: Deps, tenantId: string): Promise<TenantSettings> {
  return cachedTenantSettings(deps.pool, tenantId);
}

export function replaceSettings(deps: Deps, principal: Principal, settings: TenantSettings): Promise<void> {
  return saveTenantSettings(deps.pool, principal.tenantId, settings);
}
