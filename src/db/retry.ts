/**
 * Telling "PostgreSQL is away" from "PostgreSQL said no", and waiting out the former.
 *
 * A connection that was refused, reset or timed out says nothing about the statement: the same
 * transaction, on a new connection once the database is back, will do. Anything else (a
 * constraint, a permission, a bug) would fail the same way again and is not retried.
 */

/** Node socket errors and PostgreSQL SQLSTATEs that mean the connection, not the statement, failed. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01', // admin_shutdown: the server is being stopped
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '53300', // too_many_connections
]);

/** What `pg` says when a connection ended, never came, or went silent past `query_timeout` (src/db/pool.ts). */
const CONNECTION_MESSAGES =
  /Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect|Query read timeout|connect ECONNREFUSED/i;

export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown } | null | undefined;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : undefined;
  // Class 08: connection exception (08000, 08001, 08003, 08004, 08006, 08007, 08P01).
  if (code && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  if (typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message)) return true;
  // Connecting to a name with several addresses fails with an AggregateError of one error each.
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isConnectionError);
}

export interface RetryOptions {
  /** First pause, in ms (default 250); doubled after each failure up to `maxDelayMs` (default 5 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * How to wait between tries. Inside an activity it must heartbeat and reject once the activity
   * is cancelled or times out: that is what ends the retrying.
   */
  sleep?: (ms: number) => Promise<void>;
  /** Called before each pause, with the error and the number of tries so far. */
  onRetry?: (err: unknown, tries: number, delayMs: number) => void;
}

/**
 * Runs `work` until it succeeds or fails with something other than a connection error, pausing
 * between tries (exponential backoff). `work` must be safe to run again after a connection error,
 * including one that came after PostgreSQL had committed it (an answer lost on the way back): an
 * upsert, an insert that ignores its duplicate key.
 */
export async function retryOnConnectionError<T>(work: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delay = opts.initialDelayMs ?? 250;
  for (let tries = 1; ; tries += 1) {
    try {
      return await work();
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      opts.onRetry?.(err, tries, delay);
      await sleep(delay);
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 5_000);
    }
  }
}
