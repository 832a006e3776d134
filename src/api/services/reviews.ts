import {
  type ActionItemPatch,
  type NewActionItem,
  type TenantItemFilter,
  insertActionItem,
  listActionItems,
  listTenantActionItems,
  updateActionItem,
} from '../../db/action-items';
import { getIncident, incidentDetails } from '../../db/incidents';
import { withTenant } from '../../db/pool';
import type { Principal } from '../../domain/access';
import type { ActionItem, ListedActionItem } from '../../domain/report';
import type { Deps } from '../deps';
import { notFound } from '../problem';

/**
 * Post-incident review: the record a report is built from, and the action items (follow-up work
 * with owner, due date and status) of an incident or of the whole tenant.
 */
export async function reportRecord(deps: Deps, principal: Principal, id: string) {
  const record = await withTenant(deps.pool, principal.tenantId, async (c) => {
    const incident = await getIncident(c, id);
    if (!incident) return null;
    return { incident, ...(await incidentDetails(c, id)), actionItems: await listActionItems(c, id) };
  });
  if (!record) throw notFound(`incident ${id}`);
  return record;
}

export async function addActionItem(deps: Deps, principal: Principal, item: NewActionItem): Promise<ActionItem> {
  const added = await withTenant(deps.pool, principal.tenantId, (c) => insertActionItem(c, item));
  if (!added) throw notFound(`incident ${item.incidentId}`);
  return added;
}

export async function actionItemsOf(deps: Deps, principal: Principal, incidentId: string): Promise<ActionItem[]> {
  const items = await withTenant(deps.pool, principal.tenantId, async (c) => ((await getIncident(c, incidentId)) ? listActionItems(c, incidentId) : null));
  if (!items) throw notFound(`incident ${incidentId}`);
  return items;
}

export function tenantActionItems(deps: Deps, principal: Principal, filter: TenantItemFilter): Promise<ListedActionItem[]> {
  return withTenant(deps.pool, principal.tenantId, (c) => listTenantActionItems(c, filter));
}

export async function changeActionItem(deps: Deps, principal: Principal, itemId: string, patch: ActionItemPatch): Promise<ActionItem> {
  const item = await withTenant(deps.pool, principal.tenantId, (c) => updateActionItem(c, itemId, patch));
  if (!item) throw notFound(`action item ${itemId}`);
  return item;
}
