import type { ActionKind } from '../domain/action-kinds';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Config } from '../config';
import { appendLog, rememberForStep, upsertStep } from '../db/incidents';
import { Pool, withTenant } from '../db/pool';
import { retryOnConnectionError } from '../db/retry';
import { stepRecordIsStale } from '../db/step-records';
import { redact } from '../domain/redact';
import { issueError } from '../domain/validation';
import { stepAttemptFailures, stepDuration } from '../metrics';
import { EXECUTORS } from './actions';
import { pause } from './activity-context';
import { ActionContext, ActionExecutor } from './actions/types';
import { actionPorts } from './ports';
import { Transition, writeTransition } from './store';
import { NON_RETRYABLE } from './egress';
import { Observation, observe } from './transition-metrics';

export interface StepDeps {
  pool: Pool;
  config: Config;
}

/** What the workflow passes to `<action>.execute` and `<action>.compensate`. */
export interface StepCall {
  tenantId: string;
  incidentId: string;
  step: { id: string; name: string; action: string; position: number };
  incident: { id: string; title: string; severity: string; source: string };
  /** Rendered parameters. */
  params: unknown;
  /** For compensate: what execute returned. */
  output?: unknown;
  /** 0 for the first run of the step; 1, 2… when a person asked to retry it after it failed. */
  round?: number;
  /**
   * What the workflow recorded since its last store write: written with the step's start, before
   * it, instead of by a store activity of their own (one activity and one workflow task less per step).
   */
  transitions?: Transition[];
}

/** A retry asked for by a person is a new request, so it gets a new idempotency key and log keys. */
function stepKey(call: StepCall): string {
  return call.round ? `${call.step.id}:r${call.round}` : call.step.id;
}

export type StepActivity = (call: StepCall) => Promise<unknown>;

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- bookkeeping that outlasts a database restart ----
//
// Each attempt records its start and its end in PostgreSQL. If one of those writes failed the
// attempt, a database restart would cost the step an attempt (with the default policy, 3 in a few
// seconds: the step fails), and a write failing after the action was sent would send it again or
// fail a step whose effect had landed, which nothing then undoes. So a write that fails because
// PostgreSQL is away is retried inside the attempt, with backoff, heartbeating meanwhile: only the
// step's own timeout or a cancellation ends the waiting. Every write here is safe to repeat (upserts,
// audit entries keyed by event).

/** Heartbeat details of an execute attempt once its action has answered: a later attempt records it without sending it again. */
interface Executed {
  executed: { output: unknown };
}

function isExecuted(details: unknown): details is Executed {
  return typeof details === 'object' && details !== null && 'executed' in details;
}

const HEARTBEAT_EVERY_MS = 1_000;

/** Waits for `work`, heartbeating `details` meanwhile; rejects as soon as the activity is cancelled or times out. */
async function whileHeartbeating<T>(ctx: Context, details: unknown, work: () => Promise<T>): Promise<T> {
  const beat = setInterval(() => ctx.heartbeat(details), HEARTBEAT_EVERY_MS);
  try {
    // A query hung on a silent connection cannot be aborted, but the attempt need not wait for it.
    return await Promise.race([work(), ctx.cancelled]);
  } finally {
    clearInterval(beat);
  }
}

/**
 * Heartbeats while an action runs: step activities have a heartbeat timeout
 * (src/workflows/incident/options.ts), so a step whose worker died is retried elsewhere within
 * seconds instead of after the step's own timeout. Actions that report progress heartbeat too.
 */
async function keepingAlive<T>(ctx: Context, work: () => Promise<T>): Promise<T> {
  const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}

/** A bookkeeping write of the step activity, retried while PostgreSQL is unreachable (see above). */
function bookkeeping<T>(call: StepCall, what: string, details: unknown, work: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  return retryOnConnectionError(() => whileHeartbeating(ctx, details, work), {
    initialDelayMs: 250,
    maxDelayMs: 3_000,
    sleep: (ms) => pause(ms, details),
    onRetry: (err, tries, delayMs) => {
      ctx.log.warn('PostgreSQL unavailable: retrying the step record', {
        tenantId: call.tenantId,
        incidentId: call.incidentId,
        stepId: call.step.id,
        what,
        tries,
        delayMs,
        error: errorMessage(err),
      });
    },
  });
}

/** An error of the value `remember` produces, kept apart from the database's own (which are retried). */
class ProduceFailed {
  constructor(readonly err: unknown) {}
}

function actionContext(deps: StepDeps, call: StepCall, phase: 'execute' | 'compensate'): ActionContext {
  return {
    tenantId: call.tenantId,
    incidentId: call.incidentId,
    stepId: call.step.id,
    incident: call.incident,
    idempotencyKey: `aire:${call.incidentId}:${stepKey(call)}`,
    ...actionPorts(deps, call.tenantId),
    remember: async (key, produce) => {
      // Retried as a whole if PostgreSQL goes away: a value that was remembered is read back, not produced again.
      const work = () =>
        withTenant(deps.pool, call.tenantId, (client) =>
          rememberForStep(client, call.incidentId, call.step.id, `${phase}:${key}`, () =>
            produce().catch((err: unknown) => {
              throw new ProduceFailed(err); // eslint-disable-line @typescript-eslint/only-throw-error -- a private sentinel, not an Error: it carries produce()'s failure past the retry and is unwrapped below
            }),
          ),
        );
      try {
        return await bookkeeping(call, `remember ${key}`, undefined, work);
      } catch (err) {
        throw err instanceof ProduceFailed ? err.err : err;
      }
    },
  };
}

/**
 * Records one transition of a step: its row and an audit entry, in one transaction. False when it
 * came too late and was not written (see stepRecordIsStale): an attempt Temporal has given up on.
 */
async function recordStep(
  deps: StepDeps,
  call: StepCall,
  phase: 'execute' | 'compensate',
  status: string,
  kind: ActionKind,
  eventKey: string,
  extra: { output?: unknown; error?: string; attempts?: number; params?: unknown; detail?: Record<string, unknown>; transitions?: Transition[] },
  heartbeatDetails?: unknown,
): Promise<boolean> {
  const sensitive = deps.config.AIRE_SENSITIVE_KEYS;
  const at = new Date().toISOString();
  const ref = {
    incidentId: call.incidentId,
    stepId: call.step.id,
    stepKey: stepKey(call),
    round: call.round ?? 0,
    phase,
    attempt: Context.current().info.attempt,
  };
  // Counted once committed (src/activities/transition-metrics.ts); emptied when a write is retried.
  const observed: Observation[] = [];
  const recorded = await bookkeeping(call, kind, heartbeatDetails, () =>
    withTenant(deps.pool, call.tenantId, async (client) => {
      observed.length = 0;
      if (await stepRecordIsStale(client, ref)) return false;
      for (const t of extra.transitions ?? []) await writeTransition(client, t, sensitive, observed);
      await upsertStep(
        client,
        call.tenantId,
        call.incidentId,
        { stepId: call.step.id, ...call.step, position: call.step.position },
        {
          status,
          at,
          attempts: extra.attempts,
          error: extra.error,
          params: extra.params === undefined ? undefined : redact(extra.params, sensitive),
          output: extra.output === undefined ? undefined : redact(extra.output, sensitive),
        },
      );
      const fresh = await appendLog(client, {
        tenantId: call.tenantId,
        incidentId: call.incidentId,
        eventKey,
        kind,
        actor: 'aire',
        stepId: call.step.id,
        at,
        detail: redact({ action: call.step.action, ...extra.detail, ...(extra.error ? { error: extra.error } : {}) }, sensitive),
      });
      if (fresh && kind === 'step.succeeded') observed.push({ metric: 'step', action: call.step.action, outcome: 'succeeded' });
      return true;
    }),
  );
  observe(observed);
  return recorded;
}

/** An attempt that finds a later one has started, or the step has been left behind, must not act. */
function superseded(call: StepCall): ApplicationFailure {
  return ApplicationFailure.create({
    message: `step ${call.step.id}: this attempt was superseded (a later attempt started, or the runbook moved on)`,
    type: 'Superseded',
  });
}

function parseParams(action: ActionExecutor, call: StepCall): unknown {
  const parsed = action.spec.params.safeParse(call.params);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const e = issueError(i, ['steps', call.step.position, 'params']);
    return `${e.path}: ${e.message}`;
  });
  throw ApplicationFailure.nonRetryable(`invalid parameters for ${action.spec.type}: ${problems.join('; ')}`, NON_RETRYABLE.invalidParams);
}

/**
 * Once the start has been recorded: an attempt that was cancelled, or whose time is up, sends
 * nothing. (A worker learns of an attempt's timeout only through a heartbeat's answer, which can
 * come late; `startedAt` is when the attempt began here, a little after Temporal's clock started.)
 */
function throwIfOutOfTime(ctx: Context, startedAt: number): void {
  if (ctx.cancellationSignal.aborted) throw new CancelledFailure(String(ctx.cancellationSignal.reason ?? 'CANCELLED'));
  const limit = ctx.info.startToCloseTimeoutMs;
  if (limit && Date.now() - startedAt >= limit) throw new CancelledFailure('TIMED_OUT');
}

async function runExecute(deps: StepDeps, action: ActionExecutor, call: StepCall): Promise<unknown> {
  const ctx = Context.current();
  const startedAt = Date.now();
  const { attempt } = ctx.info;
  const heartbeatDetails: unknown = ctx.info.heartbeatDetails;
  const key = `step:${stepKey(call)}:execute:${attempt}`;
  const resumed = isExecuted(heartbeatDetails);
  const started = await recordStep(deps, call, 'execute', 'running', 'step.started', `${key}:started`, {
    attempts: attempt,
    params: call.params,
    detail: resumed ? { attempt, resumed: true } : { attempt },
    transitions: call.transitions,
  });
  if (!started) throw superseded(call);
  let output: unknown;
  if (resumed) {
    // An earlier attempt sent the action and got its answer, then ran out of time recording it
    // (PostgreSQL away): record that answer, do not send the action again.
    output = heartbeatDetails.executed.output;
    ctx.log.info('step answered in an earlier attempt; recording it', { tenantId: call.tenantId, incidentId: call.incidentId, stepId: call.step.id, attempt });
  } else {
    throwIfOutOfTime(ctx, startedAt);
    const timer = stepDuration.startTimer({ action: action.spec.type });
    try {
      const params = parseParams(action, call);
      output = await keepingAlive(ctx, () => action.execute(actionContext(deps, call, 'execute'), params));
      timer({ outcome: 'succeeded' });
    } catch (err) {
      timer({ outcome: 'failed' });
      stepAttemptFailures.inc({ action: action.spec.type });
      await recordStep(deps, call, 'execute', 'running', 'step.attempt_failed', `${key}:failed`, { error: errorMessage(err), detail: { attempt } });
      throw err;
    }
    ctx.log.info('step executed', { tenantId: call.tenantId, incidentId: call.incidentId, stepId: call.step.id, action: action.spec.type, attempt });
  }
  // From here on the action has been sent: whatever happens to the record, it is not sent again by
  // this attempt, and (if this heartbeat reached the server) not by the next one either.
  const executed: Executed = { executed: { output } };
  ctx.heartbeat(executed);
  if (action.spec.awaitsPerson) {
    await recordStep(deps, call, 'execute', 'running', 'step.assigned', `step:${stepKey(call)}:assigned`, { output, detail: { attempt } }, executed);
  } else {
    await recordStep(deps, call, 'execute', 'succeeded', 'step.succeeded', `step:${stepKey(call)}:succeeded`, { output, detail: { attempt } }, executed);
  }
  return output;
}

async function runCompensate(deps: StepDeps, action: ActionExecutor, call: StepCall): Promise<unknown> {
  const startedAt = Date.now();
  const { attempt } = Context.current().info;
  const key = `step:${call.step.id}:compensate:${attempt}`;
  if (!action.compensate) {
    const detail = { compensated: false, reason: `${action.spec.type} cannot be undone` };
    await recordStep(deps, call, 'compensate', 'succeeded', 'step.not_compensable', `step:${call.step.id}:not_compensable`, { detail });
    return detail;
  }
  if (!(await recordStep(deps, call, 'compensate', 'compensating', 'step.compensating', `${key}:started`, { detail: { attempt } }))) throw superseded(call);
  throwIfOutOfTime(Context.current(), startedAt);
  try {
    const params = parseParams(action, call);
    const compensateAction = action.compensate;
    const result = await keepingAlive(Context.current(), () => compensateAction(actionContext(deps, call, 'compensate'), params, call.output));
    await recordStep(deps, call, 'compensate', 'compensated', 'step.compensated', `step:${call.step.id}:compensated`, { detail: { attempt, result } });
    return result;
  } catch (err) {
    await recordStep(deps, call, 'compensate', 'compensating', 'step.compensation_attempt_failed', `${key}:failed`, {
      error: errorMessage(err),
      detail: { attempt },
    });
    throw err;
  }
}

/**
 * One pair of activities per action type, named `<type>.execute` and `<type>.compensate`, so the
 * Web UI's event history says what each step did.
 */
export function createStepActivities(deps: StepDeps): Record<string, StepActivity> {
  const activities: Record<string, StepActivity> = {};
  for (const executor of EXECUTORS) {
    activities[`${executor.spec.type}.execute`] = (call) => runExecute(deps, executor, call);
    activities[`${executor.spec.type}.compensate`] = (call) => runCompensate(deps, executor, call);
  }
  return activities;
}
