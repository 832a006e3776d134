import { z } from 'zod';
import { IncidentStatusSchema } from './incident';
import { SeveritySchema } from './severity';

/* Action items of post-incident review: tracked follow-up work on an incident (table action_items). */

export const ACTION_ITEM_STATUSES = ['open', 'in_progress', 'done'] as const;
export const ActionItemStatusSchema = z.enum(ACTION_ITEM_STATUSES);
export type ActionItemStatus = z.infer<typeof ActionItemStatusSchema>;

/** An action item as the API answers it. */
export const ActionItemSchema = z.object({
  id: z.uuid(),
  incidentId: z.uuid(),
  title: z.string(),
  owner: z.string().nullable(),
  /** A calendar date, YYYY-MM-DD. */
  dueDate: z.string().nullable(),
  status: ActionItemStatusSchema,
  /** Not done and due before today (UTC). */
  overdue: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
});
export type ActionItem = z.infer<typeof ActionItemSchema>;

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
