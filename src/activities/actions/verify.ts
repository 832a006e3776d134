import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { DurationSchema } from '../../domain/duration';
import { heartbeat, pause } from '../activity-context';
import { NON_RETRYABLE, assertEgressAllowed, callOut } from '../egress';
import { ActionContext, defineAction } from './types';

/** `{"path": "status", "equals": "ok"}`: the JSON answer must hold `equals` at the dotted `path`. */
export const ExpectSchema = z
  .object({
    path: z.string().min(1).max(200),
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  })
  .strict();
export type Expect = z.infer<typeof ExpectSchema>;

/** How to poll a health endpoint; shared with the actions that check health after acting. */
export const PollSchema = z
  .object({
    /** Time between checks. */
    interval: DurationSchema.default(5_000),
    /**
     * How long to keep checking before giving up (this attempt). The default stays under a step's
     * default 30 s timeout, so the step fails with "not healthy" rather than being cut off.
     */
    timeout: DurationSchema.default(20_000),
    expect: ExpectSchema.optional(),
  })
  .strict();

const Params = PollSchema.extend({
  url: z.string().url(),
  headers: z.record(z.string(), z.string()).optional(),
}).strict();

export interface HealthCheck {
  url: string;
  headers?: Record<string, string>;
  interval: number;
  timeout: number;
  expect?: Expect;
}

export interface Healthy {
  healthy: true;
  status: number;
  checks: number;
  elapsedMs: number;
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
  assertEgressAllowed(check.url, ctx.config.AIRE_EGRESS_ALLOWLIST);
  const started = Date.now();
  const deadline = started + check.timeout;
  let checks = 0;
  let problem = 'no answer yet';
  for (;;) {
    checks += 1;
    heartbeat({ checks, problem });
    try {
      const timeoutMs = Math.min(MAX_CHECK_MS, Math.max(MIN_CHECK_MS, deadline - Date.now()));
      const res = await callOut({ method: 'GET', url: check.url, headers: check.headers, idempotencyKey, timeoutMs }, ctx.config.AIRE_EGRESS_ALLOWLIST);
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

/** Waits until a health endpoint says the service is healthy, or fails the step when it does not in time. */
export const verifyAction = defineAction({
  type: 'verify',
  description: 'Poll a health endpoint until it answers 2xx (optionally with a JSON field holding a value) or time out',
  params: Params,
  async execute(ctx, params) {
    return pollHealth(ctx, params, ctx.idempotencyKey);
  },
  describeCompensation: () => 'nothing: verify only reads',
});
