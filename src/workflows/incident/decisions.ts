/**
 * What people decide: approve, reject, roll back, report a manual step, decide a failed step. Each
 * has one refusal (why it cannot apply now, from the workflow's own state) and one way to apply it,
 * shared by the Update that answers its caller and the signal that cannot (src/workflows/incident/messages.ts).
 */
import type { ActionKind } from '../../domain/action-kinds';
import { approvalRefusal } from '../../domain/gates';
import type { Decision, ManualCompletion, Note, StepDecision } from '../../domain/signals';
import { type MessageOutcome, REFUSED_CONFLICT, REFUSED_FORBIDDEN, type RefusalType } from '../definitions';
import * as wf from '@temporalio/workflow';
import { commanderOnAcknowledge } from './command';
import { INCIDENT_COMMAND_PATCH, refusalFailure } from './options';
import type { Extra } from './recorder';
import type { IncidentRun } from './run';

/**
 * Why a message cannot apply now. An update's validator answers it to the caller (409 or 403); a
 * signal, which cannot be answered, records it in the audit trail under `audit`.
 */
export interface Refusal {
  refusal: RefusalType;
  why: string;
  /** What a refused signal records; none: it is dropped, as a message to a closed incident changes nothing. */
  audit?: { kind: ActionKind; extra: Extra };
}

const gateName = (stepId: string | null): string => (stepId ? `step "${stepId}"` : 'the runbook gate');

export function decisionRefusal(run: IncidentRun, kind: 'approve' | 'reject', by: Decision): Refusal | undefined {
  const pending = run.state.pendingApproval;
  if (!pending || run.decision || (by.stepId !== undefined && by.stepId !== pending.stepId)) {
    const why = !pending
      ? 'nothing is waiting for approval'
      : run.decision
        ? `${gateName(pending.stepId)} is already decided`
        : `the pending gate is ${gateName(pending.stepId)}`;
    return {
      refusal: REFUSED_CONFLICT,
      why,
      audit: { kind: 'approval.ignored', extra: { stepId: by.stepId, detail: { decision: kind, reason: by.reason, why } } },
    };
  }
  if (kind === 'reject') return undefined;
  const gate = pending.stepId ?? undefined;
  // Four-eyes: whoever declared a critical incident may not approve its remediation.
  const fourEyes = approvalRefusal(run.state.severity, run.input.declaredBy, by.actor);
  if (fourEyes) return { refusal: REFUSED_FORBIDDEN, why: fourEyes, audit: { kind: 'approval.refused', extra: { stepId: gate, detail: { why: fourEyes } } } };
  if (pending.approvals.includes(by.actor)) {
    const why = `${by.actor} has already approved ${gateName(pending.stepId)}: an approver counts once`;
    return { refusal: REFUSED_CONFLICT, why, audit: { kind: 'approval.duplicate', extra: { stepId: gate, detail: { why: 'an approver counts once' } } } };
  }
  return undefined;
}

/** Applies a decision that `decisionRefusal` let through. */
export function applyDecision(run: IncidentRun, kind: 'approve' | 'reject', by: Decision): MessageOutcome {
  const pending = run.state.pendingApproval;
  if (!pending) throw refusalFailure({ refusal: REFUSED_CONFLICT, why: 'nothing is waiting for approval' });
  if (kind === 'reject') {
    run.decision = { kind, by };
    return 'rejected';
  }
  pending.approvals.push(by.actor);
  if (pending.approvals.length >= pending.required) {
    run.decision = { kind, by };
    return 'approved';
  }
  run.record('approval.recorded', by.actor, {
    stepId: pending.stepId ?? undefined,
    approval: { stepId: pending.stepId, decision: 'approve', approver: by.actor, reason: by.reason },
    detail: { approvals: pending.approvals.length, required: pending.required, reason: by.reason },
  });
  return 'approval-recorded';
}

export function rollbackRefusal(run: IncidentRun, note: Note): Refusal | undefined {
  // The row may still say otherwise: the API read it before the close was written.
  const why =
    run.state.status === 'closed'
      ? 'the incident is closed'
      : run.rolledBack
        ? 'the incident was already rolled back'
        : run.requested.rollback
          ? 'a rollback was already requested'
          : undefined;
  return why ? { refusal: REFUSED_CONFLICT, why, audit: { kind: 'rollback.ignored', extra: { detail: { reason: note.reason, why } } } } : undefined;
}

export function applyRollback(run: IncidentRun, note: Note): MessageOutcome {
  run.requested.rollback = note;
  run.record('rollback.requested', note.actor, { detail: { reason: note.reason } });
  return 'rollback-requested';
}

export function manualRefusal(run: IncidentRun, report: ManualCompletion): Refusal | undefined {
  if (run.state.pendingManual?.stepId === report.stepId && !run.manualReport) return undefined;
  const why = `step "${report.stepId}" is not waiting for a person`;
  return { refusal: REFUSED_CONFLICT, why, audit: { kind: 'manual.ignored', extra: { stepId: report.stepId, detail: { why } } } };
}

export function applyManualReport(run: IncidentRun, report: ManualCompletion): MessageOutcome {
  run.manualReport = report;
  return 'step-reported';
}

export function stepDecisionRefusal(run: IncidentRun, d: StepDecision): Refusal | undefined {
  if (run.state.pendingDecision?.stepId === d.stepId && !run.stepDecision) return undefined;
  const why = `step "${d.stepId}" is not waiting for a decision`;
  return { refusal: REFUSED_CONFLICT, why, audit: { kind: 'decision.ignored', extra: { stepId: d.stepId, detail: { decision: d.decision, why } } } };
}

export function applyStepDecision(run: IncidentRun, d: StepDecision): MessageOutcome {
  run.stepDecision = d;
  return 'step-decided';
}

/** Acknowledge, resolve and close apply whenever the incident is not closed. */
export function closedRefusal(run: IncidentRun): Refusal | undefined {
  return run.state.status === 'closed' ? { refusal: REFUSED_CONFLICT, why: 'the incident is closed' } : undefined;
}

export function applyAcknowledge(run: IncidentRun, note: Note): MessageOutcome {
  if (run.state.acknowledged) return 'already-acknowledged';
  run.state.acknowledged = true;
  const extra = { incident: { stamp: 'acknowledged' as const }, detail: { reason: note.reason } };
  if (run.state.status === 'open') run.setStatus('acknowledged', 'incident.acknowledged', note.actor, extra);
  else run.record('incident.acknowledged', note.actor, extra);
  run.notifier.notify('incident.acknowledged', `Acknowledged by ${note.actor}: ${run.draft.title}`);
  if (wf.patched(INCIDENT_COMMAND_PATCH)) commanderOnAcknowledge(run, note.actor);
  return 'acknowledged';
}

/** Resolve and close are carried out where the incident settles (src/workflows/incident/settle.ts). */
export function applyResolve(run: IncidentRun, note: Note): MessageOutcome {
  run.requested.resolve ??= note;
  return 'resolve-requested';
}

export function applyClose(run: IncidentRun, note: Note): MessageOutcome {
  run.requested.close ??= note;
  return 'close-requested';
}
