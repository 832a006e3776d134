import { DurationSchema, parseDuration } from '../../src/domain/duration';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['1ms', 1],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['0s', 0],
    ['  30s  ', 30_000],
    ['007s', 7_000],
  ])('%p -> %p', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', '1.5s', '-1s', '+1s', '5M', '5S', '1d', 's', '30 s', '5m30s', 'ms', '1e3ms', 'abc', '10sec'])('%p -> undefined', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('reads "ms" as milliseconds, not minutes', () => {
    expect(parseDuration('5ms')).toBe(5);
    expect(parseDuration('5m')).toBe(300_000);
  });
});

describe('DurationSchema', () => {
  it('parses strings to milliseconds', () => {
    expect(DurationSchema.parse('30s')).toBe(30_000);
    expect(DurationSchema.parse('500ms')).toBe(500);
    expect(DurationSchema.parse('2h')).toBe(7_200_000);
  });

  it('passes positive integer milliseconds through', () => {
    expect(DurationSchema.parse(1)).toBe(1);
    expect(DurationSchema.parse(45_000)).toBe(45_000);
  });

  it.each([0, -5, 1.5, Number.NaN])('rejects the number %p', (n) => {
    expect(DurationSchema.safeParse(n).success).toBe(false);
  });

  it.each(['0s', '0ms', 'soon', '10', '1.5s'])('rejects the string %p with a helpful message', (text) => {
    const result = DurationSchema.safeParse(text);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(`"${text}" is not a duration: write e.g. 500ms, 30s, 5m or 2h`);
  });

  it.each([true, null, undefined, {}, ['30s']])('rejects the non-duration %p', (value) => {
    expect(DurationSchema.safeParse(value).success).toBe(false);
  });
});
