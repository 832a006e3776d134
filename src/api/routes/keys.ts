import { Router } from 'express';
import { z } from 'zod';
import { withTenant } from '../../db/pool';
import { RoleSchema, createApiKey } from '../../db/tenants';
import { actorOf, principalOf, requireRole } from '../auth';
import { Deps } from '../incidents-service';
import { conflict, notFound } from '../problem';
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
    const created = await withTenant(deps.pool, principal.tenantId, async (c) => {
      const taken = await c.query('SELECT 1 FROM api_keys WHERE name = $1', [name]);
      if (taken.rowCount) throw conflict(`a key named "${name}" exists`);
      return createApiKey(c, principal.tenantId, name, [...new Set(roles)]);
    });
    res.status(201).json({ ...created, createdBy: actorOf(principal), note: 'store the key now: it is not shown again' });
  });

  router.get('/keys', requireRole('admin'), async (_req, res) => {
    const { rows } = await withTenant(deps.pool, principalOf(res).tenantId, (c) =>
      c.query(`SELECT id, name, key_prefix AS "prefix", roles, created_at AS "createdAt", revoked_at AS "revokedAt" FROM api_keys ORDER BY created_at, name`),
    );
    res.json({ items: rows });
  });

  router.delete('/keys/:id', requireRole('admin'), async (req, res) => {
    const { id } = params(KeyParams, req);
    const principal = principalOf(res);
    if (id === principal.keyId) throw conflict('a key cannot revoke itself: use another admin key');
    const { rows } = await withTenant(deps.pool, principal.tenantId, (c) =>
      c.query(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING id, name, revoked_at AS "revokedAt"`, [id]),
    );
    if (!rows[0]) throw notFound(`key ${id}`);
    res.json(rows[0]);
  });

  return router;
}
