import { PoolClient } from 'pg';
import { IncidentStatus } from '../domain/incident';
import { ACTION_ITEM_FIELDS, ActionItem, ActionItemEvent, ActionItemPriority, ActionItemStatus, ListedActionItem } from '../domain/action-items';
import { Severity } from '../domain/severity';

/*
 * Action items of post-incident review. Every function runs inside withTenant: row-level security
 * confines reads and writes to the tenant, so another tenant's item or incident is simply absent.
 */

/** "Today" is the UTC calendar date, so overdue means the same thing on every server. */
const TODAY = `(now() AT TIME ZONE 'UTC')::date`;

const COLUMNS = `a.id, a.incident_id, a.title, a.owner, a.due_date::text AS due_date, a.status, a.priority,
  (a.status <> 'done' AND a.due_date < ${TODAY}) AS overdue, a.created_at, a.updated_at, a.created_by`;

type Row = Record<string, unknown>;

function toItem(r: Row): ActionItem {
  return {
    id: r.id as string,
    incidentId: r.incident_id as string,
    title: r.title as string,
    owner: r.owner as string | null,
    dueDate: r.due_date as string | null,
    status: r.status as ActionItemStatus,
    priority: r.priority as ActionItemPriority,
    overdue: r.overdue === true,
    createdAt: (r.created_at as Date).toISOString(),
    updatedAt: (r.updated_at as Date).toISOString(),
    createdBy: r.created_by as string,
  };
}

export interface NewActionItem {
  incidentId: string;
  title: string;
  owner?: string | null;
  dueDate?: string | null;
  status?: ActionItemStatus;
  priority?: ActionItemPriority;
  createdBy: string;
}

/**
 * Adds an item to an incident of the current tenant; null when that incident is not visible (absent
 * or another tenant's). The tenant is taken from the incident row itself, in the same statement.
 */
export async function insertActionItem(client: PoolClient, item: NewActionItem): Promise<ActionItem | null> {
  const { rows } = await client.query<Row>(
    `WITH inserted AS (
       INSERT INTO action_items (tenant_id, incident_id, title, owner, due_date, status, priority, created_by)
       SELECT i.tenant_id, i.id, $2, $3, $4::date, $5, $6, $7 FROM incidents i WHERE i.id = $1
       RETURNING *)
     SELECT ${COLUMNS} FROM inserted a`,
    [item.incidentId, item.title, item.owner ?? null, item.dueDate ?? null, item.status ?? 'open', item.priority ?? 'medium', item.createdBy],
  );
  return rows[0] ? toItem(rows[0]) : null;
}

/** The incident's items, oldest first. */
export async function listActionItems(client: PoolClient, incidentId: string): Promise<ActionItem[]> {
  const { rows } = await client.query(`SELECT ${COLUMNS} FROM action_items a WHERE a.incident_id = $1 ORDER BY a.created_at, a.id`, [incidentId]);
  return rows.map(toItem);
}

export interface ActionItemPatch {
  title?: string;
  owner?: string | null;
  dueDate?: string | null;
  status?: ActionItemStatus;
  priority?: ActionItemPriority;
}

/** The item, locked until the transaction ends: a change reads the old values it records under this lock. Null when not visible. */
export async function lockActionItem(client: PoolClient, id: string): Promise<ActionItem | null> {
  const { rows } = await client.query<Row>(`SELECT ${COLUMNS} FROM action_items a WHERE a.id = $1 FOR UPDATE`, [id]);
  return rows[0] ? toItem(rows[0]) : null;
}

export async function getActionItem(client: PoolClient, id: string): Promise<ActionItem | null> {
  const { rows } = await client.query<Row>(`SELECT ${COLUMNS} FROM action_items a WHERE a.id = $1`, [id]);
  return rows[0] ? toItem(rows[0]) : null;
}

/** The item's entries in the audit trail, oldest first (the index action_log_action_item, db/010). */
export async function actionItemHistory(client: PoolClient, item: { id: string; incidentId: string }): Promise<ActionItemEvent[]> {
  const { rows } = await client.query<Row>(
    `SELECT at, actor, kind, detail FROM action_log
      WHERE kind IN ('action_item.added', 'action_item.changed') AND detail ->> 'itemId' = $1 AND incident_id = $2
      ORDER BY id`,
    [item.id, item.incidentId],
  );
  return rows.map((r) => {
    const detail = r.detail as { changes?: ActionItemEvent['changes']; reason?: string };
    return {
      at: (r.at as Date).toISOString(),
      actor: r.actor as string,
      kind: r.kind === 'action_item.added' ? 'added' : 'changed',
      // In field order: jsonb keeps keys in an order of its own.
      changes: Object.fromEntries(ACTION_ITEM_FIELDS.flatMap((f) => (detail.changes?.[f] ? [[f, detail.changes[f]]] : []))),
      reason: detail.reason ?? null,
    };
  });
}

/** Applies the fields given; null when the item is not visible to the current tenant. */
export async function updateActionItem(client: PoolClient, id: string, patch: ActionItemPatch): Promise<ActionItem | null> {
  const sets = ['updated_at = now()'];
  const params: unknown[] = [id];
  const set = (column: string, value: unknown, cast = ''): void => {
    params.push(value);
    sets.push(`${column} = $${params.length}${cast}`);
  };
  if (patch.title !== undefined) set('title', patch.title);
  if (patch.owner !== undefined) set('owner', patch.owner);
  if (patch.dueDate !== undefined) set('due_date', patch.dueDate, '::date');
  if (patch.status !== undefined) set('status', patch.status);
  if (patch.priority !== undefined) set('priority', patch.priority);
  const { rows } = await client.query<Row>(
    `WITH updated AS (UPDATE action_items SET ${sets.join(', ')} WHERE id = $1 RETURNING *)
     SELECT ${COLUMNS} FROM updated a`,
    params,
  );
  return rows[0] ? toItem(rows[0]) : null;
}

export interface TenantItemFilter {
  /** true: only items not done and past due; false: only items that are not overdue. */
  overdue?: boolean;
  status?: ActionItemStatus;
  priority?: ActionItemPriority;
  owner?: string;
  limit: number;
}

/** The tenant's items across incidents, soonest due first (items without a due date last), with their incident's title. */
export async function listTenantActionItems(client: PoolClient, f: TenantItemFilter): Promise<ListedActionItem[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown): void => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.overdue === true) where.push(`a.status <> 'done' AND a.due_date < ${TODAY}`);
  if (f.overdue === false) where.push(`NOT (a.status <> 'done' AND a.due_date IS NOT NULL AND a.due_date < ${TODAY})`);
  if (f.status) add('a.status = ?', f.status);
  if (f.priority) add('a.priority = ?', f.priority);
  if (f.owner) add('a.owner = ?', f.owner);
  params.push(f.limit);
  const { rows } = await client.query(
    `SELECT ${COLUMNS}, i.title AS incident_title, i.severity AS incident_severity, i.status AS incident_status
       FROM action_items a JOIN incidents i ON i.id = a.incident_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY a.due_date ASC NULLS LAST, a.created_at, a.id
      LIMIT $${params.length}`,
    params,
  );
  return rows.map((r: Row) => ({
    ...toItem(r),
    incident: { title: r.incident_title as string, severity: r.incident_severity as Severity, status: r.incident_status as IncidentStatus },
  }));
}
