import { Context } from '@temporalio/activity';

/**
 * The Temporal activity context when running inside an activity (a worker or
 * MockActivityEnvironment), undefined otherwise, e.g. when an action is called directly.
 */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Reports progress to Temporal; this is also how a running activity learns it was cancelled. */
export function heartbeat(details?: unknown): void {
  activityContext()?.heartbeat(details);
}

/** Aborts when the activity is cancelled; never outside an activity. */
export function cancellationSignal(): AbortSignal | undefined {
  return activityContext()?.cancellationSignal;
}

const HEARTBEAT_EVERY_MS = 1_000;

/**
 * Sleeps `ms`, heartbeating about once a second so a cancellation reaches the activity, and
 * rejects with a CancelledFailure as soon as it is cancelled. Outside an activity it just sleeps.
 */
export async function pause(ms: number, details?: unknown): Promise<void> {
  const context = activityContext();
  if (!context) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return;
  }
  const until = Date.now() + ms;
  for (let left = ms; left > 0; left = until - Date.now()) {
    context.heartbeat(details);
    await context.sleep(Math.min(left, HEARTBEAT_EVERY_MS));
  }
}
