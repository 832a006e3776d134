import { z } from 'zod';
import { RoleSchema } from '../../domain/access';
import { actorOf } from '../auth';
import { problemsFor } from '../openapi';
import { defineRoute } from '../route';
import { createKey, listKeys, revokeKey } from '../services/keys';

export const CreateKeyBody = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .regex(/^[\w.@-]+$/, 'letters, digits and . _ - @'),
    roles: z.array(RoleSchema).min(1).max(5),
  })
  .strict();
export const KeyParams = z.object({ id: z.uuid('not a key id') });

export const CreatedKeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  roles: z.array(RoleSchema),
  key: z.string().meta({ description: 'the key itself: shown this once, stored only as a hash' }),
  createdBy: z.string(),
  note: z.string(),
});
export type CreatedKey = z.infer<typeof CreatedKeySchema>;
export const KeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  roles: z.array(RoleSchema),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type Key = z.infer<typeof KeySchema>;
export const KeyListSchema = z.object({ items: z.array(KeySchema) });
export const RevokedKeySchema = z.object({ id: z.uuid(), name: z.string(), revokedAt: z.string() });
export type RevokedKey = z.infer<typeof RevokedKeySchema>;

/**
 * API keys of the caller's tenant. A key is shown once, when created, and stored only as a hash;
 * a revoked key stops working on the next request (every request looks the key up).
 */
export const keyRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/keys',
    operationId: 'createKey',
    tag: 'keys',
    summary: 'Create an API key of this tenant; the key is answered once and stored only as a hash',
    roles: ['admin'],
    body: { component: 'NewKey', schema: CreateKeyBody },
    responses: { 201: { description: 'the key, shown this once', component: 'CreatedKey', schema: CreatedKeySchema } },
    problems: problemsFor(false, true),
    handler: async ({ body: { name, roles }, principal, deps, res }) => {
      const created = await createKey(deps, principal, name, roles);
      res.status(201).json({ ...created, createdBy: actorOf(principal), note: 'store the key now: it is not shown again' });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/keys',
    operationId: 'listKeys',
    tag: 'keys',
    summary: "The tenant's API keys (prefixes only), revoked ones included",
    roles: ['admin'],
    responses: { 200: { description: 'the keys', component: 'KeyList', schema: KeyListSchema } },
    handler: async ({ principal, deps, res }) => {
      res.json({ items: await listKeys(deps, principal) });
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/keys/:id',
    operationId: 'revokeKey',
    tag: 'keys',
    summary: 'Revoke an API key; it stops working on the next request. A key cannot revoke itself (409)',
    roles: ['admin'],
    params: KeyParams,
    responses: { 200: { description: 'the revoked key', component: 'RevokedKey', schema: RevokedKeySchema } },
    problems: problemsFor(true, true),
    handler: async ({ params, principal, deps, res }) => {
      res.json(await revokeKey(deps, principal, params.id));
    },
  }),
];
