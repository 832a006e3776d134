import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Config } from '../config';
import { appendLog, rememberForStep, upsertStep } from '../db/incidents';
import { Pool, withTenant } from '../db/pool';
import { redact } from '../domain/redact';
import { issueError } from '../domain/validation';
import { stepAttemptFailures, stepDuration } from '../metrics';
import { ACTIONS } from './actions';
import { ActionContext, ActionModule } from './actions/types';
import { NON_RETRYABLE } from './egress';

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
}

/** A retry asked for by a person is a new request, so it gets a new idempotency key and log keys. */
function stepKey(call: StepCall): string {
  return call.round ? `${call.step.id}:r${call.round}` : call.step.id;
}

export type StepActivity = (call: StepCall) => Promise<unknown>;

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function actionContext(deps: StepDeps, call: StepCall, phase: 'execute' | 'compensate'): ActionContext {
  return {
    tenantId: call.tenantId,
    incidentId: call.incidentId,
    stepId: call.step.id,
    incident: call.incident,
    idempotencyKey: `aire:${call.incidentId}:${stepKey(call)}`,
    config: deps.config,
    pool: deps.pool,
    remember: (key, produce) =>
      withTenant(deps.pool, call.tenantId, (client) => rememberForStep(client, call.incidentId, call.step.id, `${phase}:${key}`, produce)),
  };
}

/** Records one transition of a step: its row and an audit entry, in one transaction. */
async function recordStep(
  deps: StepDeps,
  call: StepCall,
  status: string,
  kind: string,
  eventKey: string,
  extra: { output?: unknown; error?: string; attempts?: number; params?: unknown; detail?: Record<string, unknown> },
): Promise<void> {
  const sensitive = deps.config.AIRE_SENSITIVE_KEYS;
  const at = new Date().toISOString();
  await withTenant(deps.pool, call.tenantId, async (client) => {
    await upsertStep(client, call.tenantId, call.incidentId, { stepId: call.step.id, ...call.step, position: call.step.position }, {
      status,
      at,
      attempts: extra.attempts,
      error: extra.error,
      params: extra.params === undefined ? undefined : redact(extra.params, sensitive),
      output: extra.output === undefined ? undefined : redact(extra.output, sensitive),
    });
    await appendLog(client, {
      tenantId: call.tenantId,
      incidentId: call.incidentId,
      eventKey,
      kind,
      actor: 'aire',
      stepId: call.step.id,
      at,
      detail: redact({ action: call.step.action, ...extra.detail, ...(extra.error ? { error: extra.error } : {}) }, sensitive),
    });
  });
}

function parseParams(action: ActionModule, call: StepCall): unknown {
  const parsed = action.params.safeParse(call.params);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const e = issueError(i, ['steps', call.step.position, 'params']);
    return `${e.path}: ${e.message}`;
  });
  throw ApplicationFailure.nonRetryable(`invalid parameters for ${action.type}: ${problems.join('; ')}`, NON_RETRYABLE.invalidParams);
}

async function runExecute(deps: StepDeps, action: ActionModule, call: StepCall): Promise<unknown> {
  const { attempt } = Context.current().info;
  const key = `step:${stepKey(call)}:execute:${attempt}`;
  await recordStep(deps, call, 'running', 'step.started', `${key}:started`, { attempts: attempt, params: call.params, detail: { attempt } });
  let output: unknown;
  const timer = stepDuration.startTimer({ action: action.type });
  try {
    const params = parseParams(action, call);
    output = await action.execute(actionContext(deps, call, 'execute'), params);
    timer({ outcome: 'succeeded' });
  } catch (err) {
    timer({ outcome: 'failed' });
    stepAttemptFailures.inc({ action: action.type });
    await recordStep(deps, call, 'running', 'step.attempt_failed', `${key}:failed`, { error: errorMessage(err), detail: { attempt } });
    throw err;
  }
  Context.current().log.info('step executed', { tenantId: call.tenantId, incidentId: call.incidentId, stepId: call.step.id, action: action.type, attempt });
  if (action.awaitsPerson) {
    await recordStep(deps, call, 'running', 'step.assigned', `step:${stepKey(call)}:assigned`, { output, detail: { attempt } });
  } else {
    await recordStep(deps, call, 'succeeded', 'step.succeeded', `step:${stepKey(call)}:succeeded`, { output, detail: { attempt } });
  }
  return output;
}

async function runCompensate(deps: StepDeps, action: ActionModule, call: StepCall): Promise<unknown> {
  const { attempt } = Context.current().info;
  const key = `step:${call.step.id}:compensate:${attempt}`;
  if (!action.compensate) {
    const detail = { compensated: false, reason: `${action.type} cannot be undone` };
    await recordStep(deps, call, 'succeeded', 'step.not_compensable', `step:${call.step.id}:not_compensable`, { detail });
    return detail;
  }
  await recordStep(deps, call, 'compensating', 'step.compensating', `${key}:started`, { detail: { attempt } });
  try {
    const params = parseParams(action, call);
    const result = await action.compensate(actionContext(deps, call, 'compensate'), params, call.output);
    await recordStep(deps, call, 'compensated', 'step.compensated', `step:${call.step.id}:compensated`, { detail: { attempt, result } });
    return result;
  } catch (err) {
    await recordStep(deps, call, 'compensating', 'step.compensation_attempt_failed', `${key}:failed`, { error: errorMessage(err), detail: { attempt } });
    throw err;
  }
}

/**
 * One pair of activities per action type, named `<type>.execute` and `<type>.compensate`, so the
 * Web UI's event history says what each step did.
 */
export function createStepActivities(deps: StepDeps): Record<string, StepActivity> {
  const activities: Record<string, StepActivity> = {};
  for (const action of ACTIONS) {
    activities[`${action.type}.execute`] = (call) => runExecute(deps, action, call);
    activities[`${action.type}.compensate`] = (call) => runCompensate(deps, action, call);
  }
  return activities;
}
