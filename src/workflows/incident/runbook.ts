/**
 * Running the incident's runbook: its gate, then each step behind its own gate, undoing what ran
 * when a step aborts. "No critical remediation without a human" holds even when a step escalates
 * the incident to critical halfway.
 */
import { gateDecision, runbookGate, stepGate } from '../../domain/gates';
import type { Runbook } from '../../domain/runbook';
import { awaitApproval, stepRow } from './approval';
import { compensate } from './compensation';
import type { IncidentRun } from './run';
import { markStep, runStep } from './steps';

/** `brakes`: run limits or an open circuit breaker, which turn autopilot into co-pilot for this incident. */
export async function runRunbook(run: IncidentRun, runbook: Runbook, brakes: string[]): Promise<void> {
  run.runbookInForce = runbook;
  run.state.steps = runbook.steps.map((s) => ({ id: s.id, name: s.name, action: s.action, status: 'pending' }));
  const policyGate = runbookGate(run.draft, runbook);
  const gate = gateDecision([...policyGate.reasons, ...brakes]);
  if (gate.required) {
    const outcome = await awaitApproval(run, gate, runbook.approvalTimeoutPolicy);
    if (outcome === 'interrupted') return;
    if (outcome === 'timed_out') {
      run.setStatus('failed', 'remediation.failed', 'aire', { detail: { reason: 'no approval for the runbook in time; nothing ran' } });
      return;
    }
    if (outcome === 'rejected') {
      run.setStatus('investigating', 'remediation.rejected', 'aire', { detail: { reason: 'the runbook gate was rejected: people take it from here' } });
      return;
    }
  }
  run.setStatus('remediating', 'remediation.started', 'aire', {
    detail: { runbookId: runbook.id, gate: gate.required ? 'approved' : 'autopilot' },
    plan: runbook.steps.map(stepRow),
  });

  const abortReason = await runSteps(run, runbook, gate.required);
  if (abortReason) {
    await compensate(run, abortReason, 'aire');
    run.setStatus('failed', 'remediation.failed', 'aire', { detail: { reason: abortReason } });
    return;
  }
  if (run.interrupted()) return;
  run.setStatus('mitigated', 'incident.mitigated', 'aire', { incident: { stamp: 'mitigated' } });
  if (runbook.completion.autoResolve) {
    run.setStatus('resolved', 'incident.resolved', 'aire', { incident: { stamp: 'resolved' }, detail: { reason: 'the runbook resolves on completion' } });
  }
}

/** The steps in order, each behind its gate; answers why the runbook aborts, if it does. */
async function runSteps(run: IncidentRun, runbook: Runbook, runbookApproved: boolean): Promise<string | undefined> {
  let humanApproved = runbookApproved;
  for (const [index, step] of runbook.steps.entries()) {
    if (run.interrupted()) return undefined;
    if (run.state.severity === 'critical' && !humanApproved) {
      // Escalated to critical mid-runbook: the promise "no critical remediation without a human" still holds.
      const outcome = await awaitApproval(
        run,
        { required: true, mode: 'co-pilot', reasons: ['the incident was escalated to critical: a human approves before remediation goes on'] },
        runbook.approvalTimeoutPolicy,
      );
      if (outcome === 'interrupted') return undefined;
      if (outcome === 'rejected' || outcome === 'timed_out') return 'approval after escalation to critical was rejected';
      humanApproved = true;
      run.setStatus('remediating', 'remediation.resumed', 'aire');
    }
    const gateForStep = stepGate(step, run.settings.approval);
    if (gateForStep.required) {
      const outcome = await awaitApproval(run, gateForStep, runbook.approvalTimeoutPolicy, { step, index });
      if (outcome === 'interrupted') return undefined;
      if (outcome === 'timed_out') return `no approval for step "${step.id}" in time`;
      if (outcome === 'rejected' && step.onReject === 'skip') {
        markStep(run, step, index, 'skipped', 'step.skipped', undefined, { reason: 'approval rejected; the step says skip' });
        run.setStatus('remediating', 'remediation.resumed', 'aire');
        continue;
      }
      if (outcome === 'rejected') return `approval for step "${step.id}" was rejected`;
      run.setStatus('remediating', 'remediation.resumed', 'aire', { stepId: step.id });
    }
    if (!(await runStep(run, step, index))) return `step "${step.id}" failed and says abort`;
  }
  return undefined;
}
