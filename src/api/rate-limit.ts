import type { RequestHandler } from 'express';
import { principalOf } from './auth';
import type { Deps } from './deps';
import { HttpProblem } from './problem';

/**
 * Per-key rate limits: a token bucket per API key and limit, in this process. A bucket holds a
 * minute's worth of requests (so bursts up to the limit pass) and refills continuously at
 * limit / 60 per second. Over the limit the API answers 429 problem+json with Retry-After (whole
 * seconds until a token is back). With several API replicas each keeps its own buckets, so the
 * effective limit is the limit times the replicas: a brake on a runaway or hostile client, not a
 * quota.
 */
export type LimitName = 'intake' | 'approvals';

const CONFIG: Record<LimitName, 'AIRE_RATE_LIMIT_INTAKE' | 'AIRE_RATE_LIMIT_APPROVALS'> = {
  intake: 'AIRE_RATE_LIMIT_INTAKE',
  approvals: 'AIRE_RATE_LIMIT_APPROVALS',
};

const MINUTE_MS = 60_000;
/** Buckets idle this long are full again: forget them, so memory follows the keys in use. */
const IDLE_MS = 2 * MINUTE_MS;

interface Bucket {
  tokens: number;
  at: number;
}

export interface TakeResult {
  allowed: boolean;
  /** Seconds until the next request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

/** Token buckets for one limit, by key. `perMinute` 0 turns the limit off. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string): TakeResult {
    if (this.perMinute <= 0) return { allowed: true, retryAfterSeconds: 0 };
    const now = this.now();
    this.sweep(now);
    const refillPerMs = this.perMinute / MINUTE_MS;
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * refillPerMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)) };
  }

  /** How many keys have a bucket (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < IDLE_MS) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) if (now - bucket.at > IDLE_MS) this.buckets.delete(key);
  }
}

/** One set of buckets per app (per `deps`) and limit, shared by every route under that limit. */
const perApp = new WeakMap<Deps, Map<LimitName, TokenBuckets>>();

function bucketsFor(deps: Deps, name: LimitName): TokenBuckets {
  let limits = perApp.get(deps);
  if (!limits) {
    limits = new Map();
    perApp.set(deps, limits);
  }
  let buckets = limits.get(name);
  if (!buckets) {
    buckets = new TokenBuckets(deps.config[CONFIG[name]]);
    limits.set(name, buckets);
  }
  return buckets;
}

/** Middleware, after the key is known: 429 with Retry-After when this key is over the `name` limit. */
export function rateLimit(deps: Deps, name: LimitName): RequestHandler {
  const buckets = bucketsFor(deps, name);
  return (_req, res, next) => {
    const { allowed, retryAfterSeconds } = buckets.take(principalOf(res).keyId);
    if (allowed) return next();
    throw new HttpProblem(
      429,
      'Too Many Requests',
      `this API key is over its ${name} rate limit of ${buckets.perMinute} requests per minute (${CONFIG[name]}); retry after ${retryAfterSeconds} s`,
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    );
  };
}
