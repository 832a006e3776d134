import type { Trigger } from '../domain/runbook';
import { defined } from '../domain/must';
import type { TimelineView } from '../api/routes/timeline';
import type { ApiError, ApiKeyView, BreakerView, Control, DryRun, Incident, IncidentDetail, RunbookVersionView, RunbookView } from './api-client';

/** Output for people: aligned tables, key/value blocks, short times. Scripts use --json instead. */

export type Cell = string | number | boolean | null | undefined;

export interface Column {
  header: string;
  /** Longest a cell may be before it is cut with "…"; no limit when absent. */
  max?: number;
  align?: 'left' | 'right';
}

const ELLIPSIS = '…';

/** Length as a terminal shows it (code points, not UTF-16 units). */
function width(s: string): number {
  return [...s].length;
}

export function truncate(s: string, max: number): string {
  if (max <= 0 || width(s) <= max) return s;
  return [...s].slice(0, Math.max(0, max - 1)).join('') + ELLIPSIS;
}

function pad(s: string, to: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, to - width(s)));
  return align === 'right' ? fill + s : s + fill;
}

export function cell(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value).replace(/\s+/g, ' ');
}

/**
 * An aligned table, columns separated by two spaces, trailing blanks trimmed. Columns are given as
 * headers or as {header, max, align}.
 */
export function table(columns: (string | Column)[], rows: Cell[][]): string {
  const cols: Column[] = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  // Column by column: the header and each row's cell, padded to the column's width (the last column
  // is not padded unless right-aligned); then line by line.
  const padded = cols.map((col, i) => {
    const cells = [col.header, ...rows.map((row) => (col.max ? truncate(cell(row[i]), col.max) : cell(row[i])))];
    const to = i === cols.length - 1 && col.align !== 'right' ? 0 : Math.max(...cells.map(width));
    return cells.map((c) => pad(c, to, col.align ?? 'left'));
  });
  const line = (n: number): string =>
    padded
      .map((cells) => defined(cells[n], 'a table cell'))
      .join('  ')
      .trimEnd();
  return Array.from({ length: rows.length + 1 }, (_, n) => line(n)).join('\n');
}

/** `key   value` lines with the keys aligned; entries whose value is empty are left out. */
export function keyValues(entries: [string, Cell][], indent = '  '): string {
  const shown = entries.filter(([, v]) => v !== undefined && v !== null && v !== '');
  const keyWidth = Math.max(0, ...shown.map(([k]) => width(k)));
  return shown.map(([k, v]) => `${indent}${pad(k, keyWidth, 'left')}  ${String(v)}`).join('\n');
}

/** A bulleted list, or nothing when empty. */
export function bullets(items: string[], indent = '  '): string {
  return items.map((item) => `${indent}- ${item}`).join('\n');
}

/** `2024-05-01 12:34:56Z` from an ISO time; "-" when absent. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** Compact one-line JSON for small values (parameters, log details). */
export function compact(value: unknown, max = 0): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object' && Object.keys(value).length === 0) return '';
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return max > 0 ? truncate(s, max) : s;
}

/** A section heading followed by its body; nothing at all when the body is empty and `empty` is not given. */
export function section(title: string, body: string, empty?: string): string {
  if (body.trim() === '') return empty === undefined ? '' : `${title}\n  ${empty}`;
  return `${title}\n${body}`;
}

/** Joins blocks with one blank line, skipping empty ones. */
export function blocks(...parts: string[]): string {
  return parts.filter((p) => p.trim() !== '').join('\n\n');
}

/** Indents every line of `text`. */
export function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n');
}

/** `1m30s` from milliseconds. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

// ---- the API's resources, for people ----

export function incidentList(items: Incident[]): string {
  if (items.length === 0) return 'no incidents';
  return table(
    ['ID', 'CREATED', 'SEVERITY', 'STATUS', 'SOURCE', 'RUNBOOK', { header: 'TITLE', max: 70 }],
    items.map((i) => [i.id, time(i.createdAt), i.severity, i.status, i.source, i.runbookId ? `${i.runbookId} v${i.runbookVersion}` : '', i.title]),
  );
}

function list(values: string[] | undefined): string {
  return values && values.length > 0 ? values.join(', ') : '';
}

function labels(values: Record<string, string> | undefined): string {
  return values
    ? Object.entries(values)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : '';
}

/** Newer workflows also wait for a person doing a manual step, or for a decision on a failed step. */
interface LiveWaits {
  pendingManual?: { stepId: string; since: string } | null;
  pendingDecision?: { stepId: string; error: string; since: string } | null;
}

function impactText(impact: IncidentDetail['incident']['impact']): string | undefined {
  if (!impact) return undefined;
  const parts = [
    impact.usersAffected !== undefined ? `${impact.usersAffected} users` : '',
    impact.servicesDegraded?.length ? `degraded: ${impact.servicesDegraded.join(', ')}` : '',
    impact.dataExposure !== undefined ? `data exposure: ${impact.dataExposure ? 'yes' : 'no'}` : '',
  ].filter((p) => p !== '');
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function statusUpdateText(u: NonNullable<IncidentDetail['incident']['latestStatusUpdate']>): string {
  return `${u.message} (${u.audience}, ${time(u.at)} by ${u.actor}${u.eta ? `, ETA ${time(u.eta)}` : ''})`;
}

export function incidentDetail(view: IncidentDetail): string {
  const i = view.incident;
  const live = view.live;
  const status = live && live.status !== i.status ? `${i.status} (workflow: ${live.status})` : i.status;
  const summary = keyValues([
    ['status', live?.currentStep ? `${status}, current step ${live.currentStep}` : status],
    ['severity', i.severityReasons?.length ? `${i.severity} (${i.severityReasons.join('; ')})` : i.severity],
    ['source', `${i.source}, dedup key ${i.dedupKey}`],
    ['runbook', i.runbookId ? `${i.runbookId} v${i.runbookVersion}` : 'none selected'],
    ['category', i.category],
    ['services', list(i.affectedServices)],
    ['labels', labels(i.labels)],
    ['summary', i.summary],
    ['root cause', i.rootCause ?? undefined],
    ['hypothesis', i.rootCauseHypothesis],
    ['impact', impactText(i.impact)],
    ['commander', i.roles?.commander],
    ['assignees', i.roles?.assignees.length ? i.roles.assignees.join(', ') : undefined],
    ['comms lead', i.roles?.comms],
    ['scribe', i.roles?.scribe],
    ['last update', i.latestStatusUpdate ? statusUpdateText(i.latestStatusUpdate) : undefined],
    ['ack by', !i.acknowledgedAt && live?.ackBy ? time(live.ackBy) : undefined],
    ['declared', `${time(i.createdAt)} by ${i.declaredBy}`],
    ['occurrences', i.occurrences > 1 ? `${i.occurrences} (last ${time(i.lastSeenAt)})` : undefined],
    ['acknowledged', i.acknowledgedAt ? time(i.acknowledgedAt) : undefined],
    ['mitigated', i.mitigatedAt ? time(i.mitigatedAt) : undefined],
    ['resolved', i.resolvedAt ? time(i.resolvedAt) : undefined],
    ['closed', i.closedAt ? time(i.closedAt) : undefined],
    ['workflow', i.workflowId],
  ]);

  let pending = '';
  const p = live?.pendingApproval;
  if (p) {
    const what = p.stepId ? `step "${p.stepId}"` : 'the runbook gate (before any step runs)';
    const step = p.stepId ? ` --step ${p.stepId}` : '';
    pending = [
      `Waiting for approval: ${what}, since ${time(p.since)}`,
      bullets(p.reasons),
      `  approve: aire incident approve ${i.id}${step} --reason TEXT`,
      `  reject:  aire incident reject ${i.id}${step} --reason TEXT`,
    ]
      .filter((l) => l !== '')
      .join('\n');
  } else if (!live && i.status === 'awaiting_approval') {
    // The live state did not come in time; the step rows still say which step waits.
    const waiting = view.steps.find((s) => s.status === 'awaiting_approval');
    pending = `Waiting for approval: ${waiting ? `step "${waiting.stepId}"` : 'the runbook gate (before any step runs)'} (live state unavailable)`;
  }

  const waits = live as LiveWaits | null;
  const manual = waits?.pendingManual
    ? `Waiting for a person: manual step "${waits.pendingManual.stepId}", since ${time(waits.pendingManual.since)}\n  when done: POST /api/incidents/${i.id}/steps/${waits.pendingManual.stepId}/complete`
    : '';
  const decision = waits?.pendingDecision
    ? `Waiting for a decision: step "${waits.pendingDecision.stepId}" failed, since ${time(waits.pendingDecision.since)}\n  ${waits.pendingDecision.error}\n  retry, skip or abort: POST /api/incidents/${i.id}/steps/${waits.pendingDecision.stepId}/decision`
    : '';

  const steps = view.steps.length
    ? indent(
        table(
          ['#', 'STEP', { header: 'NAME', max: 40 }, 'ACTION', 'STATUS', { header: 'TRIES', align: 'right' }, 'FINISHED', { header: 'ERROR', max: 60 }],
          view.steps.map((s) => [s.position + 1, s.stepId, s.name, s.action, s.status, s.attempts, time(s.compensatedAt ?? s.finishedAt), s.error]),
        ),
      )
    : '';
  const approvals = view.approvals.length
    ? indent(
        table(
          ['AT', 'DECISION', 'STEP', 'BY', { header: 'REASON', max: 60 }],
          view.approvals.map((a) => [time(a.at), a.decision, a.stepId ?? '(runbook)', a.approver, a.reason]),
        ),
      )
    : '';
  const log = view.actionLog.length
    ? indent(
        table(
          ['AT', 'KIND', 'ACTOR', 'STEP', { header: 'DETAIL', max: 80 }],
          view.actionLog.map((e) => [time(e.at), e.kind, e.actor, e.stepId, compact(e.detail)]),
        ),
      )
    : '';

  return blocks(
    `Incident ${i.id}: ${i.title}\n${summary}`,
    pending,
    manual,
    decision,
    section('Steps', steps, 'none yet'),
    section('Approvals', approvals, 'none'),
    section('Action log', log, 'empty'),
  );
}

export function triggers(t: Trigger | undefined): string {
  if (!t) return '';
  const parts: string[] = [];
  if (t.sources) parts.push(`source ${t.sources.join('|')}`);
  if (t.minSeverity) parts.push(`severity >= ${t.minSeverity}`);
  if (t.titlePattern) parts.push(`title ~ /${t.titlePattern}/i`);
  if (t.categories) parts.push(`category ${t.categories.join('|')}`);
  if (t.labels) parts.push(`labels ${labels(t.labels)}`);
  return parts.join(', ');
}

export function runbookList(items: RunbookView[]): string {
  if (items.length === 0) return 'no runbooks';
  return table(
    [
      'ID',
      { header: 'VERSION', align: 'right' },
      'ENABLED',
      { header: 'STEPS', align: 'right' },
      { header: 'TRIGGERS', max: 50 },
      { header: 'NAME', max: 50 },
      'UPDATED',
    ],
    items.map((r) => [r.id, r.version, r.enabled ? 'yes' : 'no', r.steps.length, triggers(r.triggers) || 'any incident', r.name, time(r.createdAt)]),
  );
}

export function runbookDetail(r: RunbookView): string {
  const head = keyValues([
    ['version', r.createdAt ? `${r.version}, ${time(r.createdAt)} by ${r.createdBy}` : r.version],
    ['enabled', r.enabled ? 'yes' : 'no'],
    ['priority', r.priority],
    ['triggers', triggers(r.triggers) || 'any incident'],
    ['severities', r.severityScope ? r.severityScope.join(', ') : 'all'],
    ['approval', r.requiresApproval ? 'required before the first step' : 'per step (critical incidents always)'],
    ['completion', r.completion?.autoResolve ? 'resolve when the last step succeeds' : 'mitigated; a person resolves'],
    ['description', r.description],
  ]);
  const steps = indent(
    table(
      [
        '#',
        'STEP',
        { header: 'NAME', max: 40 },
        'ACTION',
        'RISK',
        { header: 'COST', align: 'right' },
        'APPROVAL',
        'ON FAILURE',
        'ON REJECT',
        'TIMEOUT',
        'TRIES',
      ],
      r.steps.map((s, n) => [
        n + 1,
        s.id,
        s.name,
        s.action,
        s.risk,
        s.estimatedCost,
        s.requiresApproval ? 'required' : '',
        s.onFailure,
        s.onReject,
        duration(s.timeout),
        s.retry?.maximumAttempts,
      ]),
    ),
  );
  const params = r.steps
    .filter((s) => Object.keys(s.params ?? {}).length > 0)
    .map((s) => `  ${s.id}: ${compact(s.params)}`)
    .join('\n');
  return blocks(`Runbook ${r.id}: ${r.name}\n${head}`, section('Steps', steps), section('Parameters', params));
}

export function runbookVersions(id: string, items: RunbookVersionView[]): string {
  return `Runbook ${id}\n${indent(
    table(
      [{ header: 'VERSION', align: 'right' }, 'CREATED', 'BY', { header: 'STEPS', align: 'right' }, { header: 'NAME', max: 60 }],
      items.map((v) => [v.version, time(v.createdAt), v.createdBy, v.definition.steps.length, v.definition.name]),
    ),
  )}`;
}

function gateText(gate: { required: boolean; mode: string }): string {
  return gate.required ? `${gate.mode}: waits for approval` : `${gate.mode}: runs without approval`;
}

export function dryRun(plan: DryRun, sample: { title?: unknown; severity?: unknown }): string {
  const head = `Runbook ${plan.runbook.id} v${plan.runbook.version} against "${String(sample.title ?? '')}" (${String(sample.severity ?? '')})`;
  const match = [`Match: ${plan.matched ? 'yes' : 'no'}`, bullets(plan.matchReasons)].filter((l) => l !== '').join('\n');
  const gate = [`Runbook gate: ${gateText(plan.gate)}`, bullets(plan.gate.reasons)].filter((l) => l !== '').join('\n');
  const steps = indent(
    table(
      ['#', 'STEP', 'ACTION', 'GATE', 'ON FAILURE', 'ON REJECT', 'TIMEOUT'],
      plan.steps.map((s, n) => [n + 1, s.id, s.action, s.gate.required ? 'approval' : 'auto', s.onFailure, s.onReject, duration(s.timeoutMs)]),
    ),
  );
  const details = plan.steps
    .map((s, n) => {
      const lines = [`  ${n + 1}. ${s.id}: ${s.name}`];
      if (s.gate.reasons.length > 0) lines.push(`     gate: ${s.gate.reasons.join('; ')}`);
      if (s.params !== undefined) lines.push(`     params: ${compact(s.params) || '{}'}`);
      if (s.compensation) lines.push(`     undo: ${s.compensation}`);
      if (s.error) lines.push(`     ERROR: ${s.error}`);
      return lines.join('\n');
    })
    .join('\n');
  const verdict = plan.wouldRun
    ? 'Would run: yes'
    : `Would run: no (${plan.matched ? 'some steps cannot be rendered for this incident' : 'the runbook does not match this incident'})`;
  return blocks(head, match, gate, section('Steps', steps), section('Rendered steps', details), verdict);
}

export function controlList(items: Control[]): string {
  if (items.length === 0) return 'no controls in force';
  return table(
    ['KIND', 'KEY', 'SINCE', 'INCIDENT', { header: 'REASON', max: 70 }],
    items.map((c) => [c.kind, c.key, time(c.since), c.incidentId, c.reason]),
  );
}

/** What the API said when it refused: status and title, detail, then each failing field. */
export function keyList(items: ApiKeyView[]): string {
  if (items.length === 0) return 'no API keys';
  return table(
    ['ID', 'NAME', 'PREFIX', 'ROLES', 'CREATED', 'REVOKED'],
    items.map((k) => [k.id, k.name, k.prefix ?? '', (k.roles ?? []).join(','), time(k.createdAt), k.revokedAt ? time(k.revokedAt) : '']),
  );
}

export function breakerList(items: BreakerView[]): string {
  if (items.length === 0) return 'no open circuit breakers';
  return table(
    ['SERVICE', 'RUNBOOK', 'OPENED', 'RESET', 'REASON'],
    items.map((b) => [b.target, b.runbookId, time(b.openedAt), b.resetAt ? `${time(b.resetAt)} by ${b.resetBy ?? '?'}` : '', truncate(b.reason, 80)]),
  );
}

export function problem(err: ApiError): string {
  const p = err.problem;
  const lines = [`${err.status >= 500 ? 'the API is unavailable' : 'the API refused the request'} (${err.request}): ${err.status} ${p?.title ?? ''}`.trimEnd()];
  if (p?.detail) lines.push(`  ${p.detail}`);
  for (const e of p?.errors ?? []) lines.push(`  ${e.path}: ${e.message}`);
  if (!p && err.text.trim() !== '') lines.push(`  ${truncate(err.text.trim().replace(/\s+/g, ' '), 300)}`);
  if (err.status === 401) lines.push('  (set AIRE_API_KEY or pass --api-key)');
  return lines.join('\n');
}

/** An incident's timeline: one line per entry, oldest first; people's entries marked with their name. */
export function timelineLines(items: TimelineView['items']): string {
  if (items.length === 0) return 'nothing recorded yet';
  return table(
    [{ header: 'time' }, { header: 'who', max: 24 }, { header: 'what' }],
    items.map((t) => [time(t.at), t.automated ? 'aire' : t.actor, t.text]),
  );
}
