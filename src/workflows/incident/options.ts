/**
 * How the incident workflow calls its activities, the patches that version its behaviour, and its
 * bounds. One place to read every timeout and retry policy an incident runs with.
 */
import * as wf from '@temporalio/workflow';
import type { NotificationActivities, StepActivity, StoreActivities } from '../../activities';
import type { RunbookStep } from '../../domain/runbook';
import { INCIDENT_CLOSING, type RefusalType } from '../definitions';

/** Store writes retry until PostgreSQL answers: an outage delays the record, it never loses it. */
const STORE_RETRY: wf.RetryPolicy = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' };

/**
 * Store writes are activities, idempotent by incident and transition number. 10 s is far above a
 * write's time and bounds how long a worker killed mid-write holds its incident before the write is
 * retried elsewhere.
 */
export const store = wf.proxyActivities<StoreActivities>({ startToCloseTimeout: '10s', retry: STORE_RETRY });

/**
 * The incident's opening write (its row, then the runbook chosen) runs as a local activity: in the
 * worker that runs the first workflow task, recorded as a marker, with no activity task and no
 * extra workflow task on the way to the first step. Only that one: it depends on the input alone, so
 * if its task fails and runs again it writes the same thing. Transitions depend on the signals a
 * task has seen, and a local activity re-run in a retried task would have recorded, under the same
 * transition number, what the retried task no longer does.
 */
export const openingStore = wf.proxyLocalActivities<StoreActivities>({ startToCloseTimeout: '15s', retry: STORE_RETRY });

/** Notifications retry a little and then give up: a dead channel must never hold remediation back. */
export const notifier = wf.proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 },
});

/**
 * Step activities heartbeat every second while they run (src/activities/steps.ts), so a step
 * whose worker died is retried on another after this long, not after the step's own timeout
 * (minutes, for a `wait` or a slow deploy).
 */
const STEP_HEARTBEAT_TIMEOUT = '20s';
const COMPENSATION_RETRY: wf.RetryPolicy = { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' };

/** A step's action, with the step's own timeout and retry policy; its summary names it in the Web UI (never its parameters). */
export function stepActivities(step: RunbookStep): Record<string, StepActivity> {
  return wf.proxyActivities<Record<string, StepActivity>>({
    startToCloseTimeout: step.timeout,
    heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
    retry: step.retry,
    summary: `${step.name} (${step.action})`,
  });
}

/** A step's undo: retried more patiently than the step, since nothing else will undo it. */
export function compensationActivities(step: RunbookStep): Record<string, StepActivity> {
  return wf.proxyActivities<Record<string, StepActivity>>({
    startToCloseTimeout: step.timeout,
    heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT,
    retry: COMPENSATION_RETRY,
    summary: `undo ${step.name} (${step.action})`,
  });
}

/** Histories from before it open with two activities and write transitions one at a time. */
export const BATCHED_STORE_PATCH = 'store-writes-batched';
/**
 * Joins gathering when a close is requested are written at once, before the close is recorded, so
 * the audit trail never shows a join after `incident.closed`. Histories from before it wrote them
 * after the gathering delay, whatever came in between.
 */
export const JOINS_BEFORE_CLOSE_PATCH = 'joins-written-before-close';
/** Incident command: acknowledging makes the acknowledger commander when nobody is (histories before it did not). */
export const INCIDENT_COMMAND_PATCH = 'incident-command';

/** How long joined events gather before they are written (see Recorder.recordJoin). */
export const JOIN_WRITE_DELAY = '1s';
export const TIMELINE_LIMIT = 100;
export const SEEN_EVENTS_LIMIT = 1_000;

/** What an update's validator throws to refuse a message: the API answers it (409, 403, or a resend with `next`) with `why`. */
export function refusalFailure(refusal: { refusal: RefusalType | typeof INCIDENT_CLOSING; why: string }): wf.ApplicationFailure {
  return wf.ApplicationFailure.create({ type: refusal.refusal, message: refusal.why, nonRetryable: true });
}
