import type { ActionKind } from '../domain/action-kinds';
import { PoolClient } from 'pg';
import { IncidentDraft, IncidentStatus } from '../domain/incident';
import type { Suggestion } from '../domain/analysis';
import type { EditableFields, Impact, IncidentRoles, PostedStatusUpdate } from '../domain/command';
import { defined, first } from '../domain/must';
import { Severity } from '../domain/severity';

export interface NewIncident {
  id: string;
  tenantId: string;
  workflowId: string;
  declaredBy: string;
  draft: IncidentDraft;
}

/** Idempotent: the API and the workflow's first activity both call it; the first one wins. */
export async function insertIncident(client: PoolClient, inc: NewIncident): Promise<boolean> {
  const d = inc.draft;
  const { rowCount } = await client.query(
    `INSERT INTO incidents (id, tenant_id, workflow_id, source, dedup_key, severity, category, title, summary,
        root_cause_hypothesis, affected_services, labels, context, severity_reasons, linked_forecast_id, linked_event_id, declared_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     ON CONFLICT (id) DO NOTHING`,
    [
      inc.id,
      inc.tenantId,
      inc.workflowId,
      d.source,
      d.dedupKey,
      d.severity,
      d.category ?? null,
      d.title,
      d.summary ?? null,
      d.rootCauseHypothesis ?? null,
      d.affectedServices,
      JSON.stringify(d.labels),
      JSON.stringify(d.context),
      JSON.stringify(d.severityReasons),
      d.linkedForecastId ?? null,
      d.linkedEventId ?? null,
      inc.declaredBy,
    ],
  );
  return rowCount === 1;
}

export interface LogEntry {
  tenantId: string;
  incidentId: string;
  /** Unique per incident: a retried writer logs the same transition once. */
  eventKey: string;
  kind: ActionKind;
  actor: string;
  stepId?: string | null;
  detail?: Record<string, unknown>;
  at?: string;
}

/** Appends an audit entry; false when one with its event key was already there (a repeated write). */
export async function appendLog(client: PoolClient, e: LogEntry): Promise<boolean> {
  const result = await client.query(
    `INSERT INTO action_log (tenant_id, incident_id, event_key, kind, actor, step_id, detail, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8::timestamptz, clock_timestamp()))
     ON CONFLICT (incident_id, event_key) DO NOTHING`,
    [e.tenantId, e.incidentId, e.eventKey, e.kind, e.actor, e.stepId ?? null, JSON.stringify(e.detail ?? {}), e.at ?? null],
  );
  return result.rowCount === 1;
}

const STAMP_COLUMN = {
  acknowledged: 'acknowledged_at',
  mitigated: 'mitigated_at',
  resolved: 'resolved_at',
  closed: 'closed_at',
} as const;
export type Stamp = keyof typeof STAMP_COLUMN;

export interface IncidentUpdate {
  status?: IncidentStatus;
  severity?: Severity;
  /** Sets the named timestamp the first time only. */
  stamp?: Stamp;
  runbook?: { id: string; version: number };
  /** Runbooks ranked by relevance to the incident. */
  suggestions?: Suggestion[];
  /**
   * Duplicate events joined: `total` is the workflow's own count so far, which a write repeated
   * with a larger batch cannot count twice; `count` alone (histories from before it) adds.
   */
  occurrences?: { count: number; total?: number; lastSeenAt: string };
  /** Fields people edited (src/domain/command.ts); severity goes by `severity`. */
  fields?: Omit<EditableFields, 'severity'>;
  roles?: IncidentRoles;
  latestStatusUpdate?: PostedStatusUpdate;
  at: string;
}

/** Edited fields and their columns; jsonb ones are written as JSON. */
const FIELD_COLUMNS: Record<keyof NonNullable<IncidentUpdate['fields']>, { column: string; json?: true }> = {
  title: { column: 'title' },
  summary: { column: 'summary' },
  category: { column: 'category' },
  affectedServices: { column: 'affected_services' },
  labels: { column: 'labels', json: true },
  impact: { column: 'impact', json: true },
  rootCause: { column: 'root_cause' },
};

export async function updateIncident(client: PoolClient, incidentId: string, u: IncidentUpdate): Promise<void> {
  const sets = ['updated_at = $2::timestamptz'];
  const params: unknown[] = [incidentId, u.at];
  const add = (sql: string, value: unknown): void => {
    params.push(value);
    sets.push(sql.replace('?', `$${params.length}`));
  };
  if (u.status) add('status = ?', u.status);
  if (u.severity) add('severity = ?', u.severity);
  if (u.suggestions) add('suggestions = ?::jsonb', JSON.stringify(u.suggestions));
  for (const [field, value] of Object.entries(u.fields ?? {}) as [keyof typeof FIELD_COLUMNS, unknown][]) {
    const { column, json } = FIELD_COLUMNS[field];
    if (value !== undefined) add(`${column} = ?${json ? '::jsonb' : ''}`, json ? JSON.stringify(value) : value);
  }
  if (u.roles) add('roles = ?::jsonb', JSON.stringify(u.roles));
  if (u.latestStatusUpdate) add('latest_status_update = ?::jsonb', JSON.stringify(u.latestStatusUpdate));
  if (u.stamp) sets.push(`${STAMP_COLUMN[u.stamp]} = COALESCE(${STAMP_COLUMN[u.stamp]}, $2::timestamptz)`);
  if (u.runbook) {
    add('runbook_id = ?', u.runbook.id);
    add('runbook_version = ?', u.runbook.version);
  }
  if (u.occurrences) {
    if (u.occurrences.total !== undefined) add('occurrences = GREATEST(occurrences, ?::int)', u.occurrences.total);
    else add('occurrences = occurrences + ?::int', u.occurrences.count);
    add('last_seen_at = GREATEST(last_seen_at, ?::timestamptz)', u.occurrences.lastSeenAt);
  }
  await client.query(`UPDATE incidents SET ${sets.join(', ')} WHERE id = $1`, params);
}

export interface StepRow {
  stepId: string;
  position: number;
  name: string;
  action: string;
}

export interface StepUpdate {
  status: string;
  gate?: unknown;
  params?: unknown;
  output?: unknown;
  error?: string | null;
  attempts?: number;
  at: string;
}

/** Creates the step's row on first sight and applies the update. */
export async function upsertStep(client: PoolClient, tenantId: string, incidentId: string, step: StepRow, u: StepUpdate): Promise<void> {
  const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
  await client.query(
    `INSERT INTO incident_steps (tenant_id, incident_id, step_id, position, name, action, status, gate, params, output, error, attempts,
        started_at, finished_at, compensated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, COALESCE($12, 0),
        CASE WHEN $7 = 'running' THEN $13::timestamptz END,
        CASE WHEN $7 IN ('succeeded', 'failed', 'skipped') THEN $13::timestamptz END,
        CASE WHEN $7 = 'compensated' THEN $13::timestamptz END)
     ON CONFLICT (incident_id, step_id) DO UPDATE SET
        status = EXCLUDED.status,
        gate = COALESCE(EXCLUDED.gate, incident_steps.gate),
        params = COALESCE(EXCLUDED.params, incident_steps.params),
        output = COALESCE(EXCLUDED.output, incident_steps.output),
        error = CASE WHEN $11::text IS NOT NULL OR EXCLUDED.status IN ('running', 'succeeded') THEN $11 ELSE incident_steps.error END,
        attempts = GREATEST(incident_steps.attempts, EXCLUDED.attempts),
        started_at = COALESCE(incident_steps.started_at, EXCLUDED.started_at),
        finished_at = COALESCE(EXCLUDED.finished_at, incident_steps.finished_at),
        compensated_at = COALESCE(EXCLUDED.compensated_at, incident_steps.compensated_at)`,
    [
      tenantId,
      incidentId,
      step.stepId,
      step.position,
      step.name,
      step.action,
      u.status,
      json(u.gate),
      json(u.params),
      json(u.output),
      u.error ?? null,
      u.attempts ?? null,
      u.at,
    ],
  );
}

/** Adds rows for steps not seen yet, as pending, so an incident shows its whole plan from the start. */
export async function planSteps(client: PoolClient, tenantId: string, incidentId: string, steps: StepRow[]): Promise<void> {
  for (const step of steps) {
    await client.query(
      `INSERT INTO incident_steps (tenant_id, incident_id, step_id, position, name, action, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending') ON CONFLICT (incident_id, step_id) DO NOTHING`,
      [tenantId, incidentId, step.stepId, step.position, step.name, step.action],
    );
  }
}

/** Returns the remembered value for `key`, computing and storing it the first time. */
export async function rememberForStep<T>(client: PoolClient, incidentId: string, stepId: string, key: string, produce: () => Promise<T>): Promise<T> {
  const { rows } = await client.query<{ memory: Record<string, T> }>('SELECT memory FROM incident_steps WHERE incident_id = $1 AND step_id = $2 FOR UPDATE', [
    incidentId,
    stepId,
  ]);
  const memory = rows[0]?.memory ?? {};
  if (Object.prototype.hasOwnProperty.call(memory, key)) return defined(memory[key], `the remembered ${key}`);
  const value = await produce();
  await client.query(`UPDATE incident_steps SET memory = memory || jsonb_build_object($3::text, $4::jsonb) WHERE incident_id = $1 AND step_id = $2`, [
    incidentId,
    stepId,
    key,
    JSON.stringify(value),
  ]);
  return value;
}

export async function insertApproval(
  client: PoolClient,
  a: {
    tenantId: string;
    incidentId: string;
    stepId: string | null;
    decision: 'approve' | 'reject';
    approver: string;
    reason?: string;
    eventKey: string;
    at: string;
  },
): Promise<void> {
  await client.query(
    `INSERT INTO approvals (tenant_id, incident_id, step_id, decision, approver, reason, event_key, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (incident_id, event_key) DO NOTHING`,
    [a.tenantId, a.incidentId, a.stepId, a.decision, a.approver, a.reason ?? null, a.eventKey, a.at],
  );
}

// ---- reads (API) ----

export interface IncidentRecord {
  id: string;
  workflowId: string;
  source: string;
  dedupKey: string;
  severity: string;
  category: string | null;
  status: IncidentStatus;
  title: string;
  summary: string | null;
  rootCauseHypothesis: string | null;
  affectedServices: string[];
  labels: Record<string, string>;
  context: Record<string, unknown>;
  severityReasons: string[];
  linkedForecastId: string | null;
  linkedEventId: string | null;
  runbookId: string | null;
  runbookVersion: number | null;
  declaredBy: string;
  occurrences: number;
  createdAt: string;
  updatedAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  mitigatedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  suggestions: Suggestion[];
  impact: Impact | null;
  rootCause: string | null;
  roles: IncidentRoles;
  latestStatusUpdate: PostedStatusUpdate | null;
}

const INCIDENT_COLUMNS = `id, workflow_id, source, dedup_key, severity, category, status, title, summary, root_cause_hypothesis,
  affected_services, labels, context, severity_reasons, linked_forecast_id, linked_event_id, runbook_id, runbook_version,
  declared_by, occurrences, created_at, updated_at, last_seen_at, acknowledged_at, mitigated_at, resolved_at, closed_at, suggestions,
  impact, root_cause, roles, latest_status_update`;

type Row = Record<string, unknown>;
const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : null);

function toIncident(r: Row): IncidentRecord {
  return {
    id: r.id as string,
    workflowId: r.workflow_id as string,
    source: r.source as string,
    dedupKey: r.dedup_key as string,
    severity: r.severity as string,
    category: r.category as string | null,
    status: r.status as IncidentStatus,
    title: r.title as string,
    summary: r.summary as string | null,
    rootCauseHypothesis: r.root_cause_hypothesis as string | null,
    affectedServices: r.affected_services as string[],
    labels: r.labels as Record<string, string>,
    context: r.context as Record<string, unknown>,
    severityReasons: r.severity_reasons as string[],
    linkedForecastId: r.linked_forecast_id as string | null,
    linkedEventId: r.linked_event_id as string | null,
    runbookId: r.runbook_id as string | null,
    runbookVersion: r.runbook_version as number | null,
    declaredBy: r.declared_by as string,
    occurrences: r.occurrences as number,
    createdAt: iso(r.created_at) as string,
    updatedAt: iso(r.updated_at) as string,
    lastSeenAt: iso(r.last_seen_at) as string,
    acknowledgedAt: iso(r.acknowledged_at),
    mitigatedAt: iso(r.mitigated_at),
    resolvedAt: iso(r.resolved_at),
    closedAt: iso(r.closed_at),
    suggestions: (r.suggestions as Suggestion[] | undefined) ?? [],
    impact: (r.impact as Impact | null) ?? null,
    rootCause: (r.root_cause as string | null) ?? null,
    roles: (r.roles as IncidentRoles | null) ?? { assignees: [] },
    latestStatusUpdate: (r.latest_status_update as PostedStatusUpdate | null) ?? null,
  };
}

export async function getIncident(client: PoolClient, id: string): Promise<IncidentRecord | null> {
  const { rows } = await client.query<Row>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1`, [id]);
  return rows[0] ? toIncident(rows[0]) : null;
}

export interface IncidentFilter {
  status?: string;
  severity?: string;
  source?: string;
  limit: number;
  /** Keyset pagination: the (created_at, id) of the last row of the previous page. */
  after?: { createdAt: string; id: string };
}

export async function listIncidents(client: PoolClient, f: IncidentFilter): Promise<IncidentRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown): void => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.status) add('status = ?', f.status);
  if (f.severity) add('severity = ?', f.severity);
  if (f.source) add('source = ?', f.source);
  if (f.after) {
    params.push(f.after.createdAt, f.after.id);
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(f.limit);
  const { rows } = await client.query(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toIncident);
}

export async function incidentDetails(client: PoolClient, id: string): Promise<{ steps: Row[]; approvals: Row[]; actionLog: Row[] }> {
  const steps = await client.query<Row>(
    `SELECT step_id AS "stepId", position, name, action, status, gate, params, output, error, attempts,
            started_at AS "startedAt", finished_at AS "finishedAt", compensated_at AS "compensatedAt"
       FROM incident_steps WHERE incident_id = $1 ORDER BY position`,
    [id],
  );
  const approvals = await client.query<Row>(
    `SELECT step_id AS "stepId", decision, approver, reason, created_at AS "at" FROM approvals WHERE incident_id = $1 ORDER BY id`,
    [id],
  );
  const log = await client.query<Row>(`SELECT id, at, kind, actor, step_id AS "stepId", detail FROM action_log WHERE incident_id = $1 ORDER BY id`, [id]);
  return { steps: steps.rows, approvals: approvals.rows, actionLog: log.rows };
}

/**
 * Incidents of the last 24 hours related to this one: the same category, or an affected service in
 * common (never the same dedup key, which would be this incident itself or its earlier episodes).
 */
export async function countRelated(client: PoolClient, draft: Pick<IncidentDraft, 'category' | 'affectedServices' | 'dedupKey'>): Promise<number> {
  if (!draft.category && draft.affectedServices.length === 0) return 0;
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM incidents
      WHERE created_at > now() - interval '24 hours' AND dedup_key <> $3
        AND (($1::text IS NOT NULL AND category = $1) OR affected_services && $2::text[])`,
    [draft.category ?? null, draft.affectedServices, draft.dedupKey],
  );
  return first(rows, 'the count of related incidents').n;
}

/** An event a silence or maintenance window matched: recorded, and no incident opened for it. */
export async function insertSuppressedEvent(
  client: PoolClient,
  e: { tenantId: string; source: string; dedupKey: string; eventId: string; title: string; reason: string },
): Promise<void> {
  await client.query('INSERT INTO suppressed_events (tenant_id, source, dedup_key, event_id, title, reason) VALUES ($1, $2, $3, $4, $5, $6)', [
    e.tenantId,
    e.source,
    e.dedupKey,
    e.eventId,
    e.title,
    e.reason,
  ]);
}
