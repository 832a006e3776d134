import { randomUUID } from 'node:crypto';
import {
  type ActionItemPatch,
  type NewActionItem,
  type TenantItemFilter,
  insertActionItem,
  listActionItems,
  listTenantActionItems,
  updateActionItem,
} from '../../db/action-items';
import { appendLog, getIncident, incidentDetails } from '../../db/incidents';
import { withTenant } from '../../db/pool';
import type { Principal } from '../../domain/access';
import type { ActionItem, ListedActionItem } from '../../domain/action-items';
import { actorOf } from '../auth';
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

export interface Note {
  incidentId: string;
  at: string;
  actor: string;
  text: string;
  key: boolean;
}

/**
 * A person's note on the incident's timeline, appended to its audit trail (`note.added`); `key`
 * notes are also listed in the report. Open or closed: a review writes notes after the close too.
 */
export async function addNote(deps: Deps, principal: Principal, incidentId: string, note: { text: string; key: boolean }): Promise<Note> {
  const written: Note = { incidentId, at: new Date().toISOString(), actor: actorOf(principal), ...note };
  const found = await withTenant(deps.pool, principal.tenantId, async (c) => {
    if (!(await getIncident(c, incidentId))) return false;
    await appendLog(c, {
      tenantId: principal.tenantId,
      incidentId,
      eventKey: `note:${randomUUID()}`,
      kind: 'note.added',
      actor: written.actor,
      at: written.at,
      detail: { text: note.text, key: note.key },
    });
    return true;
  });
  if (!found) throw notFound(`incident ${incidentId}`);
  return written;
}
