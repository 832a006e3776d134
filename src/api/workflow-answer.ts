import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { REFUSED_CONFLICT, REFUSED_FORBIDDEN } from '../workflows/definitions';
import { HttpProblem, conflict } from './problem';

/** 503 with Retry-After: nothing was applied, and the caller may send the same again. */
export function notApplied(detail: string): HttpProblem {
  return new HttpProblem(503, 'Service Unavailable', `${detail}; send it again`, undefined, { 'Retry-After': '5' });
}

/** A message reached no running workflow: the incident's run has ended. */
export const ended = (): HttpProblem => conflict('the incident has ended: its workflow is no longer running');

/** The failure type a workflow refused an update with (its validator or handler threw an ApplicationFailure), if it did. */
export function refusalOf(err: unknown): ApplicationFailure | undefined {
  return err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure ? err.cause : undefined;
}

/** No worker answered in time. */
export function noAnswer(timeoutMs: number, what: string): HttpProblem {
  return notApplied(`no AIRE worker answered within ${timeoutMs} ms, so ${what}`);
}

/**
 * Asks the incident's workflow (an update) and returns its answer, or the problem the API answers
 * instead: the workflow's refusal as 409 or 403 with its reason, an ended workflow as 409, and no
 * worker within `timeoutMs` as 503 with Retry-After.
 */
export async function askWorkflow<T>(temporal: Client, timeoutMs: number, ask: () => Promise<T>): Promise<T> {
  try {
    return await temporal.withDeadline(Date.now() + timeoutMs, ask);
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) throw noAnswer(timeoutMs, 'the request was not applied');
    if (err instanceof WorkflowNotFoundError) throw ended();
    const refusal = refusalOf(err);
    if (refusal?.type === REFUSED_CONFLICT) throw conflict(refusal.message);
    if (refusal?.type === REFUSED_FORBIDDEN) throw new HttpProblem(403, 'Forbidden', refusal.message);
    throw err;
  }
}
