/**
 * The incident after remediation, and its acknowledgement SLA: it waits for people (or the alert)
 * to roll back, resolve or close, escalates while nobody acknowledges, and tells the main loop how
 * the run ends.
 */
import * as wf from '@temporalio/workflow';
import { escalationSequence, responseSlaMs } from '../../domain/routing';
import { title } from './command';
import { compensate } from './compensation';
import { runAnotherRunbook } from './runbook';
import { JOINS_BEFORE_CLOSE_PATCH } from './options';
import type { IncidentRun } from './run';

/** The acknowledgement SLA: not acknowledged in time → record the breach and escalate. */
export async function watchAcknowledgement(run: IncidentRun): Promise<void> {
  const { state, requested, sla } = run;
  const done = (): boolean => state.acknowledged || requested.close !== undefined || state.status === 'resolved';
  // After a continue-as-new the breach was already recorded (and escalated) by the run before.
  if (sla.breached) return;
  for (;;) {
    // A severity edit moves the deadline (command.ts): wait again for the new one.
    const deadline = sla.deadline;
    state.ackBy = new Date(deadline).toISOString();
    if (await wf.condition(() => done() || sla.deadline !== deadline, Math.max(1, deadline - Date.now()))) {
      if (done()) return;
      continue;
    }
    break;
  }
  sla.breached = true;
  const within = responseSlaMs(run.settings, state.severity);
  run.record('sla.breached', 'aire', { detail: { sla: 'acknowledge', withinMs: within, severity: state.severity } });
  run.notifier.notify('sla.breached', `Not acknowledged within ${Math.round(within / 1000)} s: ${title(run)}`);
  if (escalationSequence(run.settings).length > 0) await run.notifier.escalate('the incident is not acknowledged', done);
  else await run.notifier.page(`not acknowledged within ${Math.round(within / 1000)} s`, title(run), done);
}

/**
 * After remediation: wait for people to roll back, resolve or close. Returns 'closed', or
 * 'continue-as-new' when Temporal suggests starting a fresh history.
 */
export async function settle(run: IncidentRun): Promise<'closed' | 'continue-as-new'> {
  const { requested } = run;
  run.settled = true;
  const wake = (): boolean =>
    requested.close !== undefined ||
    (requested.rollback !== undefined && !run.rolledBack) ||
    requested.resolve !== undefined ||
    run.queuedRunbook !== undefined;
  const longHistory = (): boolean => wf.workflowInfo().continueAsNewSuggested;
  for (;;) {
    const autoCloseAt = run.autoCloseAt;
    if (autoCloseAt === undefined) {
      await wf.condition(() => wake() || longHistory());
    } else if (!(await wf.condition(() => wake() || run.autoCloseAt === undefined || longHistory(), Math.max(1, autoCloseAt - Date.now())))) {
      requested.close ??= { actor: 'aire', reason: `the alert stayed resolved for the flap window (${run.settings.intake.flapWindow} ms)` };
    }
    if (!wake() && longHistory()) return 'continue-as-new';
    if (!wake()) continue; // the alert fired again: wait for what people (or the alert) do next
    if (requested.rollback && !run.rolledBack) {
      run.rolledBack = true;
      const note = requested.rollback;
      await compensate(run, note.reason ?? 'rollback requested', note.actor);
      run.setStatus('rolled_back', 'incident.rolled_back', note.actor, { detail: { reason: note.reason } });
      continue;
    }
    if (run.queuedRunbook) {
      const asked = run.queuedRunbook;
      run.queuedRunbook = undefined;
      if (!requested.close) await runAnotherRunbook(run, asked);
      continue;
    }
    if (requested.resolve) {
      // Handled once per request: a later rollback, then a new resolve, works as people expect.
      const note = requested.resolve;
      requested.resolve = undefined;
      if (run.state.status !== 'resolved') {
        run.setStatus('resolved', 'incident.resolved', note.actor, { incident: { stamp: 'resolved' }, detail: { reason: note.reason } });
      }
      if (note.actor === 'alertmanager') run.autoCloseAt = Date.now() + run.settings.intake.flapWindow;
      continue;
    }
    if (requested.close) {
      const note = requested.close;
      if (wf.patched(JOINS_BEFORE_CLOSE_PATCH)) await run.recorder.joinsWritten();
      run.setStatus('closed', 'incident.closed', note.actor, { incident: { stamp: 'closed' }, detail: { reason: note.reason } });
      return 'closed';
    }
  }
}
