/**
 * An approval gate: ask, notify, wait for people's decision (escalating while nobody answers), and
 * record how it ended.
 */
import * as wf from '@temporalio/workflow';
import { type GateDecision, requiredApprovals } from '../../domain/gates';
import type { Runbook, RunbookStep } from '../../domain/runbook';
import type { IncidentRun } from './run';

/** `timed_out`: nobody answered through every escalation tier and the runbook says abort. */
export type GateOutcome = 'approved' | 'rejected' | 'interrupted' | 'timed_out';

export const stepRow = (step: RunbookStep, index: number) => ({ stepId: step.id, position: index, name: step.name, action: step.action });

export async function awaitApproval(
  run: IncidentRun,
  gate: GateDecision,
  timeoutPolicy: Runbook['approvalTimeoutPolicy'],
  step?: { step: RunbookStep; index: number },
): Promise<GateOutcome> {
  const { settings, state, incidentId } = run;
  const stepId = step ? step.step.id : null;
  const gateName = stepId ? `step "${stepId}"` : 'the runbook';
  const required = requiredApprovals(settings.approval, state.severity);
  state.pendingApproval = { stepId, reasons: gate.reasons, since: new Date().toISOString(), approvals: [], required };
  const s = stepId ? run.stepState(stepId) : undefined;
  if (s) s.status = 'awaiting_approval';
  run.setStatus('awaiting_approval', 'approval.requested', 'aire', {
    stepId: stepId ?? undefined,
    detail: { gate: stepId ?? 'runbook', reasons: gate.reasons, mode: gate.mode, required },
    step: step ? { row: stepRow(step.step, step.index), update: { status: 'awaiting_approval', gate } } : undefined,
  });
  const links = `approve: POST /api/incidents/${incidentId}/approve, reject: POST /api/incidents/${incidentId}/reject${settings.consoleUrl ? `, console: ${settings.consoleUrl}` : ''}`;
  run.notifier.notify('approval.needed', `Approval needed for ${gateName} of "${run.draft.title}": ${gate.reasons.join('; ')} (${links})`);

  const answered = (): boolean => run.decision !== undefined || run.interrupted();
  let timedOut = false;
  if (!(await wf.condition(answered, settings.approvalTimeout))) {
    run.record('approval.overdue', 'aire', { stepId: stepId ?? undefined, detail: { gate: stepId ?? 'runbook', waitedMs: settings.approvalTimeout } });
    timedOut = !(await run.notifier.escalate(`approval for ${gateName} is overdue`, answered));
  }
  state.pendingApproval = null;
  if (timedOut) {
    run.record('approval.timed_out', 'aire', {
      stepId: stepId ?? undefined,
      approval: { stepId, decision: 'reject', approver: 'aire', reason: `no approval in time; the runbook says ${timeoutPolicy}` },
      detail: { gate: stepId ?? 'runbook', policy: timeoutPolicy },
    });
    return timeoutPolicy === 'abort' ? 'timed_out' : 'rejected';
  }
  const made = run.decision;
  run.decision = undefined;
  if (!made) return 'interrupted';
  const approved = made.kind === 'approve';
  run.record(approved ? 'approval.granted' : 'approval.rejected', made.by.actor, {
    stepId: stepId ?? undefined,
    approval: { stepId, decision: made.kind, approver: made.by.actor, reason: made.by.reason },
    detail: { gate: stepId ?? 'runbook', reason: made.by.reason },
  });
  return approved ? 'approved' : 'rejected';
}
