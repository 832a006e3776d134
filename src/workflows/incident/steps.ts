/**
 * Running one runbook step: render its parameters, run its action as an activity, wait for a
 * person where the step is manual, and on failure do what the step says (continue, abort, or ask a
 * person to retry, skip or abort).
 */
import * as wf from '@temporalio/workflow';
import type { StepCall } from '../../activities';
import type { ActionKind } from '../../domain/action-kinds';
import type { RunbookStep } from '../../domain/runbook';
import { type Severity, isAtLeast } from '../../domain/severity-scale';
import type { StepDecision } from '../../domain/signals';
import { TemplateError, render } from '../../domain/template';
import type { StepState } from '../definitions';
import { AireSeverity } from '../search-attributes';
import { stepRow } from './approval';
import { stepActivities } from './options';
import type { IncidentRun } from './run';

type Attempt = { ok: true } | { ok: false; error: string };

export function stepCall(run: IncidentRun, step: RunbookStep, index: number, params: unknown, output?: unknown): StepCall {
  const { tenantId, incidentId, draft, state } = run;
  return {
    tenantId,
    incidentId,
    step: { id: step.id, name: step.name, action: step.action, position: index },
    incident: { id: incidentId, title: state.edited?.title ?? draft.title, severity: state.severity, source: draft.source },
    params,
    output,
  };
}

export function markStep(
  run: IncidentRun,
  step: RunbookStep,
  index: number,
  status: StepState['status'],
  kind: ActionKind,
  error?: string,
  detail: Record<string, unknown> = {},
): void {
  const s = run.stepState(step.id);
  if (s) {
    s.status = status;
    if (error) s.error = error;
  }
  run.record(kind, 'aire', {
    stepId: step.id,
    step: { row: stepRow(step, index), update: { status, error } },
    detail: { ...detail, ...(error ? { error } : {}) },
  });
  if (status === 'failed') run.notifier.notify('step.failed', `Step "${step.name}" failed on "${run.draft.title}": ${error ?? 'unknown error'}`);
}

/** A `manual` step: wait until a person reports it done or failed (or the incident is interrupted). */
async function awaitPerson(run: IncidentRun, step: RunbookStep, index: number): Promise<Attempt> {
  run.state.pendingManual = { stepId: step.id, since: new Date().toISOString() };
  await wf.condition(() => run.manualReport !== undefined || run.interrupted());
  run.state.pendingManual = null;
  const report = run.manualReport;
  run.manualReport = undefined;
  if (!report) return { ok: false, error: 'interrupted while waiting for a person' };
  if (report.outcome === 'failed') return { ok: false, error: `reported failed by ${report.actor}${report.note ? `: ${report.note}` : ''}` };
  run.record('step.succeeded', report.actor, {
    stepId: step.id,
    step: { row: stepRow(step, index), update: { status: 'succeeded' } },
    detail: { action: 'manual', note: report.note },
  });
  return { ok: true };
}

/** Runs a step once: render, execute, and for `manual` steps wait for the person. */
async function attempt(run: IncidentRun, step: RunbookStep, index: number, round: number): Promise<Attempt> {
  let params: unknown;
  try {
    params = render(
      step.params,
      { incident: { ...run.draft, ...run.state.edited, id: run.incidentId, severity: run.state.severity }, steps: run.stepOutputs() },
      // The runbook's own step number: a later runbook's steps sit further down the incident.
      `steps[${index - run.stepOffset}].params`,
    );
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return { ok: false, error: err.message };
  }
  const s = run.stepState(step.id);
  if (s) s.status = 'running';
  // What is queued goes with the step, whose start record writes it first; what is already being written is awaited.
  const carried = run.recorder.takeQueued();
  await run.recorder.flush();
  let output: unknown;
  try {
    const execute = stepActivities(step)[`${step.action}.execute`];
    // The activity proxy answers every name; said here, it fails as calling `undefined` would have.
    if (execute === undefined) throw new Error(`no step activity for ${step.action}`);
    output = await execute({ ...stepCall(run, step, index, params), round, ...(carried.length > 0 ? { transitions: carried } : {}) });
  } catch (err) {
    // No attempt may have got as far as writing them; written twice, a transition counts once.
    run.recorder.enqueue(carried, true);
    return { ok: false, error: wf.rootCause(err) ?? String(err) };
  }
  if (step.action === 'manual') {
    const done = await awaitPerson(run, step, index);
    if (!done.ok) return done;
  }
  if (step.action === 'escalate') applyEscalation(run, step, output);
  run.completed.push({ step, index, params, output, compensated: false });
  run.outputs[step.id] = { output };
  if (s) {
    s.status = 'succeeded';
    s.output = output;
  }
  return { ok: true };
}

/** An `escalate` step may raise severity; it never lowers it. */
function applyEscalation(run: IncidentRun, step: RunbookStep, output: unknown): void {
  const raised = (output as { severity?: Severity | null } | null)?.severity;
  const { state } = run;
  if (!raised || raised === state.severity || !isAtLeast(raised, state.severity)) return;
  const from = state.severity;
  state.severity = raised;
  wf.upsertSearchAttributes([{ key: AireSeverity, value: raised }]);
  run.record('incident.escalated', 'aire', { stepId: step.id, incident: { severity: raised }, detail: { from, to: raised } });
}

/** A failed step that says `escalate`: a person decides to retry, skip or abort. */
async function awaitStepDecision(run: IncidentRun, step: RunbookStep, error: string): Promise<StepDecision['decision'] | 'interrupted'> {
  run.state.pendingDecision = { stepId: step.id, error, since: new Date().toISOString() };
  run.setStatus('awaiting_approval', 'decision.requested', 'aire', { stepId: step.id, detail: { error, options: ['retry', 'skip', 'abort'] } });
  await wf.condition(() => run.stepDecision !== undefined || run.interrupted());
  run.state.pendingDecision = null;
  const made = run.stepDecision;
  run.stepDecision = undefined;
  if (!made) return 'interrupted';
  run.record(`decision.${made.decision}`, made.actor, { stepId: step.id, detail: { reason: made.reason } });
  if (made.decision !== 'abort') run.setStatus('remediating', 'remediation.resumed', made.actor, { stepId: step.id });
  return made.decision;
}

/** Runs one step to an end; returns false when the runbook must abort. */
export async function runStep(run: IncidentRun, step: RunbookStep, index: number): Promise<boolean> {
  run.state.currentStep = step.id;
  try {
    for (let round = 0; ; round += 1) {
      const result = await attempt(run, step, index, round);
      if (result.ok) return true;
      markStep(run, step, index, 'failed', 'step.failed', result.error, { onFailure: step.onFailure, round });
      if (run.interrupted() || step.onFailure === 'continue') return true;
      if (step.onFailure === 'abort') return false;
      const choice = await awaitStepDecision(run, step, result.error);
      if (choice === 'retry') continue;
      if (choice === 'skip') {
        markStep(run, step, index, 'skipped', 'step.skipped', undefined, { reason: 'a person chose to skip it after it failed' });
        return true;
      }
      // abort, or interrupted: the caller's loop sees the interruption and settles it.
      return choice === 'interrupted';
    }
  } finally {
    run.state.currentStep = null;
  }
}
