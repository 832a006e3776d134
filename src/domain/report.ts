import { isActionKind } from './action-kinds';
import { z } from 'zod';
import { IncidentStatusSchema } from './incident';
import { defined } from './must';
import { PrioritySchema, SEVERITIES, SeveritySchema } from './severity';

/*
 * The post-incident report: what happened, what AIRE did on its own, what people did and when,
 * how long it took, and what is left to do. Built from the incident's stored record only (no I/O
 * here), so the same record always gives the same report.
 */

// ---- action items (tracked follow-up work, table action_items) ----

export const ACTION_ITEM_STATUSES = ['open', 'in_progress', 'done'] as const;
export const ActionItemStatusSchema = z.enum(ACTION_ITEM_STATUSES);
export type ActionItemStatus = z.infer<typeof ActionItemStatusSchema>;

/** An action item as the API answers it. */
export const ActionItemSchema = z.object({
  id: z.uuid(),
  incidentId: z.uuid(),
  title: z.string(),
  owner: z.string().nullable(),
  /** A calendar date, YYYY-MM-DD. */
  dueDate: z.string().nullable(),
  status: ActionItemStatusSchema,
  /** Not done and due before today (UTC). */
  overdue: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
});
export type ActionItem = z.infer<typeof ActionItemSchema>;

/** An item of the tenant-wide list (GET /api/action-items), with the incident it belongs to. */
export const ListedActionItemSchema = ActionItemSchema.extend({
  incident: z.object({ title: z.string(), severity: SeveritySchema, status: IncidentStatusSchema }),
});
export type ListedActionItem = z.infer<typeof ListedActionItemSchema>;

/** The UTC calendar date of `now`, YYYY-MM-DD: the day against which due dates are compared. */
export const utcDate = (now: Date): string => now.toISOString().slice(0, 10);

export function isOverdue(item: { status: ActionItemStatus; dueDate: string | null }, now: Date): boolean {
  return item.status !== 'done' && item.dueDate !== null && item.dueDate < utcDate(now);
}

// ---- input: the stored record, as the database returns it ----

/** PostgreSQL gives Date objects, tests give strings: both become ISO strings. */
const Instant = z.union([z.date(), z.iso.datetime({ offset: true })]).transform((v) => new Date(v).toISOString());

export const ReportIncidentSchema = z.object({
  id: z.string(),
  title: z.string(),
  summary: z.string().nullable(),
  source: z.string(),
  severity: SeveritySchema,
  category: z.string().nullable(),
  status: IncidentStatusSchema,
  rootCauseHypothesis: z.string().nullable(),
  affectedServices: z.array(z.string()),
  runbookId: z.string().nullable(),
  runbookVersion: z.number().nullable(),
  declaredBy: z.string(),
  occurrences: z.number(),
  createdAt: Instant,
  acknowledgedAt: Instant.nullable(),
  mitigatedAt: Instant.nullable(),
  resolvedAt: Instant.nullable(),
  closedAt: Instant.nullable(),
});

export const ReportStepSchema = z.object({
  stepId: z.string(),
  position: z.number(),
  name: z.string(),
  action: z.string(),
  status: z.string(),
  error: z.string().nullable().default(null),
  attempts: z.number().default(0),
  startedAt: Instant.nullable().default(null),
  finishedAt: Instant.nullable().default(null),
  compensatedAt: Instant.nullable().default(null),
});

export const ReportApprovalSchema = z.object({
  stepId: z.string().nullable(),
  decision: z.enum(['approve', 'reject']),
  approver: z.string(),
  reason: z.string().nullable(),
  at: Instant,
});

export const ReportLogEntrySchema = z.object({
  at: Instant,
  kind: z.string(),
  actor: z.string(),
  stepId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).default({}),
});

export const ReportActionItemInputSchema = z.object({
  id: z.string(),
  title: z.string(),
  owner: z.string().nullable(),
  dueDate: z.string().nullable(),
  status: ActionItemStatusSchema,
});

export const ReportInputSchema = z.object({
  incident: ReportIncidentSchema,
  steps: z.array(ReportStepSchema),
  approvals: z.array(ReportApprovalSchema),
  actionLog: z.array(ReportLogEntrySchema),
  actionItems: z.array(ReportActionItemInputSchema),
});
export type ReportInput = z.input<typeof ReportInputSchema>;
type Parsed = z.output<typeof ReportInputSchema>;
type LogEntry = z.output<typeof ReportLogEntrySchema>;
type Step = z.output<typeof ReportStepSchema>;

// ---- output ----

const DurationSchema = z.object({
  /** Whole seconds. */
  seconds: z.number().int().min(0),
  /** The same, for people: "4m 12s", "2h 5m", "under a second". */
  human: z.string(),
});

export const TimelineEntrySchema = z.object({
  at: z.string(),
  actor: z.string(),
  /** true when AIRE did it; false for a person (an API key, `key:<name>`). */
  automated: z.boolean(),
  kind: z.string(),
  stepId: z.string().nullable(),
  /** One human-readable line. */
  text: z.string(),
});

/** One entry of the incident record schema's `actionsTaken`. */
export const ActionTakenSchema = z.object({
  timestamp: z.string(),
  action: z.string(),
  automated: z.boolean(),
  actor: z.string(),
  kind: z.string(),
  stepId: z.string().nullable(),
});

export const AutomatedStepSchema = z.object({
  stepId: z.string(),
  name: z.string(),
  action: z.string(),
  status: z.string(),
  attempts: z.number(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  compensatedAt: z.string().nullable(),
  /** From start to finish, when both are known. */
  duration: DurationSchema.nullable(),
  error: z.string().nullable(),
  /** Approved by a person before it ran (`key:<name>`), or null when it ran on autopilot. */
  approvedBy: z.string().nullable(),
});

export const HUMAN_ACTIONS = [
  'declare',
  'approve',
  'reject',
  'acknowledge',
  'resolve',
  'close',
  'rollback',
  'complete_step',
  'retry_step',
  'skip_step',
  'abort_step',
  'other',
] as const;

export const HumanActionSchema = z.object({
  at: z.string(),
  actor: z.string(),
  action: z.enum(HUMAN_ACTIONS),
  kind: z.string(),
  stepId: z.string().nullable(),
  reason: z.string().nullable(),
  text: z.string(),
});

export const ImpactSchema = z.object({
  detectedAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  mitigatedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  /** From detection; null while the incident has not reached that point. */
  timeToAcknowledge: DurationSchema.nullable(),
  timeToMitigate: DurationSchema.nullable(),
  timeToResolve: DurationSchema.nullable(),
  timeToClose: DurationSchema.nullable(),
  /** Events that joined this incident (the first one included). */
  occurrences: z.number(),
});

export const ReportActionItemSchema = z.object({
  id: z.string(),
  title: z.string(),
  owner: z.string().nullable(),
  dueDate: z.string().nullable(),
  status: ActionItemStatusSchema,
  overdue: z.boolean(),
});

/**
 * The incident record for post-incident review: the fields of the source documents' incident
 * record schema (incidentId, severity, type, detectedAt, resolvedAt, status, affectedServices,
 * rootCause, actionsTaken, postMortem) with AIRE's own values (severity critical…info with its
 * priority P0–P4, AIRE's statuses) and the post-mortem structured rather than flattened to text.
 */
export const IncidentReportSchema = z.object({
  incidentId: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  severity: SeveritySchema,
  priority: PrioritySchema,
  /** The incident's category; its source when it has none. */
  type: z.string(),
  source: z.string(),
  status: IncidentStatusSchema,
  /** true once the incident is closed; before that the report is a draft that can still change. */
  final: z.boolean(),
  generatedAt: z.string(),
  detectedAt: z.string(),
  resolvedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  affectedServices: z.array(z.string()),
  rootCause: z.string().nullable(),
  runbook: z.object({ id: z.string(), version: z.number().nullable() }).nullable(),
  actionsTaken: z.array(ActionTakenSchema),
  postMortem: z.object({
    timeline: z.array(TimelineEntrySchema),
    automated: z.array(AutomatedStepSchema),
    humanActions: z.array(HumanActionSchema),
    impact: ImpactSchema,
    actionItems: z.array(ReportActionItemSchema),
  }),
});
export type IncidentReport = z.infer<typeof IncidentReportSchema>;
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;
export type HumanAction = z.infer<typeof HumanActionSchema>;
export type Duration = z.infer<typeof DurationSchema>;

// ---- building ----

/** A person acts through an API key; everything else (`aire`) is the engine. */
export const isHuman = (actor: string): boolean => actor.startsWith('key:');

/** "4m 12s", "2h", "3d 1h": the largest unit and the next one, leaving out a zero. */
export function humanDuration(seconds: number): string {
  if (seconds < 1) return 'under a second';
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  let rest = Math.floor(seconds);
  const counts = units.map(([unit, size]) => {
    const n = Math.floor(rest / size);
    rest -= n * size;
    return { unit, n };
  });
  const first = counts.findIndex((c) => c.n > 0);
  return counts
    .slice(first, first + 2)
    .filter((c) => c.n > 0)
    .map((c) => `${c.n}${c.unit}`)
    .join(' ');
}

export function durationBetween(from: string | null, to: string | null): Duration | null {
  if (!from || !to) return null;
  const seconds = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  return { seconds, human: humanDuration(seconds) };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const because = (reason: unknown): string => (str(reason) ? `: ${str(reason)}` : '');

/** A step as people know it: its name, with its id when they differ. */
function stepLabel(stepId: string | null, steps: Map<string, Step>): string {
  if (!stepId) return 'the runbook';
  const step = steps.get(stepId);
  return step && step.name !== stepId ? `step "${step.name}" (${stepId})` : `step ${stepId}`;
}

/**
 * One action-log entry as a sentence. Every kind AIRE writes has its own (the switch is checked
 * against ACTION_KINDS at compile time); a kind from another version still reads sensibly.
 */
export function describeEntry(e: LogEntry, steps: Map<string, Step>): string {
  const d = e.detail;
  const step = stepLabel(e.stepId, steps);
  const gate = e.stepId ? step : 'the runbook gate';
  const who = e.actor;
  const kind = e.kind;
  if (!isActionKind(kind)) return `${kind}${e.stepId ? ` (${step})` : ''} by ${who}`;
  switch (kind) {
    case 'incident.opened':
      return `Incident opened by ${who} (severity ${str(d.severity) ?? '?'}, source ${str(d.source) ?? '?'})`;
    case 'runbook.selected':
      return `Runbook ${str(d.runbookId) ?? '?'}${num(d.version) !== undefined ? ` v${num(d.version)}` : ''} selected`;
    case 'runbook.none':
      return 'No runbook matched: people handle the incident';
    case 'event.joined':
      return `A duplicate event joined the incident${str(d.summary) ? ` (${str(d.summary)})` : ''}`;
    case 'incident.succeeded':
      return `An event for the same dedup key arrived after the close and opened incident ${str(d.nextIncidentId) ?? '?'}`;
    case 'approval.requested': {
      const reasons = Array.isArray(d.reasons) ? d.reasons.filter((r): r is string => typeof r === 'string') : [];
      return `Approval requested for ${gate}${reasons.length ? `: ${reasons.join('; ')}` : ''}`;
    }
    case 'approval.granted':
      return `${who} approved ${gate}${because(d.reason)}`;
    case 'approval.rejected':
      return `${who} rejected ${gate}${because(d.reason)}`;
    case 'approval.ignored':
      return `${who}'s ${str(d.decision) ?? 'decision'} was ignored${because(d.why)}`;
    case 'approval.recorded':
      return `${who} approved ${gate} (${num(d.approvals) ?? '?'} of ${num(d.required) ?? '?'} approvals)${because(d.reason)}`;
    case 'approval.refused':
      return `${who}'s approval of ${gate} was refused${because(d.why)}`;
    case 'approval.duplicate':
      return `${who} approved ${gate} again: an approver counts once`;
    case 'approval.overdue':
      return `Approval for ${gate} is overdue${num(d.waitedMs) !== undefined ? ` after ${duration(num(d.waitedMs) ?? 0)}` : ''}: escalating`;
    case 'approval.timed_out':
      return `No approval for ${gate} in time${str(d.policy) ? `: the runbook says ${str(d.policy)}` : ''}`;
    case 'escalation': {
      const channels = Array.isArray(d.channels) ? d.channels.filter((c): c is string => typeof c === 'string') : [];
      return `Escalated to tier ${num(d.tier) ?? '?'}${channels.length ? ` (${channels.join(', ')})` : ''}${because(d.reason)}`;
    }
    case 'sla.breached':
      return `Not acknowledged within ${num(d.withinMs) !== undefined ? duration(num(d.withinMs) ?? 0) : 'its SLA'}${str(d.severity) ? ` (the ${str(d.severity)} response SLA)` : ''}`;
    case 'notification.sent':
      return `Notified ${str(d.channel) ?? 'a channel'}${str(d.event) ? ` (${str(d.event)})` : ''}`;
    case 'notification.failed':
      return `Notifying ${str(d.channel) ?? 'a channel'}${str(d.event) ? ` (${str(d.event)})` : ''} failed${because(d.error)}`;
    case 'alert.resolved':
      return `The alert resolved${d.resolvesIncident === true ? ': the runbook resolves the incident with it' : ''}`;
    case 'alert.flapping':
      return 'The alert fired again within the flap window: the incident stays open';
    case 'history.continued':
      return `The workflow continued in a fresh history${num(d.historyLength) !== undefined ? ` after ${num(d.historyLength)} events` : ''}`;
    case 'breaker.opened':
      return `Circuit breaker opened for runbook ${str(d.runbookId) ?? '?'} on ${str(d.target) ?? '?'}${because(d.reason)}: automatic remediation waits for a person`;
    case 'remediation.started':
      return `Remediation started${str(d.runbookId) ? ` with runbook ${str(d.runbookId)}` : ''}${str(d.gate) ? ` (${str(d.gate)})` : ''}`;
    case 'remediation.resumed':
      return `Remediation resumed${e.stepId ? ` at ${step}` : ''}${isHuman(who) ? ` by ${who}` : ''}`;
    case 'remediation.rejected':
      return `Remediation not run${because(d.reason)}`;
    case 'remediation.failed':
      return `Remediation failed${because(d.reason)}`;
    case 'step.started':
      return `${cap(step)} started (${str(d.action) ?? 'action'}${(num(d.attempt) ?? 1) > 1 ? `, attempt ${num(d.attempt)}` : ''})`;
    case 'step.attempt_failed':
      return `${cap(step)} attempt ${num(d.attempt) ?? '?'} failed${because(d.error)}`;
    case 'step.assigned':
      return `${cap(step)} handed to a person`;
    case 'step.succeeded':
      return isHuman(who) ? `${who} completed ${step}${because(d.note)}` : `${cap(step)} succeeded`;
    case 'step.failed':
      return `${cap(step)} failed${because(d.error)}`;
    case 'step.skipped':
      return `${cap(step)} skipped${because(d.reason)}`;
    case 'step.compensating':
      return `Undoing ${step}`;
    case 'step.compensated':
      return `${cap(step)} undone`;
    case 'step.compensation_attempt_failed':
      return `Undoing ${step} failed (attempt ${num(d.attempt) ?? '?'})${because(d.error)}`;
    case 'step.compensation_failed':
      return `${cap(step)} could not be undone${because(d.error)}`;
    case 'step.not_compensable':
      return `${cap(step)} cannot be undone${because(d.reason)}`;
    case 'compensation.started':
      return `Compensation started${because(d.reason)}`;
    case 'compensation.finished':
      return `Compensation finished: ${num(d.compensated) ?? 0} undone, ${num(d.failed) ?? 0} failed`;
    case 'decision.requested':
      return `${cap(step)} failed and waits for a person to retry, skip or abort${because(d.error)}`;
    case 'decision.retry':
    case 'decision.skip':
    case 'decision.abort':
      return `${who} chose to ${e.kind.slice('decision.'.length)} ${step}${because(d.reason)}`;
    case 'decision.ignored':
    case 'manual.ignored':
      return `${who}'s report on ${step} was ignored${because(d.why)}`;
    case 'rollback.requested':
      return `${who} asked for a rollback${because(d.reason)}`;
    case 'rollback.ignored':
      return `${who}'s rollback was ignored${because(d.why)}`;
    case 'incident.acknowledged':
      return `${who} acknowledged the incident${because(d.reason)}`;
    case 'incident.mitigated':
      return 'Incident mitigated: every step of the runbook is done';
    case 'incident.resolved':
      return `${isHuman(who) ? `${who} resolved the incident` : 'Incident resolved'}${because(d.reason)}`;
    case 'incident.closed':
      return `${who} closed the incident${because(d.reason)}`;
    case 'incident.rolled_back':
      return `Incident rolled back${isHuman(who) ? ` at ${who}'s request` : ''}${because(d.reason)}`;
    case 'incident.escalated':
      return `Severity raised from ${str(d.from) ?? '?'} to ${str(d.to) ?? '?'}${e.stepId ? ` by ${step}` : ''}`;
    default:
      return unreachable(kind);
  }
}

/** A kind without a case above does not compile: `kind` is not `never` then. */
function unreachable(kind: never): string {
  return String(kind);
}

/** 90000 → "1.5 min"; for sentences, not for machines. */
function duration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 6_000) / 10} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** What a person's log entry did, or null when it changed nothing (an ignored message). */
function humanAction(kind: string): HumanAction['action'] | null {
  const map: Record<string, HumanAction['action']> = {
    'incident.opened': 'declare',
    'approval.granted': 'approve',
    'approval.rejected': 'reject',
    'incident.acknowledged': 'acknowledge',
    'incident.resolved': 'resolve',
    'incident.closed': 'close',
    'rollback.requested': 'rollback',
    'step.succeeded': 'complete_step',
    'decision.retry': 'retry_step',
    'decision.skip': 'skip_step',
    'decision.abort': 'abort_step',
  };
  if (kind.endsWith('.ignored')) return null;
  // A person's rollback shows as rollback.requested; the later rolled_back entry is its effect.
  if (kind === 'incident.rolled_back' || kind === 'remediation.resumed' || kind.startsWith('compensation.')) return null;
  return map[kind] ?? 'other';
}

/** The entries that changed something (not requests, attempts or ignored messages): the record's actionsTaken. */
const TAKEN = new Set([
  'incident.opened',
  'runbook.selected',
  'approval.granted',
  'approval.rejected',
  'step.succeeded',
  'step.failed',
  'step.skipped',
  'step.compensated',
  'step.compensation_failed',
  'decision.retry',
  'decision.skip',
  'decision.abort',
  'rollback.requested',
  'incident.acknowledged',
  'incident.mitigated',
  'incident.resolved',
  'incident.closed',
  'incident.rolled_back',
  'incident.escalated',
  'remediation.failed',
]);

export function buildReport(input: ReportInput, now: Date): IncidentReport {
  const p: Parsed = ReportInputSchema.parse(input);
  const inc = p.incident;
  const steps = new Map(p.steps.map((s) => [s.stepId, s]));

  const timeline: TimelineEntry[] = p.actionLog.map((e) => ({
    at: e.at,
    actor: e.actor,
    automated: !isHuman(e.actor),
    kind: e.kind,
    stepId: e.stepId,
    text: describeEntry(e, steps),
  }));

  const actionsTaken = timeline
    .filter((t) => TAKEN.has(t.kind))
    .map((t) => ({ timestamp: t.at, action: t.text, automated: t.automated, actor: t.actor, kind: t.kind, stepId: t.stepId }));

  const humanActions: HumanAction[] = [];
  for (const e of p.actionLog) {
    if (!isHuman(e.actor)) continue;
    const action = humanAction(e.kind);
    if (!action) continue;
    const reason = str(e.detail.reason) ?? str(e.detail.note) ?? null;
    humanActions.push({ at: e.at, actor: e.actor, action, kind: e.kind, stepId: e.stepId, reason, text: describeEntry(e, steps) });
  }

  const approvedBy = new Map<string, string>();
  for (const a of p.approvals) if (a.stepId && a.decision === 'approve') approvedBy.set(a.stepId, a.approver);
  // A runbook-gate approval covers every step after it.
  const runbookApprover = p.approvals.find((a) => a.stepId === null && a.decision === 'approve')?.approver ?? null;

  const automated = p.steps
    .filter((s) => s.action !== 'manual' && s.startedAt !== null)
    .map((s) => ({
      stepId: s.stepId,
      name: s.name,
      action: s.action,
      status: s.status,
      attempts: s.attempts,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      compensatedAt: s.compensatedAt,
      duration: durationBetween(s.startedAt, s.finishedAt),
      error: s.error,
      approvedBy: approvedBy.get(s.stepId) ?? runbookApprover,
    }));

  const detectedAt = inc.createdAt;
  const impact = {
    detectedAt,
    acknowledgedAt: inc.acknowledgedAt,
    mitigatedAt: inc.mitigatedAt,
    resolvedAt: inc.resolvedAt,
    closedAt: inc.closedAt,
    timeToAcknowledge: durationBetween(detectedAt, inc.acknowledgedAt),
    timeToMitigate: durationBetween(detectedAt, inc.mitigatedAt),
    timeToResolve: durationBetween(detectedAt, inc.resolvedAt),
    timeToClose: durationBetween(detectedAt, inc.closedAt),
    occurrences: inc.occurrences,
  };

  const report: IncidentReport = {
    incidentId: inc.id,
    title: inc.title,
    description: inc.summary,
    severity: inc.severity,
    priority: defined(PrioritySchema.options[SEVERITIES.indexOf(inc.severity)], `the priority of severity ${inc.severity}`),
    type: inc.category ?? inc.source,
    source: inc.source,
    status: inc.status,
    final: inc.status === 'closed',
    generatedAt: now.toISOString(),
    detectedAt,
    resolvedAt: inc.resolvedAt,
    closedAt: inc.closedAt,
    affectedServices: inc.affectedServices,
    rootCause: inc.rootCauseHypothesis,
    runbook: inc.runbookId ? { id: inc.runbookId, version: inc.runbookVersion } : null,
    actionsTaken,
    postMortem: {
      timeline,
      automated,
      humanActions,
      impact,
      actionItems: p.actionItems.map((i) => ({ ...i, overdue: isOverdue(i, now) })),
    },
  };
  return IncidentReportSchema.parse(report);
}

// ---- Markdown ----

/** One line of text, safe inside a Markdown table cell. */
function cell(s: string): string {
  return s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** One line of text, for headings and list items. */
function line(s: string): string {
  return s.replace(/\r?\n/g, ' ');
}

const when = (iso: string | null): string =>
  iso
    ? iso
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z')
        .replace(/Z$/, ' UTC')
    : '—';
const took = (d: Duration | null): string => (d ? `${d.human} (${d.seconds} s)` : '—');

export function reportMarkdown(r: IncidentReport): string {
  const out: string[] = [];
  const pm = r.postMortem;
  out.push(`# Post-incident report: ${line(r.title)}`, '');
  if (!r.final) out.push(`> **Draft**: the incident is ${r.status}; this report changes until the incident is closed.`, '');
  out.push(
    '| | |',
    '|---|---|',
    `| Incident | \`${r.incidentId}\` |`,
    `| Severity | ${r.severity} (${r.priority}) |`,
    `| Type | ${cell(r.type)} |`,
    `| Source | ${cell(r.source)} |`,
    `| Status | ${r.status}${r.final ? ' (final)' : ' (draft)'} |`,
    `| Detected | ${when(r.detectedAt)} |`,
    `| Resolved | ${when(r.resolvedAt)} |`,
    `| Closed | ${when(r.closedAt)} |`,
    `| Affected services | ${r.affectedServices.length ? cell(r.affectedServices.join(', ')) : '—'} |`,
    `| Runbook | ${r.runbook ? cell(`${r.runbook.id}${r.runbook.version !== null ? ` v${r.runbook.version}` : ''}`) : 'none'} |`,
    '',
  );
  if (r.description) out.push('## Summary', '', r.description, '');

  out.push('## Root cause', '', r.rootCause ?? '_Not recorded yet._', '');

  out.push(
    '## Impact',
    '',
    '| measure | value |',
    '|---|---|',
    `| Time to acknowledge | ${took(pm.impact.timeToAcknowledge)} |`,
    `| Time to mitigate | ${took(pm.impact.timeToMitigate)} |`,
    `| Time to resolve | ${took(pm.impact.timeToResolve)} |`,
    `| Time to close | ${took(pm.impact.timeToClose)} |`,
    `| Occurrences | ${pm.impact.occurrences} |`,
    '',
  );

  out.push('## Timeline', '');
  if (pm.timeline.length === 0) out.push('_Nothing recorded yet._');
  for (const t of pm.timeline) out.push(`- ${when(t.at)} — ${line(t.text)}`);
  out.push('');

  out.push('## What was automated', '');
  if (pm.automated.length === 0) out.push('_No step ran automatically._');
  else {
    out.push('| step | action | status | attempts | took | approved by |', '|---|---|---|---|---|---|');
    for (const s of pm.automated) {
      const status = s.error && s.status !== 'succeeded' ? `${s.status}: ${s.error}` : s.status;
      out.push(
        `| ${cell(`${s.name} (${s.stepId})`)} | ${cell(s.action)} | ${cell(status)} | ${s.attempts} | ${s.duration ? s.duration.human : '—'} | ${s.approvedBy ? cell(s.approvedBy) : 'autopilot'} |`,
      );
    }
  }
  out.push('');

  out.push('## What people did', '');
  if (pm.humanActions.length === 0) out.push('_No one acted on this incident._');
  for (const h of pm.humanActions) out.push(`- ${when(h.at)} — ${line(h.text)}`);
  out.push('');

  out.push('## Action items', '');
  if (pm.actionItems.length === 0) out.push('_None yet._');
  else {
    out.push('| item | owner | due | status |', '|---|---|---|---|');
    for (const i of pm.actionItems) {
      out.push(`| ${cell(i.title)} | ${i.owner ? cell(i.owner) : 'unassigned'} | ${i.dueDate ?? '—'}${i.overdue ? ' **overdue**' : ''} | ${i.status} |`);
    }
  }
  out.push('', `_Generated ${when(r.generatedAt)} by AIRE from the incident's audit trail._`, '');
  return out.join('\n');
}
