import { z } from 'zod';
import { IncidentStatusSchema } from './incident';
import { defined } from './must';
import { ActionItemPrioritySchema, ActionItemSchema, ActionItemStatusSchema, isOverdue } from './action-items';
import { EMPTY_NARRATIVE, NarrativeSchema, ParticipantSchema, PostmortemStatusSchema, RoleAssignmentSchema, participantsOf } from './postmortem';
import { describeEntry, isHuman, str } from './report-sentences';
import { PrioritySchema, SEVERITIES, SeveritySchema } from './severity';

/*
 * The post-incident report: what happened, what AIRE did on its own, what people did and when,
 * how long it took, and what is left to do. Built from the incident's stored record only (no I/O
 * here), so the same record always gives the same report.
 */

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
  /** The root cause people confirmed (PATCH /api/incidents/:id); the hypothesis stands in until then. */
  rootCause: z.string().nullable().default(null),
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
  priority: ActionItemPrioritySchema.default('medium'),
});

/** The written post-mortem (table postmortems); null until someone writes it or a review is scheduled. */
export const ReportPostmortemInputSchema = z.object({
  status: PostmortemStatusSchema,
  narrative: NarrativeSchema,
  reviewDueAt: Instant.nullable(),
  reviewRemindedAt: Instant.nullable(),
  publishedAt: Instant.nullable(),
  publishedBy: z.string().nullable(),
});

export const ReportInputSchema = z.object({
  incident: ReportIncidentSchema,
  steps: z.array(ReportStepSchema),
  approvals: z.array(ReportApprovalSchema),
  actionLog: z.array(ReportLogEntrySchema),
  actionItems: z.array(ReportActionItemInputSchema),
  postmortem: ReportPostmortemInputSchema.nullable().default(null),
  /** Who holds each incident role now (commander, assignee…), merged into the participants with those the audit trail names. */
  roleAssignments: z.array(RoleAssignmentSchema).default([]),
});
export type ReportInput = z.input<typeof ReportInputSchema>;
type Parsed = z.output<typeof ReportInputSchema>;

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
  'note',
  'edit',
  'assign_role',
  'status_update',
  'run_runbook',
  'postmortem',
  'action_item',
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

export const ReportActionItemSchema = ActionItemSchema.pick({ title: true, owner: true, dueDate: true, status: true, priority: true, overdue: true }).extend({
  id: z.string(),
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
  /** false while `rootCause` is only the automatic hypothesis. */
  rootCauseConfirmed: z.boolean(),
  runbook: z.object({ id: z.string(), version: z.number().nullable() }).nullable(),
  actionsTaken: z.array(ActionTakenSchema),
  postMortem: z.object({
    /** The written post-mortem's status: draft (also when nobody has written it yet), in_review, published. */
    status: PostmortemStatusSchema,
    publishedAt: z.string().nullable(),
    publishedBy: z.string().nullable(),
    /** What people wrote (PUT /api/incidents/:id/postmortem): empty lists until then. */
    narrative: NarrativeSchema,
    /** People who acted on the incident (from the audit trail) and the incident roles they held. */
    participants: z.array(ParticipantSchema),
    /** The review date (critical and high incidents, scheduled at resolution) and when the reminder went out. */
    review: z.object({ dueAt: z.string().nullable(), remindedAt: z.string().nullable() }),
    timeline: z.array(TimelineEntrySchema),
    automated: z.array(AutomatedStepSchema),
    humanActions: z.array(HumanActionSchema),
    /** Notes people marked `key` on the timeline (POST /api/incidents/:id/notes), in order. */
    keyNotes: z.array(z.object({ at: z.string(), actor: z.string(), text: z.string() })),
    /** What stakeholders were told (POST /api/incidents/:id/status-updates), in order. */
    statusUpdates: z.array(z.object({ at: z.string(), actor: z.string(), message: z.string(), audience: z.string(), eta: z.string().nullable() })),
    impact: ImpactSchema,
    actionItems: z.array(ReportActionItemSchema),
  }),
});
export type IncidentReport = z.infer<typeof IncidentReportSchema>;
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;
export type HumanAction = z.infer<typeof HumanActionSchema>;
export type Duration = z.infer<typeof DurationSchema>;

// ---- building ----

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
    'note.added': 'note',
    'incident.edited': 'edit',
    'role.assigned': 'assign_role',
    'role.unassigned': 'assign_role',
    'status_update.posted': 'status_update',
    'runbook.requested': 'run_runbook',
    'postmortem.saved': 'postmortem',
    'action_item.added': 'action_item',
    'action_item.changed': 'action_item',
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

/** Everyone the audit trail says was given a role (`role.assigned`), handovers included, in order. */
function rolesHeld(log: Parsed['actionLog']): { role: string; person: string }[] {
  return log.flatMap((e) => {
    const role = e.kind === 'role.assigned' ? str(e.detail.role) : undefined;
    const person = str(e.detail.person);
    return role && person ? [{ role, person }] : [];
  });
}

export function buildReport(input: ReportInput, now: Date): IncidentReport {
  const p: Parsed = ReportInputSchema.parse(input);
  const inc = p.incident;
  const pm = p.postmortem;
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
    rootCause: inc.rootCause ?? inc.rootCauseHypothesis,
    rootCauseConfirmed: inc.rootCause !== null,
    runbook: inc.runbookId ? { id: inc.runbookId, version: inc.runbookVersion } : null,
    actionsTaken,
    postMortem: {
      status: pm?.status ?? 'draft',
      publishedAt: pm?.publishedAt ?? null,
      publishedBy: pm?.publishedBy ?? null,
      narrative: pm?.narrative ?? EMPTY_NARRATIVE,
      participants: participantsOf(p.actionLog, [...rolesHeld(p.actionLog), ...p.roleAssignments], isHuman),
      review: { dueAt: pm?.reviewDueAt ?? null, remindedAt: pm?.reviewRemindedAt ?? null },
      timeline,
      automated,
      humanActions,
      keyNotes: p.actionLog
        .filter((e) => e.kind === 'note.added' && e.detail.key === true)
        .map((e) => ({ at: e.at, actor: e.actor, text: str(e.detail.text) ?? '' })),
      statusUpdates: p.actionLog
        .filter((e) => e.kind === 'status_update.posted')
        .map((e) => ({
          at: e.at,
          actor: e.actor,
          message: str(e.detail.message) ?? '',
          audience: str(e.detail.audience) ?? 'internal',
          eta: str(e.detail.eta) ?? null,
        })),
      impact,
      actionItems: p.actionItems.map((i) => ({ ...i, overdue: isOverdue(i, now) })),
    },
  };
  return IncidentReportSchema.parse(report);
}
