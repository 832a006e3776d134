import { ApplicationFailure } from '@temporalio/activity';
import { type Expect, type Healthy, verifySpec } from '../../domain/actions/verify';
import { heartbeat, pause } from '../activity-context';
import { NON_RETRYABLE, assertEgressAllowed, callOut } from '../egress';
import { ActionContext, defineExecutor } from './types';

export interface HealthCheck {
  url: string;
  headers?: Record<string, string>;
  interval: number;
  timeout: number;
  expect?: Expect;
}

/** One check may take this long at most, */
const MAX_CHECK_MS = 10_000;
/** and at least this long, even when the deadline is nearer (so the last check can answer). */
const MIN_CHECK_MS = 1_000;

/** The value at a dotted path (`checks.db.status`, `items.0.state`), or undefined. */
function valueAt(body: unknown, path: string): unknown {
  let value: unknown = body;
  for (const segment of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function isFinal(err: unknown): boolean {
  return err instanceof ApplicationFailure && (err.type === NON_RETRYABLE.egressDenied || err.type === NON_RETRYABLE.invalidParams);
}

/**
 * Checks `check.url` every `interval` until it answers 2xx (holding `expect`, if given) or
 * `timeout` passes, heartbeating meanwhile so the activity can be cancelled. Any answer or error
 * from the target counts as "not healthy yet"; a URL off the egress allowlist fails at once,
 * without a connection. Timing out throws a retryable Error.
 */
export async function pollHealth(ctx: ActionContext, check: HealthCheck, idempotencyKey: string): Promise<Healthy> {
  assertEgressAllowed(check.url, ctx.egress.allowlist);
  const started = Date.now();
  const deadline = started + check.timeout;
  let checks = 0;
  let problem = 'no answer yet';
  for (;;) {
    checks += 1;
    heartbeat({ checks, problem });
    try {
      const timeoutMs = Math.min(MAX_CHECK_MS, Math.max(MIN_CHECK_MS, deadline - Date.now()));
      const res = await callOut({ method: 'GET', url: check.url, headers: check.headers, idempotencyKey, timeoutMs }, ctx.egress.allowlist);
      const actual = check.expect ? valueAt(res.body, check.expect.path) : undefined;
      if (!check.expect || actual === check.expect.equals) {
        return { healthy: true, status: res.status, checks, elapsedMs: Date.now() - started };
      }
      problem = `answered ${res.status} with ${check.expect.path} = ${JSON.stringify(actual) ?? 'nothing'}, expected ${JSON.stringify(check.expect.equals)}`;
    } catch (err) {
      if (isFinal(err)) throw err;
      problem = err instanceof Error ? err.message : String(err);
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await pause(Math.min(check.interval, left), { checks, problem });
  }
  throw new Error(`${check.url} was not healthy within ${check.timeout} ms (${checks} checks); last: ${problem}`);
}

/** `verify` (src/domain/actions/verify.ts): waits until a health endpoint says the service is healthy, or fails the step when it does not in time. */
export const verifyExecutor = defineExecutor(verifySpec, {
  async execute(ctx, params) {
    return pollHealth(ctx, params, ctx.idempotencyKey);
  },
});
