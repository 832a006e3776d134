/**
 * Running the incident's runbook: its gate, then each step behind its own gate, undoing what ran
 * when a step aborts. "No critical remediation without a human" holds even when a step escalates
 * the incident to critical halfway.
 */
import { gateDecision, runbookGate, stepGate } from '../../domain/gates';
import type { RunRunbookMessage } from '../../domain/command';
import type { Runbook } from '../../domain/runbook';
import type { StepState } from '../definitions';
import { awaitApproval, stepRow } from './approval';
import { compensate } from './compensation';
import type { IncidentRun } from './run';
import { markStep, runStep } from './steps';

/**
 * `brakes`: run limits or an open circuit breaker, which turn autopilot into co-pilot for this
 * incident. `actor`: who asked for a runbook run after the incident's own; its steps are added to
 * the incident's, their ids prefixed (`r2-…`) so each stays unique.
 */
export async function runRunbook(run: IncidentRun, runbook: Runbook, brakes: string[], actor = 'aire'): Promise<void> {
  run.runbookInForce = runbook;
  const planned = runbook.steps.map((s): StepState => ({ id: s.id, name: s.name, action: s.action, status: 'pending' }));
  if (run.stepPrefix === '') run.state.steps = planned;
  else run.state.steps.push(...planned);
  const policyGate = runbookGate({ ...run.draft, severity: run.state.severity }, runbook);
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
  run.setStatus('remediating', 'remediation.started', actor, {
    detail: { runbookId: runbook.id, gate: gate.required ? 'approved' : 'autopilot', ...(run.stepPrefix ? { stepPrefix: run.stepPrefix } : {}) },
    plan: runbook.steps.map((step, i) => stepRow(step, run.stepOffset + i)),
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
  for (const [local, step] of runbook.steps.entries()) {
    // Positions run on across the runbooks of one incident.
    const index = run.stepOffset + local;
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

/**
 * Runs a runbook people asked for on the incident, after its own: same gates, same compensation
 * (a rollback undoes every runbook run, newest first), its steps added to the incident's.
 */
export async function runAnotherRunbook(run: IncidentRun, asked: RunRunbookMessage): Promise<void> {
  const n = (run.state.moreRunbooks?.length ?? 0) + 2;
  let prefix = `r${n}-`;
  while (run.state.steps.some((s) => s.id.startsWith(prefix))) prefix = `r${n}${prefix}`;
  const runbook: Runbook = { ...asked.runbook, steps: asked.runbook.steps.map((s) => ({ ...s, id: `${prefix}${s.id}` })) };
  run.state.moreRunbooks = [...(run.state.moreRunbooks ?? []), { id: runbook.id, version: asked.version, prefix, by: asked.actor }];
  run.state.runbook = { id: runbook.id, version: asked.version };
  // A rollback of what ran before is done; a new rollback undoes this runbook too.
  run.rolledBack = false;
  run.requested.rollback = undefined;
  run.stepPrefix = prefix;
  run.stepOffset = run.state.steps.length;
  try {
    await runRunbook(run, runbook, [], asked.actor);
  } finally {
    run.stepPrefix = '';
    run.stepOffset = 0;
  }
}
