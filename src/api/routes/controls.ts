import { Router } from 'express';
import { z } from 'zod';
import { READ_ROLES, principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { listControls } from '../services/controls';
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
    res.json({ items: await listControls(deps, principalOf(res), kind) });
  });
  return router;
}
