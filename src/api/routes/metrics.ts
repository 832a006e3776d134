import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { IntakeOutcome, httpRequestDuration, intakeRequests, registry, zeroApiSeries } from '../../metrics';
import { READ_ROLES } from '../auth';
import { defineRoute } from '../route';
import { refreshHealthGauges } from '../services/health-metrics';
import { responseSummary } from '../services/metrics';

const WINDOW_UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const MAX_WINDOW_MS = 366 * 86_400_000;

/** A look-back window written like 30m, 24h, 7d or 4w; at most 366 days. */
export const WindowSchema = z
  .string()
  .describe('look-back window: a whole number and m, h, d or w, e.g. 24h, 7d, 30d (at most 366d)')
  .default('7d')
  .transform((text, ctx) => {
    const match = /^(\d{1,6})(m|h|d|w)$/.exec(text.trim());
    const ms = match ? Number(match[1]) * WINDOW_UNIT_MS[match[2] as keyof typeof WINDOW_UNIT_MS] : 0;
    if (!match || ms <= 0 || ms > MAX_WINDOW_MS) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a window: write e.g. 24h, 7d or 30d (more than 0, at most 366d)` });
      return z.NEVER;
    }
    return { text: text.trim(), ms };
  });

export const SummaryQuery = z.object({ window: WindowSchema }).strict();

export const MetricsSummarySchema = z.looseObject({
  window: z.looseObject({ duration: z.string(), from: z.string(), to: z.string(), seconds: z.number() }),
  incidents: z.number().int(),
  mttaSeconds: z.number().nullable(),
  mttrSeconds: z.number().nullable(),
  mtbfSeconds: z.number().nullable(),
  slaBySeverity: z.record(z.string(), z.looseObject({})),
  byStatus: z.record(z.string(), z.number()),
  bySeverity: z.record(z.string(), z.number()),
  bySource: z.record(z.string(), z.number()),
});

/** `GET /api/metrics/summary`: the tenant's response metrics over a window (MTTA, MTTR, MTBF, SLA, counts). */
export const metricsRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/metrics/summary',
    operationId: 'metricsSummary',
    tag: 'metrics',
    summary: 'Response metrics over a window (MTTA, MTTR, MTBF, SLA compliance by severity, counts)',
    roles: READ_ROLES,
    query: SummaryQuery,
    responses: { 200: { description: 'the summary', component: 'MetricsSummary', schema: MetricsSummarySchema } },
    handler: async ({ query: { window }, principal, deps, res }) => {
      const summary = await responseSummary(deps, principal, window.ms);
      res.json({ ...summary, window: { duration: window.text, ...summary.window } });
    },
  }),
];

// ---- Prometheus ----

const UNMATCHED = '(unmatched)';

function intakeOutcome(status: number): IntakeOutcome | undefined {
  if (status === 201) return 'accepted';
  if (status === 200) return 'joined';
  // Alertmanager batches, generic events and silenced events are taken in without a single outcome.
  if (status === 202) return 'received';
  if (status >= 400 && status < 500) return 'rejected';
  if (status >= 500) return 'error';
  return undefined;
}

/**
 * Times every request and labels it with the route pattern that matched (`/api/incidents/:id`),
 * never the raw URL, so the number of series stays bounded. The pattern is taken when the router
 * sets `req.route`, while `req.baseUrl` still holds the mount path; by the time the response
 * finishes an error may have unwound the routers and reset it. `intakeRoutes` (all POST) are the
 * paths whose outcomes aire_intake_requests_total counts. Mount it before every route.
 */
export function observeRequests(intakeRoutes: ReadonlySet<string>): RequestHandler {
  zeroApiSeries(intakeRoutes);
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    // The path as sent, before routers strip their mount points: lets a request refused before
    // routing (401) still count as an intake request.
    const path = req.path.toLowerCase().replace(/(.)\/+$/, '$1');
    let route: unknown;
    let pattern: string | undefined;
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => route,
      set: (value: { path?: unknown } | undefined) => {
        route = value;
        if (value && typeof value.path === 'string') pattern = `${req.baseUrl}${value.path}`;
      },
    });
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = res.statusCode;
      httpRequestDuration.observe({ method: req.method, route: pattern ?? UNMATCHED, status: String(status) }, seconds);
      const intakeRoute = pattern !== undefined && intakeRoutes.has(pattern) ? pattern : intakeRoutes.has(path) ? path : undefined;
      const outcome = intakeOutcome(status);
      if (req.method === 'POST' && intakeRoute && outcome) intakeRequests.inc({ route: intakeRoute, outcome });
    });
    next();
  };
}

/**
 * `GET /metrics` in Prometheus text format, without a key (like /healthz): it holds counts labelled
 * by severity, source, status, action type and route pattern only, nothing that names a tenant. The
 * incident and breaker gauges are read from PostgreSQL across tenants, as aggregates.
 */
export const prometheusRoutes = [
  defineRoute({
    method: 'get',
    path: '/metrics',
    operationId: 'prometheusMetrics',
    tag: 'metrics',
    summary: 'Prometheus metrics (text exposition format); counts by severity, source, action type and route pattern, nothing per tenant',
    roles: null,
    responses: { 200: { description: 'metrics', contentType: 'text/plain', schema: () => ({ type: 'string' }) } },
    handler: async ({ deps, res }) => {
      await refreshHealthGauges(deps);
      const text = await registry.metrics();
      res.set('Cache-Control', 'no-store').type(registry.contentType).send(text);
    },
  }),
];
