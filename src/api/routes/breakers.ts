import { z } from 'zod';
import { SlugSchema } from '../../domain/incident';
import { READ_ROLES, actorOf } from '../auth';
import { problemsFor } from '../openapi';
import { defineRoute } from '../route';
import { breakers, resetOpenBreakers } from '../services/breakers';

export const BreakersQuery = z.object({ all: z.enum(['true', 'false']).optional() }).strict();
export const ResetBody = z
  .object({
    /** The service, as in the incidents' affectedServices; `*` for runbooks on incidents naming none. */
    service: z.string().trim().min(1).max(200),
    runbookId: SlugSchema.optional(),
    reason: z.string().trim().max(2_000).optional(),
  })
  .strict();

export const BreakerSchema = z.object({
  id: z.string(),
  runbookId: z.string(),
  target: z.string(),
  reason: z.string(),
  openedAt: z.string(),
  resetAt: z.string().nullable(),
  resetBy: z.string().nullable(),
});
export type Breaker = z.infer<typeof BreakerSchema>;
export const BreakerListSchema = z.object({ items: z.array(BreakerSchema) });
export const BreakerResetDoneSchema = z.object({
  service: z.string(),
  runbookId: z.string().nullable(),
  reset: z.number().int(),
  by: z.string(),
  reason: z.string().nullable(),
});
export type BreakerResetDone = z.infer<typeof BreakerResetDoneSchema>;

/** Circuit breakers on automatic remediation: see which are open, and reset them (a person's call). */
export const breakerRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/breakers',
    operationId: 'listBreakers',
    tag: 'breakers',
    summary: 'Circuit breakers on automatic remediation: the open ones, or all with ?all=true',
    roles: READ_ROLES,
    query: BreakersQuery,
    responses: { 200: { description: 'the breakers', component: 'BreakerList', schema: BreakerListSchema } },
    handler: async ({ query, principal, deps, res }) => {
      res.json({ items: await breakers(deps, principal, query.all === 'true') });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/breakers/reset',
    operationId: 'resetBreaker',
    tag: 'breakers',
    summary: 'Reset the open circuit breakers for a service (and one runbook, if given): automatic remediation may run again',
    roles: ['approver'],
    body: { component: 'BreakerReset', schema: ResetBody },
    responses: { 200: { description: 'how many were reset', component: 'BreakerResetDone', schema: BreakerResetDoneSchema } },
    problems: problemsFor(true, false),
    handler: async ({ body: { service, runbookId, reason }, principal, deps, res }) => {
      const count = await resetOpenBreakers(deps, principal, service, runbookId);
      const done: BreakerResetDone = { service, runbookId: runbookId ?? null, reset: count, by: actorOf(principal), reason: reason ?? null };
      res.json(done);
    },
  }),
];
