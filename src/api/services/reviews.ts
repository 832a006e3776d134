import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import {
  type ActionItemPatch,
  type NewActionItem,
  type TenantItemFilter,
  actionItemHistory,
  getActionItem,
  insertActionItem,
  listActionItems,
  listTenantActionItems,
  lockActionItem,
  updateActionItem,
} from '../../db/action-items';
import { appendLog, getIncident, incidentDetails } from '../../db/incidents';
import { withTenant } from '../../db/pool';
import { getPostmortem } from '../../db/postmortems';
import type { Principal } from '../../domain/access';
import { type ActionItem, type ActionItemWithHistory, type FieldChange, type ListedActionItem, itemChanges } from '../../domain/action-items';
import type { IncidentRoles } from '../../domain/command';
import type { RoleAssignment } from '../../domain/postmortem';
import { actorOf } from '../auth';
import type { Deps } from '../deps';
import { notFound } from '../problem';

/**
 * Incident roles for the report's participants: who holds which role now (the incident record's
 * `roles`, db/009). Those who held a role earlier are in the audit trail (`role.assigned`), which
 * the report reads itself (participantsOf, src/domain/postmortem.ts).
 */
function roleAssignmentsOf(roles: IncidentRoles): RoleAssignment[] {
  return [
    ...(roles.commander ? [{ role: 'commander', person: roles.commander }] : []),
    ...roles.assignees.map((person) => ({ role: 'assignee', person })),
    ...(roles.comms ? [{ role: 'comms', person: roles.comms }] : []),
    ...(roles.scribe ? [{ role: 'scribe', person: roles.scribe }] : []),
  ];
}

/**
 * Post-incident review: the record a report is built from, and the action items (follow-up work
 * with owner, due date, priority and status, and their history) of an incident or of the whole tenant.
 */
export async function reportRecord(deps: Deps, principal: Principal, id: string) {
  const record = await withTenant(deps.pool, principal.tenantId, async (c) => {
    const incident = await getIncident(c, id);
    if (!incident) return null;
    return {
      incident,
      ...(await incidentDetails(c, id)),
      actionItems: await listActionItems(c, id),
      postmortem: await getPostmortem(c, id),
      roleAssignments: roleAssignmentsOf(incident.roles),
    };
  });
  if (!record) throw notFound(`incident ${id}`);
  return record;
}

/** An item's change in the audit trail (`action_item.added` / `action_item.changed`): its history, append-only like every entry. */
async function recordItemEvent(
  c: PoolClient,
  principal: Principal,
  item: ActionItem,
  kind: 'action_item.added' | 'action_item.changed',
  changes: Partial<Record<string, FieldChange>>,
  reason: string | undefined,
): Promise<void> {
  await appendLog(c, {
    tenantId: principal.tenantId,
    incidentId: item.incidentId,
    eventKey: `item:${item.id}:${randomUUID()}`,
    kind,
    actor: actorOf(principal),
    detail: { itemId: item.id, title: item.title, changes, ...(reason ? { reason } : {}) },
  });
}

export async function addActionItem(deps: Deps, principal: Principal, item: NewActionItem): Promise<ActionItem> {
  const added = await withTenant(deps.pool, principal.tenantId, async (c) => {
    const inserted = await insertActionItem(c, item);
    if (inserted) await recordItemEvent(c, principal, inserted, 'action_item.added', itemChanges(null, inserted), undefined);
    return inserted;
  });
  if (!added) throw notFound(`incident ${item.incidentId}`);
  return added;
}

/** The item and its history (every change, who and when, old → new), oldest first. */
export async function actionItemWithHistory(deps: Deps, principal: Principal, itemId: string): Promise<ActionItemWithHistory> {
  const found = await withTenant(deps.pool, principal.tenantId, async (c) => {
    const item = await getActionItem(c, itemId);
    return item ? { ...item, history: await actionItemHistory(c, item) } : null;
  });
  if (!found) throw notFound(`action item ${itemId}`);
  return found;
}

export async function actionItemsOf(deps: Deps, principal: Principal, incidentId: string): Promise<ActionItem[]> {
  const items = await withTenant(deps.pool, principal.tenantId, async (c) => ((await getIncident(c, incidentId)) ? listActionItems(c, incidentId) : null));
  if (!items) throw notFound(`incident ${incidentId}`);
  return items;
}

export function tenantActionItems(deps: Deps, principal: Principal, filter: TenantItemFilter): Promise<ListedActionItem[]> {
  return withTenant(deps.pool, principal.tenantId, (c) => listTenantActionItems(c, filter));
}

/**
 * Applies the fields given and records what changed (old → new) in the same transaction, under a
 * lock on the item: two changes at once are both recorded, in order, each against what the other left.
 * A change that changes nothing is not recorded.
 */
export async function changeActionItem(deps: Deps, principal: Principal, itemId: string, patch: ActionItemPatch & { reason?: string }): Promise<ActionItem> {
  const { reason, ...fields } = patch;
  const item = await withTenant(deps.pool, principal.tenantId, async (c) => {
    const before = await lockActionItem(c, itemId);
    if (!before) return null;
    const after = await updateActionItem(c, itemId, fields);
    if (!after) return null;
    const changes = itemChanges(before, after);
    if (Object.keys(changes).length > 0) await recordItemEvent(c, principal, after, 'action_item.changed', changes, reason);
    return after;
  });
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
