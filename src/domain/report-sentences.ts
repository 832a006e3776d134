import { isActionKind } from './action-kinds';
import type { ReportLogEntrySchema, ReportStepSchema } from './report';
import type { z } from 'zod';

/*
 * The action log read as sentences, for the report's timeline and people's actions: every kind
 * AIRE writes has its own (src/domain/action-kinds.ts; the switch is checked at compile time).
 */

type LogEntry = z.output<typeof ReportLogEntrySchema>;
type Step = z.output<typeof ReportStepSchema>;

/** A person acts through an API key; everything else (`aire`) is the engine. */
export const isHuman = (actor: string): boolean => actor.startsWith('key:');

/** A non-empty string, or undefined: detail fields are free-form JSON. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const because = (reason: unknown): string => (str(reason) ? `: ${str(reason)}` : '');

/** `severity critical → medium, title "a" → "b"`: what an edit changed. */
function changeList(changes: unknown): string {
  if (typeof changes !== 'object' || changes === null) return 'the incident';
  const show = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : v === null || v === undefined ? 'nothing' : JSON.stringify(v));
  const parts = Object.entries(changes as Record<string, { from?: unknown; to?: unknown }>).map(([field, c]) => `${field} ${show(c?.from)} → ${show(c?.to)}`);
  return parts.length > 0 ? parts.join(', ') : 'the incident';
}

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
    case 'note.added':
      return `${who}${d.key === true ? ' (key note)' : ''}: ${str(d.text) ?? ''}`;
    case 'incident.edited':
      return `${who} changed ${changeList(d.changes)}${because(d.reason)}`;
    case 'role.assigned':
      return `${str(d.person) ?? 'someone'} is now ${str(d.role) ?? 'on the incident'}${str(d.from) ? ` (was ${str(d.from)})` : ''}${isHuman(who) ? `, by ${who}` : ''}${because(d.reason)}`;
    case 'role.unassigned':
      return `${str(d.person) ?? 'someone'} is no longer ${str(d.role) ?? 'on the incident'}${isHuman(who) ? `, by ${who}` : ''}`;
    case 'status_update.posted':
      return `${who} posted a${str(d.audience) === 'external' ? 'n external' : 'n internal'} status update: ${str(d.message) ?? ''}${str(d.eta) ? ` (ETA ${str(d.eta)})` : ''}`;
    case 'status_update.due':
      return `No status update for ${num(d.everyMs) !== undefined ? duration(num(d.everyMs) ?? 0) : 'a while'}: ${str(d.commander) ?? 'the commander'} reminded`;
    case 'runbook.requested':
      return `${who} asked to run runbook ${str(d.runbookId) ?? '?'}${num(d.version) !== undefined ? ` v${num(d.version)}` : ''}`;
    case 'incident.paged':
      return `Paged ${str(d.channel) ?? 'the on-call channel'}${num(d.page) !== undefined && (num(d.page) ?? 1) > 1 ? ` again (page ${num(d.page)})` : ''}${because(d.reason)}`;
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
