import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ACTION_TYPES } from './domain/actions';
import { INCIDENT_SOURCES, INCIDENT_STATUSES } from './domain/incident';
import { SEVERITIES } from './domain/severity';

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

// ---- the incident lifecycle, counted by the worker once each transition is committed (src/activities/transition-metrics.ts) ----

export const incidentTransitions = new Counter({
  name: 'aire_incident_transitions_total',
  help: 'Incident status changes written to the audit trail, by the status entered',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const stepsFinished = new Counter({
  name: 'aire_steps_finished_total',
  help: 'Runbook steps that ended (after all their attempts), by action type and outcome (succeeded, failed)',
  labelNames: ['action', 'outcome'] as const,
  registers: [registry],
});

export const approvalLatency = new Histogram({
  name: 'aire_approval_latency_seconds',
  help: 'Time from an approval request to its answer, by gate (runbook, step) and decision (approve, reject, timed_out)',
  labelNames: ['gate', 'decision'] as const,
  // People answer in seconds when they watch, in hours when they are paged at night.
  buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400],
  registers: [registry],
});

export const slaBreaches = new Counter({
  name: 'aire_sla_breaches_total',
  help: 'Incidents not acknowledged within their response SLA, by severity',
  labelNames: ['severity'] as const,
  registers: [registry],
});

export const breakersOpened = new Counter({
  name: 'aire_breakers_opened_total',
  help: 'Circuit breakers opened on automatic remediation (a runbook kept failing for a service)',
  registers: [registry],
});

// ---- read from PostgreSQL when the API is scraped (src/api/services/health-metrics.ts); the same in every API replica ----

export const incidentsOpen = new Gauge({
  name: 'aire_incidents_open',
  help: 'Incidents not yet settled (not mitigated, resolved, closed, failed or rolled back), by status and severity; every API replica reports the same',
  labelNames: ['status', 'severity'] as const,
  registers: [registry],
});

export const incidentQuietSeconds = new Gauge({
  name: 'aire_incident_quiet_seconds_max',
  help: 'Per unsettled status, the longest any incident in it has gone without an audit entry (an incident stuck in remediating or investigating shows here)',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const breakersOpen = new Gauge({
  name: 'aire_breakers_open',
  help: 'Circuit breakers open now: runbooks that do not run on their own for a service until a person resets them',
  registers: [registry],
});

export const healthReadErrors = new Counter({
  name: 'aire_health_read_errors_total',
  help: 'Scrapes whose incident and breaker gauges could not be read from PostgreSQL (those gauges are left out of that scrape)',
  registers: [registry],
});

/**
 * Series whose labels are known in advance start at zero, each in the process that records it. A
 * counter series that appears only with its first event is first scraped at 1, and rate() and
 * increase() never see that 1: the first SLA breach after a worker starts would not raise
 * AireSlaBreached. (Step durations are left out: quantiles do not need it, and a histogram per
 * action type is many lines of zeros.)
 */
export function zeroApiSeries(intakeRoutes: Iterable<string>): void {
  for (const severity of SEVERITIES) for (const source of INCIDENT_SOURCES) incidentsOpened.inc({ severity, source }, 0);
  for (const route of intakeRoutes) for (const outcome of INTAKE_OUTCOMES) intakeRequests.inc({ route, outcome }, 0);
}

export function zeroWorkerSeries(): void {
  for (const severity of SEVERITIES) slaBreaches.inc({ severity }, 0);
  for (const status of INCIDENT_STATUSES) incidentTransitions.inc({ status }, 0);
  for (const action of ACTION_TYPES) {
    stepAttemptFailures.inc({ action }, 0);
    for (const outcome of STEP_OUTCOMES) stepsFinished.inc({ action, outcome }, 0);
  }
  for (const gate of ['runbook', 'step']) for (const decision of ['approve', 'reject', 'timed_out']) approvalLatency.zero({ gate, decision });
}

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
