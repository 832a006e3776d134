import { Router } from 'express';
import { z } from 'zod';
import { RoleSchema } from '../../domain/access';
import { actorOf, principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { createKey, listKeys, revokeKey } from '../services/keys';
import { body, params } from '../validate';

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

/**
 * API keys of the caller's tenant. A key is shown once, when created, and stored only as a hash;
 * a revoked key stops working on the next request (every request looks the key up).
 */
export function keyRoutes(deps: Deps): Router {
  const router = Router();

  router.post('/keys', requireRole('admin'), async (req, res) => {
    const { name, roles } = body(CreateKeyBody, req);
    const principal = principalOf(res);
    const created = await createKey(deps, principal, name, roles);
    res.status(201).json({ ...created, createdBy: actorOf(principal), note: 'store the key now: it is not shown again' });
  });

  router.get('/keys', requireRole('admin'), async (_req, res) => {
    res.json({ items: await listKeys(deps, principalOf(res)) });
  });

  router.delete('/keys/:id', requireRole('admin'), async (req, res) => {
    const { id } = params(KeyParams, req);
    const principal = principalOf(res);
    res.json(await revokeKey(deps, principal, id));
  });

  return router;
}
