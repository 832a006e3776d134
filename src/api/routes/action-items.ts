import { Router } from 'express';
import { z } from 'zod';
import { ActionItemStatusSchema } from '../../domain/report';
import { READ_ROLES, actorOf, principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { actionItemsOf, addActionItem, changeActionItem, tenantActionItems } from '../services/reviews';
import { body, params, query } from '../validate';

export const IncidentParams = z.object({ id: z.uuid('not an incident id') });
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
  })
  .strict();

export const PatchBody = z
  .object({
    title: Title.optional(),
    owner: Owner.nullable().optional(),
    dueDate: DueDate.nullable().optional(),
    status: ActionItemStatusSchema.optional(),
  })
  .strict()
  .refine((p) => Object.values(p).some((v) => v !== undefined), { message: 'send at least one of: title, owner, dueDate, status' });

const Flag = z.enum(['true', 'false'], 'write true or false').transform((v) => v === 'true');

export const TenantListQuery = z
  .object({
    overdue: Flag.optional(),
    status: ActionItemStatusSchema.optional(),
    owner: z.string().trim().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(200),
  })
  .strict();

/**
 * Action items of post-incident review: follow-up work on an incident, with owner, due date and
 * status; and the tenant-wide list, e.g. what is overdue.
 */
export function actionItemRoutes(deps: Deps): Router {
  const router = Router();

  router.post('/incidents/:id/action-items', requireRole('responder', 'approver'), async (req, res) => {
    const { id } = params(IncidentParams, req);
    const input = body(NewItemBody, req);
    const principal = principalOf(res);
    const item = await addActionItem(deps, principal, { ...input, incidentId: id, createdBy: actorOf(principal) });
    res.status(201).location(`/api/action-items/${item.id}`).json(item);
  });

  router.get('/incidents/:id/action-items', requireRole(...READ_ROLES), async (req, res) => {
    const { id } = params(IncidentParams, req);
    const principal = principalOf(res);
    res.json({ items: await actionItemsOf(deps, principal, id) });
  });

  router.get('/action-items', requireRole(...READ_ROLES), async (req, res) => {
    const filter = query(TenantListQuery, req);
    res.json({ items: await tenantActionItems(deps, principalOf(res), filter) });
  });

  router.patch('/action-items/:itemId', requireRole('responder', 'approver'), async (req, res) => {
    const { itemId } = params(ItemParams, req);
    const patch = body(PatchBody, req);
    res.json(await changeActionItem(deps, principalOf(res), itemId, patch));
  });

  return router;
}
