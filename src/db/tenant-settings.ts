import { TenantSettings, TenantSettingsSchema } from '../domain/tenant-settings';
import { Pool, withTenant } from './pool';

/** The tenant's settings, with defaults for what it does not set. */
export async function tenantSettings(pool: Pool, tenantId: string): Promise<TenantSettings> {
  const { rows } = await withTenant(pool, tenantId, (c) => c.query<{ settings: unknown }>('SELECT settings FROM tenants'));
  return TenantSettingsSchema.parse(rows[0]?.settings ?? {});
}

/**
 * How long intake reuses a tenant's settings. Every event needs them (silences, signing secrets,
 * channels), and reading them is a transaction of its own; a change made through another API
 * process takes effect within this time, one made through this process at once.
 */
export const SETTINGS_CACHE_MS = 1_000;
const settingsCache = new WeakMap<Pool, Map<string, { until: number; settings: Promise<TenantSettings> }>>();

/** `tenantSettings`, reused for up to SETTINGS_CACHE_MS: for intake's hot path, not for reads people see. */
export function cachedTenantSettings(pool: Pool, tenantId: string): Promise<TenantSettings> {
  let tenants = settingsCache.get(pool);
  if (!tenants) {
    tenants = new Map();
    settingsCache.set(pool, tenants);
  }
  const hit = tenants.get(tenantId);
  if (hit && hit.until > Date.now()) return hit.settings;
  const settings = tenantSettings(pool, tenantId);
  const entry = { until: Date.now() + SETTINGS_CACHE_MS, settings };
  tenants.set(tenantId, entry);
  // A failed read is not remembered: the next event asks the database again.
  settings.catch(() => {
    if (tenants.get(tenantId) === entry) tenants.delete(tenantId);
  });
  return settings;
}

/** Called after this process changes a tenant's settings, so its own next event sees them. */
export function forgetTenantSettings(pool: Pool, tenantId: string): void {
  settingsCache.get(pool)?.delete(tenantId);
}

/** Replaces the tenant's settings (as validated by TenantSettingsSchema), and forgets this process's cached copy. */
export async function saveTenantSettings(pool: Pool, tenantId: string, settings: TenantSettings): Promise<void> {
  await withTenant(pool, tenantId, (c) => c.query('UPDATE tenants SET settings = $1', [JSON.stringify(settings)]));
  forgetTenantSettings(pool, tenantId);
}
