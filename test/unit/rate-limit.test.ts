import { TokenBuckets } from '../../src/api/rate-limit';

describe('TokenBuckets', () => {
  let now = 0;
  const clock = (): number => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('lets a burst of up to the per-minute limit through, then refuses with the seconds until the next token', () => {
    const buckets = new TokenBuckets(6, clock);
    for (let i = 0; i < 6; i++) expect(buckets.take('k')).toEqual({ allowed: true, retryAfterSeconds: 0 });
    // 6 per minute: one token every 10 s.
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    now += 4_000;
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    now += 6_000;
    expect(buckets.take('k').allowed).toBe(true);
    expect(buckets.take('k').allowed).toBe(false);
  });

  it('keeps one bucket per key', () => {
    const buckets = new TokenBuckets(1, clock);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a').allowed).toBe(false);
    expect(buckets.take('b').allowed).toBe(true);
  });

  it('refills continuously up to the limit, never beyond', () => {
    const buckets = new TokenBuckets(60, clock);
    for (let i = 0; i < 60; i++) buckets.take('k');
    now += 3_600_000;
    let allowed = 0;
    while (buckets.take('k').allowed) allowed += 1;
    expect(allowed).toBe(60);
  });

  it('0 turns the limit off', () => {
    const buckets = new TokenBuckets(0, clock);
    for (let i = 0; i < 10_000; i++) expect(buckets.take('k').allowed).toBe(true);
    expect(buckets.size).toBe(0);
  });

  it('forgets keys idle long enough to be full again', () => {
    const buckets = new TokenBuckets(10, clock);
    for (let i = 0; i < 100; i++) buckets.take(`key-${i}`);
    expect(buckets.size).toBe(100);
    now += 10 * 60_000;
    buckets.take('fresh');
    expect(buckets.size).toBe(1);
  });
});
