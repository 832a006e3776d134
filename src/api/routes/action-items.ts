import { z } from 'zod';
import {
  ActionItemPrioritySchema,
  ActionItemSchema,
  ActionItemStatusSchema,
  ActionItemWithHistorySchema,
  ListedActionItemSchema,
} from '../../domain/action-items';
import { READ_ROLES, actorOf } from '../auth';
import { problemsFor } from '../openapi';
import { defineRoute } from '../route';
import { actionItemWithHistory, actionItemsOf, addActionItem, changeActionItem, tenantActionItems } from '../services/reviews';
import { IdParams } from './incidents';

export const ItemParams = z.object({ itemId: z.uuid('not an action item id') });

const Title = z.string().trim().min(1, 'give the item a title').max(300);
const Owner = z.string().trim().min(1, 'name an owner, or send null to unassign').max(200);
const DueDate = z.iso.date('write the due date as YYYY-MM-DD');

export const NewItemBody = z
  .object({
    title: Title,
    owner: Owner.nullable().optional(),
    dueDate: DueDate.nullable().optional(),
    status: ActionItemStatusSchema.default('open'),
    priority: ActionItemPrioritySchema.default('medium'),
  })
  .strict();

export const PatchBody = z
  .object({
    title: Title.optional(),
    owner: Owner.nullable().optional(),
    dueDate: DueDate.nullable().optional(),
    status: ActionItemStatusSchema.optional(),
    priority: ActionItemPrioritySchema.optional(),
    /** Why, kept in the item's history (e.g. what it is blocked on); changes nothing by itself. */
    reason: z.string().trim().min(1).max(1_000).optional(),
  })
  .strict()
  .refine((p) => Object.entries(p).some(([k, v]) => k !== 'reason' && v !== undefined), {
    message: 'send at least one of: title, owner, dueDate, status, priority',
  });

const Flag = z.enum(['true', 'false'], 'write true or false').transform((v) => v === 'true');

export const TenantListQuery = z
  .object({
    overdue: Flag.optional(),
    status: ActionItemStatusSchema.optional(),
    priority: ActionItemPrioritySchema.optional(),
    owner: z.string().trim().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(200),
  })
  .strict();

export const ActionItemListSchema = z.object({ items: z.array(ActionItemSchema) });
/** The tenant-wide list: each item with the incident it belongs to. */
export const ListedActionItemListSchema = z.object({ items: z.array(ListedActionItemSchema) });

/**
 * Action items of post-incident review: follow-up work on an incident, with owner, due date,
 * priority and status, each change recorded in its history; and the tenant-wide list, e.g. what is overdue.
 */
export const actionItemRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/incidents/:id/action-items',
    operationId: 'addActionItem',
    tag: 'reviews',
    summary: 'Add a follow-up action item to an incident',
    roles: ['responder', 'approver'],
    params: IdParams,
    body: { component: 'NewActionItem', schema: NewItemBody },
    responses: { 201: { description: 'the item', component: 'ActionItem', schema: ActionItemSchema, headers: { Location: 'the item' } } },
    problems: problemsFor(true, false),
    handler: async ({ params: { id }, body: input, principal, deps, res }) => {
      const item = await addActionItem(deps, principal, { ...input, incidentId: id, createdBy: actorOf(principal) });
      res.status(201).location(`/api/action-items/${item.id}`).json(item);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/incidents/:id/action-items',
    operationId: 'listIncidentActionItems',
    tag: 'reviews',
    summary: 'The action items of an incident',
    roles: READ_ROLES,
    params: IdParams,
    responses: { 200: { description: 'the items', component: 'ActionItemList', schema: ActionItemListSchema } },
    problems: problemsFor(true, false),
    handler: async ({ params: { id }, principal, deps, res }) => {
      res.json({ items: await actionItemsOf(deps, principal, id) });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/action-items',
    operationId: 'listActionItems',
    tag: 'reviews',
    summary: 'Action items across the tenant, e.g. what is overdue',
    roles: READ_ROLES,
    query: TenantListQuery,
    responses: { 200: { description: 'the items', component: 'ListedActionItemList', schema: ListedActionItemListSchema } },
    handler: async ({ query: filter, principal, deps, res }) => {
      res.json({ items: await tenantActionItems(deps, principal, filter) });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/action-items/:itemId',
    operationId: 'getActionItem',
    tag: 'reviews',
    summary: 'One action item with its history: every change, who made it and when, old → new',
    roles: READ_ROLES,
    params: ItemParams,
    responses: { 200: { description: 'the item and its history, oldest first', component: 'ActionItemWithHistory', schema: ActionItemWithHistorySchema } },
    problems: problemsFor(true, false),
    handler: async ({ params: { itemId }, principal, deps, res }) => {
      res.json(await actionItemWithHistory(deps, principal, itemId));
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/api/action-items/:itemId',
    operationId: 'updateActionItem',
    tag: 'reviews',
    summary: 'Change an action item: title, owner, due date, priority or status (open, in_progress, blocked, done)',
    description: 'Send at least one field; `null` clears owner or due date; `reason` goes into the history with the change.',
    roles: ['responder', 'approver'],
    params: ItemParams,
    body: { component: 'ActionItemPatch', schema: PatchBody },
    responses: { 200: { description: 'the item as changed', component: 'ActionItem' } },
    problems: problemsFor(true, false),
    handler: async ({ params: { itemId }, body: patch, principal, deps, res }) => {
      res.json(await changeActionItem(deps, principal, itemId, patch));
    },
  }),
];
