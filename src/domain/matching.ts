import { IncidentDraft } from './incident';
import { Runbook, RunbookVersion } from './runbook';
import { isAtLeast } from './severity';

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
    const ok = pattern === undefined || new RegExp(pattern, 'i').test(inc.title);
    return { applies: pattern !== undefined, ok, reason: `title ${ok ? 'matches' : 'does not match'} /${pattern}/i` };
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
