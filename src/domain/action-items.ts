import { z } from 'zod';
import { IncidentStatusSchema } from './incident';
import { SeveritySchema } from './severity';

/* Action items of post-incident review: tracked follow-up work on an incident (table action_items). */

/** `blocked`: waiting on something outside the owner's hands; still counts as not done (it can be overdue). */
export const ACTION_ITEM_STATUSES = ['open', 'in_progress', 'blocked', 'done'] as const;
export const ActionItemStatusSchema = z.enum(ACTION_ITEM_STATUSES);
export type ActionItemStatus = z.infer<typeof ActionItemStatusSchema>;

/** Priority of the follow-up work itself (not the incident's P0–P4). */
export const ACTION_ITEM_PRIORITIES = ['high', 'medium', 'low'] as const;
export const ActionItemPrioritySchema = z.enum(ACTION_ITEM_PRIORITIES);
export type ActionItemPriority = z.infer<typeof ActionItemPrioritySchema>;

/** The fields a change of an item is recorded for, in this order. */
export const ACTION_ITEM_FIELDS = ['title', 'owner', 'dueDate', 'priority', 'status'] as const;
export type ActionItemField = (typeof ACTION_ITEM_FIELDS)[number];

/** An action item as the API answers it. */
export const ActionItemSchema = z.object({
  id: z.uuid(),
  incidentId: z.uuid(),
  title: z.string(),
  owner: z.string().nullable(),
  /** A calendar date, YYYY-MM-DD. */
  dueDate: z.string().nullable(),
  status: ActionItemStatusSchema,
  priority: ActionItemPrioritySchema,
  /** Not done and due before today (UTC). */
  overdue: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
});
export type ActionItem = z.infer<typeof ActionItemSchema>;

/** One change of a field: what it was and what it became (null: unset). */
export const FieldChangeSchema = z.object({ from: z.string().nullable(), to: z.string().nullable() });
export type FieldChange = z.infer<typeof FieldChangeSchema>;

/**
 * One entry of an item's history, read back from the audit trail (action_log kinds `action_item.added`
 * and `action_item.changed`): who did it, when, and old → new per field changed.
 */
export const ActionItemEventSchema = z.object({
  at: z.string(),
  actor: z.string(),
  kind: z.enum(['added', 'changed']),
  changes: z.partialRecord(z.enum(ACTION_ITEM_FIELDS), FieldChangeSchema),
  reason: z.string().nullable(),
});
export type ActionItemEvent = z.infer<typeof ActionItemEventSchema>;

/** An item with its history, oldest first (GET /api/action-items/:itemId). */
export const ActionItemWithHistorySchema = ActionItemSchema.extend({ history: z.array(ActionItemEventSchema) });
export type ActionItemWithHistory = z.infer<typeof ActionItemWithHistorySchema>;

/** The fields of `after` that differ from `before`, as old → new: what a change records. */
export function itemChanges(
  before: Pick<ActionItem, ActionItemField> | null,
  after: Pick<ActionItem, ActionItemField>,
): Partial<Record<ActionItemField, FieldChange>> {
  const changes: Partial<Record<ActionItemField, FieldChange>> = {};
  for (const field of ACTION_ITEM_FIELDS) {
    const from = before ? before[field] : null;
    if (from !== after[field]) changes[field] = { from, to: after[field] };
  }
  return changes;
}

/** An item of the tenant-wide list (GET /api/action-items), with the incident it belongs to. */
export const ListedActionItemSchema = ActionItemSchema.extend({
  incident: z.object({ title: z.string(), severity: SeveritySchema, status: IncidentStatusSchema }),
});
export type ListedActionItem = z.infer<typeof ListedActionItemSchema>;

/** The UTC calendar date of `now`, YYYY-MM-DD: the day against which due dates are compared. */
export const utcDate = (now: Date): string => now.toISOString().slice(0, 10);

export function isOverdue(item: { status: ActionItemStatus; dueDate: string | null }, now: Date): boolean {
  return item.status !== 'done' && item.dueDate !== null && item.dueDate < utcDate(now);
}
