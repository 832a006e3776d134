/**
 * Every kind of entry the action log (the append-only audit trail) holds, in one typed list: the
 * workflow, the activities, the report's sentences (src/domain/report.ts) and the OpenAPI document
 * all use it, so a new kind cannot be written without a sentence for it. Schema-free: the incident
 * workflow imports its type.
 */
export const ACTION_KINDS = [
  // the incident
  'incident.opened',
  'incident.acknowledged',
  'incident.escalated',
  'incident.mitigated',
  'incident.resolved',
  'incident.closed',
  'incident.rolled_back',
  'incident.succeeded',
  'event.joined',
  'alert.resolved',
  'alert.flapping',
  'history.continued',
  // people's notes on the timeline
  'note.added',
  // incident command: edits, roles, stakeholder updates, runbooks people start
  'incident.edited',
  'role.assigned',
  'role.unassigned',
  'status_update.posted',
  'status_update.due',
  'runbook.requested',
  // the runbook
  'runbook.selected',
  'runbook.none',
  'breaker.opened',
  'remediation.started',
  'remediation.resumed',
  'remediation.rejected',
  'remediation.failed',
  // approval gates
  'approval.requested',
  'approval.recorded',
  'approval.granted',
  'approval.rejected',
  'approval.overdue',
  'approval.timed_out',
  'approval.ignored',
  'approval.refused',
  'approval.duplicate',
  // steps
  'step.started',
  'step.attempt_failed',
  'step.assigned',
  'step.succeeded',
  'step.failed',
  'step.skipped',
  'step.compensating',
  'step.compensated',
  'step.compensation_attempt_failed',
  'step.compensation_failed',
  'step.not_compensable',
  'manual.ignored',
  'decision.requested',
  'decision.retry',
  'decision.skip',
  'decision.abort',
  'decision.ignored',
  // compensation
  'rollback.requested',
  'rollback.ignored',
  'compensation.started',
  'compensation.finished',
  // people being told
  'sla.breached',
  'escalation',
  'incident.paged',
  'notification.sent',
  'notification.failed',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

const KNOWN: ReadonlySet<string> = new Set(ACTION_KINDS);

/** Rows written by other versions may hold kinds this one does not know: they still read. */
export function isActionKind(kind: string): kind is ActionKind {
  return KNOWN.has(kind);
}
