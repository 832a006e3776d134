import { Router } from 'express';
import { z } from 'zod';
import { SlugSchema } from '../../domain/incident';
import { READ_ROLES, actorOf, principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { breakers, resetOpenBreakers } from '../services/breakers';
import { body, query } from '../validate';

export const BreakersQuery = z.object({ all: z.enum(['true', 'false']).optional() }).strict();
export const ResetBody = z
  .object({
    /** The service, as in the incidents' affectedServices; `*` for runbooks on incidents naming none. */
    service: z.string().trim().min(1).max(200),
    runbookId: SlugSchema.optional(),
    reason: z.string().trim().max(2_000).optional(),
  })
  .strict();

/** Circuit breakers on automatic remediation: see which are open, and reset them (a person's call). */
export function breakerRoutes(deps: Deps): Router {
  const router = Router();

  router.get('/breakers', requireRole(...READ_ROLES), async (req, res) => {
    const { all } = query(BreakersQuery, req);
    res.json({ items: await breakers(deps, principalOf(res), all === 'true') });
  });

  router.post('/breakers/reset', requireRole('approver'), async (req, res) => {
    const { service, runbookId, reason } = body(ResetBody, req);
    const principal = principalOf(res);
    const count = await resetOpenBreakers(deps, principal, service, runbookId);
    res.json({ service, runbookId: runbookId ?? null, reset: count, by: actorOf(principal), reason: reason ?? null });
  });

  return router;
}
