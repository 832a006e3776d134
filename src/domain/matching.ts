import { Script, createContext } from 'node:vm';
import safeRegex from 'safe-regex2';
import { IncidentDraft } from './incident';
import { Runbook, RunbookVersion } from './runbook';
import { isAtLeast } from './severity';

export const UNSAFE_PATTERN =
  'may backtrack catastrophically (a quantifier inside a quantified group, e.g. (a+)+, or too many quantifiers): rewrite it without nesting quantifiers';

/**
 * Whether a title pattern is free of the nesting that makes a backtracking regex take exponential
 * time (`(a+)+$` on "aaaa…!"), as safe-regex2 judges it (star height at most 1, at most 25
 * quantifiers). An invalid pattern counts as safe here: the runbook schema reports it. Checked when
 * a runbook is saved (validateRunbook), not by the schema, so runbooks stored before the check
 * still load (their unsafe patterns then never match, see testTitle).
 */
export function isSafePattern(pattern: string): boolean {
  try {
    new RegExp(pattern, 'i');
  } catch {
    return true;
  }
  try {
    return safeRegex(pattern);
  } catch {
    return false;
  }
}

/**
 * Title patterns are checked when a runbook is saved (valid, no nested quantifiers), but a runbook
 * stored before that check, or a pattern the static check cannot judge (`(a|aa)+$`), must still not
 * stall intake or a dry run: patterns are re-checked here, see only the first
 * MAX_MATCH_TITLE_LENGTH characters of the title, and each test runs under node:vm's timeout, which
 * interrupts a running regex; a pattern that takes longer (twice, see testTitle) counts as not matching.
 */
export const MAX_MATCH_TITLE_LENGTH = 300;
export const TITLE_MATCH_TIME_LIMIT_MS = 100;

const sandbox = createContext({ re: /(?:)/, input: '' });
const runTest = new Script('re.test(input)');
const compiled = new Map<string, RegExp | 'unsafe'>();

function compiledTitlePattern(pattern: string): RegExp | 'unsafe' {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = isSafePattern(pattern) ? new RegExp(pattern, 'i') : 'unsafe';
    if (compiled.size >= 1_000) compiled.delete(compiled.keys().next().value as string);
    compiled.set(pattern, re);
  }
  return re;
}

function boundedTest(re: RegExp, input: string, limitMs: number): boolean | 'timeout' {
  sandbox.re = re;
  sandbox.input = input;
  try {
    return runTest.runInContext(sandbox, { timeout: limitMs }) === true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
    throw err;
  } finally {
    sandbox.input = '';
  }
}

/**
 * Whether the title matches, or why the pattern was not run to the end. The bound is wall-clock
 * time, so a busy machine could cut off an innocent pattern: a timeout is tried once more with ten
 * times the bound before it counts (a pattern that backtracks catastrophically needs far more).
 */
export function testTitle(pattern: string, title: string, limitMs = TITLE_MATCH_TIME_LIMIT_MS): boolean | 'unsafe' | 'timeout' {
  const re = compiledTitlePattern(pattern);
  if (re === 'unsafe') return re;
  const input = title.slice(0, MAX_MATCH_TITLE_LENGTH);
  const first = boundedTest(re, input, limitMs);
  return first === 'timeout' ? boundedTest(re, input, limitMs * 10) : first;
}

export interface MatchResult {
  matched: boolean;
  /** Why it matched (each condition met) or why not (the first condition that failed). */
  reasons: string[];
  /** How many trigger conditions the runbook sets: more conditions met means a better fit. */
  specificity: number;
}

type Check = (runbook: Runbook, incident: IncidentDraft) => { applies: boolean; ok: boolean; reason: string };

const CHECKS: Check[] = [
  (rb) => ({ applies: true, ok: rb.enabled, reason: rb.enabled ? 'enabled' : 'runbook is disabled' }),
  (rb, inc) => ({
    applies: rb.severityScope !== undefined,
    ok: rb.severityScope?.includes(inc.severity) ?? true,
    reason: `severity ${inc.severity} ${rb.severityScope?.includes(inc.severity) ? 'is' : 'is not'} in scope [${rb.severityScope?.join(', ')}]`,
  }),
  (rb, inc) => ({
    applies: rb.triggers.sources !== undefined,
    ok: rb.triggers.sources?.includes(inc.source) ?? true,
    reason: `source ${inc.source} ${rb.triggers.sources?.includes(inc.source) ? 'is' : 'is not'} one of [${rb.triggers.sources?.join(', ')}]`,
  }),
  (rb, inc) => {
    const min = rb.triggers.minSeverity;
    const ok = min === undefined || isAtLeast(inc.severity, min);
    return { applies: min !== undefined, ok, reason: `severity ${inc.severity} ${ok ? 'is' : 'is below'} at least ${min}` };
  },
  (rb, inc) => {
    const pattern = rb.triggers.titlePattern;
    if (pattern === undefined) return { applies: false, ok: true, reason: '' };
    const outcome = testTitle(pattern, inc.title);
    if (outcome === 'unsafe') return { applies: true, ok: false, reason: `title pattern /${pattern}/i is not used: it ${UNSAFE_PATTERN}` };
    if (outcome === 'timeout') {
      return {
        applies: true,
        ok: false,
        reason: `title pattern /${pattern}/i took longer than ${TITLE_MATCH_TIME_LIMIT_MS * 10} ms and counts as not matching`,
      };
    }
    return { applies: true, ok: outcome, reason: `title ${outcome ? 'matches' : 'does not match'} /${pattern}/i` };
  },
  (rb, inc) => {
    const categories = rb.triggers.categories;
    const ok = categories === undefined || (inc.category !== undefined && categories.includes(inc.category));
    return {
      applies: categories !== undefined,
      ok,
      reason: `category ${inc.category ?? '(none)'} ${ok ? 'is' : 'is not'} one of [${categories?.join(', ')}]`,
    };
  },
  (rb, inc) => {
    const labels = Object.entries(rb.triggers.labels ?? {});
    const missing = labels.filter(([k, v]) => inc.labels[k] !== v).map(([k, v]) => `${k}=${v}`);
    return {
      applies: labels.length > 0,
      ok: missing.length === 0,
      reason: missing.length === 0 ? `labels match` : `labels missing: ${missing.join(', ')}`,
    };
  },
];

export function matchRunbook(runbook: Runbook, incident: IncidentDraft): MatchResult {
  const reasons: string[] = [];
  let specificity = 0;
  for (const check of CHECKS) {
    const { applies, ok, reason } = check(runbook, incident);
    if (!applies) continue;
    if (!ok) return { matched: false, reasons: [reason], specificity: 0 };
    reasons.push(reason);
    specificity += 1;
  }
  return { matched: true, reasons, specificity };
}

export interface Selection {
  selected: RunbookVersion | null;
  reasons: string[];
}

/**
 * Picks the runbook for an incident. A runbook named on the incident wins outright (if enabled);
 * otherwise the matching runbook with the most trigger conditions, then the highest priority, then
 * the lowest id — a total order, so the same inputs always pick the same runbook.
 */
export function selectRunbook(candidates: RunbookVersion[], incident: IncidentDraft): Selection {
  if (incident.runbookId !== undefined) {
    const named = candidates.find((c) => c.runbook.id === incident.runbookId);
    if (!named) return { selected: null, reasons: [`runbook "${incident.runbookId}" was asked for but does not exist`] };
    if (!named.runbook.enabled) return { selected: null, reasons: [`runbook "${incident.runbookId}" was asked for but is disabled`] };
    return { selected: named, reasons: [`runbook "${incident.runbookId}" was asked for by the incident`] };
  }
  const scored = candidates
    .map((candidate) => ({ candidate, result: matchRunbook(candidate.runbook, incident) }))
    .filter((s) => s.result.matched)
    .sort(
      (a, b) =>
        b.result.specificity - a.result.specificity ||
        b.candidate.runbook.priority - a.candidate.runbook.priority ||
        a.candidate.runbook.id.localeCompare(b.candidate.runbook.id),
    );
  const best = scored[0];
  if (!best) return { selected: null, reasons: [`none of ${candidates.length} runbook(s) matched`] };
  return {
    selected: best.candidate,
    reasons: [`runbook "${best.candidate.runbook.id}" v${best.candidate.version} matched: ${best.result.reasons.join('; ')}`],
  };
}
