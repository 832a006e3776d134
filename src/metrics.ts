import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric AIRE exports, defined once. The API and the worker import this module and
 * each serves the same registry; a metric the process never touches shows only its HELP and TYPE.
 *
 * Labels are bounded on purpose: severity, source, action type, route pattern, status code. No
 * tenant, incident, key or URL ever becomes a label: `/metrics` needs no key, so it must not tell
 * anyone who the tenants are or what they run.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const incidentsOpened = new Counter({
  name: 'aire_incidents_opened_total',
  help: 'Incidents opened through the API (an event that joins an open incident is not counted)',
  labelNames: ['severity', 'source'] as const,
  registers: [registry],
});

export const INTAKE_OUTCOMES = ['accepted', 'joined', 'received', 'rejected', 'error'] as const;
export type IntakeOutcome = (typeof INTAKE_OUTCOMES)[number];

export const intakeRequests = new Counter({
  name: 'aire_intake_requests_total',
  help: 'Intake requests by route and outcome: accepted (opened an incident), joined (an open one), received (taken in for rules, batches or silences), rejected (4xx), error (5xx)',
  labelNames: ['route', 'outcome'] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: 'aire_http_request_duration_seconds',
  help: 'API request duration by method, matched route pattern and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const STEP_OUTCOMES = ['succeeded', 'failed'] as const;

export const stepDuration = new Histogram({
  name: 'aire_step_duration_seconds',
  help: 'Duration of one attempt of a runbook step (action execute) by action type and outcome',
  labelNames: ['action', 'outcome'] as const,
  // Steps range from a webhook call to a wait or a health poll of several minutes.
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
  registers: [registry],
});

export const stepAttemptFailures = new Counter({
  name: 'aire_step_attempt_failures_total',
  help: 'Failed attempts of runbook steps (each retry that fails counts) by action type',
  labelNames: ['action'] as const,
  registers: [registry],
});

/** Answers a scrape with the registry in Prometheus text format. */
export async function writeMetrics(res: ServerResponse): Promise<void> {
  const text = await registry.metrics();
  res.writeHead(200, { 'Content-Type': registry.contentType });
  res.end(text);
}

/**
 * A small HTTP server answering `GET /metrics`, for processes without an API of their own (the
 * worker), and the probes an orchestrator needs (deploy/helm/aire): `GET /healthz` (the process
 * answers) and `GET /readyz` (`ready()` holds: for the worker, it is polling its task queue; 503 with
 * Retry-After until then, so a rolling update waits for the new worker to work before stopping an
 * old one). Resolves once listening; close it with `server.close()`.
 */
export function startMetricsServer(port: number, host: string, ready: () => boolean = () => true): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/healthz' || path === '/readyz')) {
      const ok = path === '/healthz' || ready();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json', ...(ok ? {} : { 'Retry-After': '5' }) });
      res.end(JSON.stringify({ status: path === '/healthz' ? 'ok' : ok ? 'ready' : 'unavailable' }));
      return;
    }
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('GET /metrics, /healthz or /readyz\n');
      return;
    }
    writeMetrics(res).catch((err: unknown) => {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
