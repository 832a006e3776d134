/**
 * Saga compensation: what the runbook did is undone, newest first, each step once, even while the
 * workflow is being cancelled.
 */
import * as wf from '@temporalio/workflow';
import { compensationActivities } from './options';
import type { IncidentRun } from './run';
import { markStep, stepCall } from './steps';

export async function compensate(run: IncidentRun, reason: string, actor: string): Promise<void> {
  const todo = run.completed.filter((c) => !c.compensated).reverse();
  run.record('compensation.started', actor, { detail: { reason, steps: todo.map((c) => c.step.id) } });
  await run.recorder.flush();
  let failures = 0;
  for (const c of todo) {
    c.compensated = true;
    const s = run.stepState(c.step.id);
    if (s) s.status = 'compensating';
    const undo = compensationActivities(c.step)[`${c.step.action}.compensate`];
    try {
      const result = (await wf.CancellationScope.nonCancellable(() => {
        // The activity proxy answers every name; said here, it fails as calling `undefined` would have.
        if (undo === undefined) throw new Error(`no compensation activity for ${c.step.action}`);
        return undo(stepCall(run, c.step, c.index, c.params, c.output));
      })) as { compensated?: boolean } | null;
      // An action with nothing to undo answers `compensated: false`: the step stays as it ran.
      if (s) s.status = result?.compensated === false ? 'succeeded' : 'compensated';
    } catch (err) {
      failures += 1;
      markStep(run, c.step, c.index, 'compensation_failed', 'step.compensation_failed', wf.rootCause(err) ?? String(err));
    }
  }
  run.record('compensation.finished', actor, { detail: { reason, compensated: todo.length - failures, failed: failures } });
}
