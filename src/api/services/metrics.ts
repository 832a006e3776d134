import { type MetricsSummary, metricsSummary } from '../../db/metrics';
import { withTenant } from '../../db/pool';
import type { Principal } from '../../domain/access';
import { DEFAULT_RESPONSE_SLA_MS } from '../../domain/severity';
import type { Deps } from '../deps';

/** The tenant's response metrics over the last `windowMs`: counts, MTTA and MTTR, SLA compliance. */
export function responseSummary(deps: Deps, principal: Principal, windowMs: number): Promise<MetricsSummary> {
  return withTenant(deps.pool, principal.tenantId, (c) => metricsSummary(c, windowMs, DEFAULT_RESPONSE_SLA_MS));
}
