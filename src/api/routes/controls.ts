import { Router } from 'express';
import { z } from 'zod';
import { withTenant } from '../../db/pool';
import { READ_ROLES, principalOf, requireRole } from '../auth';
import { Deps } from '../incidents-service';
import { query } from '../validate';

export const ControlsQuery = z.object({ kind: z.enum(['feature', 'block']).optional() }).strict();

/**
 * The kill switches and blocks in force now, for other services to poll: a feature listed here is
 * off, a target listed here is blocked. Ingest keys may read it, so a service needs no wider role.
 */
export function controlRoutes(deps: Deps): Router {
  const router = Router();
  router.get('/controls', requireRole(...READ_ROLES, 'ingest'), async (req, res) => {
    const { kind } = query(ControlsQuery, req);
    const { rows } = await withTenant(deps.pool, principalOf(res).tenantId, (c) =>
      c.query(
        `SELECT kind, key, reason, incident_id AS "incidentId", updated_at AS "since"
           FROM controls WHERE active AND ($1::text IS NULL OR kind = $1) ORDER BY kind, key`,
        [kind ?? null],
      ),
    );
    res.json({ items: rows });
  });
  return router;
}
