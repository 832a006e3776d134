import { Script, createContext } from 'node:vm';
import type { RegexTester } from '../domain/rules';

/**
 * A time bound on rule regexes. Rules are checked when they are saved (safe-regex2 refuses nested
 * quantifiers, patterns are at most 500 characters) and only ever see the first 10 KB of a field,
 * but a static check cannot catch every pattern that backtracks badly (`(a|aa)+$` passes it). So
 * each test runs under node:vm's timeout, which interrupts a running regex: a pattern that takes
 * longer than the bound counts as no match instead of stalling intake.
 *
 * The bound is wall-clock time, so a busy machine can make an innocent test look slow; a test that
 * runs out of time is tried once more with a longer bound before it is given up, so a detection is
 * not lost to a scheduling hiccup. A genuinely catastrophic pattern costs both bounds, at most.
 */

export const REGEX_TIME_LIMITS_MS = [100, 250] as const;

const sandbox = createContext({ re: /(?:)/, input: '' });
const test = new Script('re.test(input)');

function once(re: RegExp, input: string, limitMs: number): boolean | 'timeout' {
  sandbox.re = re;
  sandbox.input = input;
  try {
    return test.runInContext(sandbox, { timeout: limitMs }) === true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
    throw err;
  } finally {
    sandbox.input = '';
  }
}

/** A RegexTester that gives up after each of `limitsMs` in turn (milliseconds). */
export function boundedRegexTester(limitsMs: readonly number[] = REGEX_TIME_LIMITS_MS): RegexTester {
  return (re, input) => {
    let result: boolean | 'timeout' = 'timeout';
    for (const limit of limitsMs) {
      result = once(re, input, limit);
      if (result !== 'timeout') return result;
    }
    return result;
  };
}
