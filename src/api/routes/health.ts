import { z } from 'zod';
import type { Deps } from '../deps';
import { defineRoute } from '../route';

export const HealthSchema = z.object({ status: z.literal('ok') });
export const ReadinessSchema = z.object({ status: z.enum(['ready', 'unavailable']), checks: z.record(z.string(), z.string()) });

async function checkReady(deps: Deps): Promise<Record<string, string>> {
  const checks: Record<string, string> = {};
  await deps.pool.query('SELECT 1').then(
    () => (checks.postgres = 'ok'),
    (err: Error) => (checks.postgres = err.message),
  );
  await deps.temporal.workflowService.getSystemInfo({}).then(
    () => (checks.temporal = 'ok'),
    (err: Error) => (checks.temporal = err.message),
  );
  return checks;
}

/** Liveness and readiness, without a key. */
export const healthRoutes = [
  defineRoute({
    method: 'get',
    path: '/healthz',
    operationId: 'liveness',
    tag: 'health',
    summary: 'Liveness: the process answers',
    roles: null,
    responses: { 200: { description: 'alive', component: 'Health', schema: HealthSchema } },
    handler: ({ res }) => {
      res.json({ status: 'ok' });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tag: 'health',
    summary: 'Readiness: PostgreSQL and Temporal are reachable',
    roles: null,
    responses: {
      200: { description: 'ready', component: 'Readiness', schema: ReadinessSchema },
      503: { description: 'a backing service does not answer; `checks` says which', component: 'Readiness', headers: { 'Retry-After': 'seconds to wait' } },
    },
    handler: async ({ deps, res }) => {
      const checks = await checkReady(deps);
      const ready = Object.values(checks).every((v) => v === 'ok');
      if (!ready) res.set('Retry-After', '5');
      res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
    },
  }),
];
