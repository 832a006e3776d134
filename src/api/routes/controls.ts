import { z } from 'zod';
import { READ_ROLES } from '../auth';
import { defineRoute } from '../route';
import { listControls } from '../services/controls';

export const ControlsQuery = z.object({ kind: z.enum(['feature', 'block']).optional() }).strict();

export const ControlSchema = z.object({
  kind: z.enum(['feature', 'block']),
  key: z.string(),
  reason: z.string().nullable(),
  incidentId: z.uuid().nullable(),
  since: z.string(),
});
export type Control = z.infer<typeof ControlSchema>;
export const ControlsSchema = z.object({ items: z.array(ControlSchema) });

/**
 * The kill switches and blocks in force now, for other services to poll: a feature listed here is
 * off, a target listed here is blocked. Ingest keys may read it, so a service needs no wider role.
 */
export const controlRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/controls',
    operationId: 'listControls',
    tag: 'controls',
    summary: 'Kill switches and blocks in force, for other services to poll',
    roles: [...READ_ROLES, 'ingest'],
    query: ControlsQuery,
    responses: { 200: { description: 'controls in force', component: 'Controls', schema: ControlsSchema } },
    handler: async ({ query, principal, deps, res }) => {
      res.json({ items: await listControls(deps, principal, query.kind) });
    },
  }),
];
