import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * Load generation: bounded loops only. Every loop has a fixed number of iterations and a deadline,
 * stops by itself, and sends only to 127.0.0.1.
 */

export interface Answer {
  status: number;
  body: unknown;
  ms: number;
  /** performance.now() when the request was sent and when its answer arrived. */
  sentAt: number;
  doneAt: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** A JSON request to a loopback address (anything else is refused). */
export function call(method: string, url: string, key: string | undefined, body?: unknown): Promise<Answer> {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') return Promise.reject(new Error(`the bench only sends to 127.0.0.1, not ${target.hostname}`));
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const sentAt = performance.now();
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        agent,
        method,
        host: '127.0.0.1',
        port: target.port,
        path: `${target.pathname}${target.search}`,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const doneAt = performance.now();
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? (JSON.parse(text) as unknown) : null;
          } catch {
            // keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, ms: doneAt - sentAt, sentAt, doneAt });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface LoopResult<T> {
  results: (T | undefined)[];
  errors: string[];
  elapsedMs: number;
  /** Iterations not started because the deadline passed. */
  notStarted: number;
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; stops at `deadlineMs` (no new starts). */
export async function closedLoop<T>(count: number, concurrency: number, deadlineMs: number, task: (i: number) => Promise<T>): Promise<LoopResult<T>> {
  const started = performance.now();
  const results: (T | undefined)[] = new Array<T | undefined>(count).fill(undefined);
  const errors: string[] = [];
  let next = 0;
  let notStarted = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      if (performance.now() - started > deadlineMs) {
        notStarted += 1;
        continue;
      }
      try {
        results[i] = await task(i);
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
  return { results, errors, elapsedMs: performance.now() - started, notStarted };
}

/**
 * Open loop: starts `task(i)` at `ratePerS` for `count` iterations, never more than `maxInFlight`
 * at once (a start is skipped, and counted, when the cap is reached), and stops at `deadlineMs`.
 */
export async function openLoop<T>(
  count: number,
  ratePerS: number,
  maxInFlight: number,
  deadlineMs: number,
  task: (i: number) => Promise<T>,
): Promise<LoopResult<T> & { skipped: number }> {
  const started = performance.now();
  const results: (T | undefined)[] = new Array<T | undefined>(count).fill(undefined);
  const errors: string[] = [];
  const running = new Set<Promise<void>>();
  let skipped = 0;
  let notStarted = 0;
  const interval = 1000 / ratePerS;
  for (let i = 0; i < count; i += 1) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (performance.now() - started > deadlineMs) {
      notStarted = count - i;
      break;
    }
    if (running.size >= maxInFlight) {
      skipped += 1;
      continue;
    }
    const p: Promise<void> = task(i)
      .then((r) => {
        results[i] = r;
      })
      .catch((err: unknown) => {
        errors.push(err instanceof Error ? err.message : String(err));
      })
      .finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all(running);
  return { results, errors, elapsedMs: performance.now() - started, notStarted, skipped };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await probe()) return true;
    await sleep(everyMs);
  }
  return false;
}
