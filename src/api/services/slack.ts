import { getIncident } from '../../db/incidents';
import { withTenant } from '../../db/pool';
import { tenantSettings } from '../../db/tenant-settings';
import { tenantIdBySlug } from '../../db/tenants';
import type { TenantSettings } from '../../domain/tenant-settings';
import type { Deps } from '../deps';

/**
 * What a Slack interaction needs of PostgreSQL. The request carries no API key, so there is no
 * principal: the tenant comes from the slug in the URL, and everything after runs under that
 * tenant's row-level security, once Slack's signature (made with the tenant's secret) checked out.
 */
export async function slackTenant(deps: Deps, slug: string): Promise<{ tenantId: string; settings: TenantSettings } | null> {
  const tenantId = await tenantIdBySlug(deps.pool, slug);
  return tenantId === null ? null : { tenantId, settings: await tenantSettings(deps.pool, tenantId) };
}

/** The tenant's incident, or null (another tenant's is as unknown as none). */
export function slackIncident(deps: Deps, tenantId: string, id: string) {
  return withTenant(deps.pool, tenantId, (c) => getIncident(c, id));
}
