/**
 * The severity scale and comparisons on it, without schemas: the incident workflow imports this,
 * and every module a workflow imports is instantiated again for each cached incident, so keeping
 * zod out of here keeps an incident's memory and replay cost small (docs/performance.md).
 */

/** Ordered from most to least severe: index 0 is the worst. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Higher number = more severe, so comparisons read naturally (`rank(a) >= rank(b)`). */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(severity);
}

export function isAtLeast(severity: Severity, floor: Severity): boolean {
  return severityRank(severity) >= severityRank(floor);
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

/** One level more severe, capped at critical. */
export function raiseOneLevel(severity: Severity): Severity {
  const index = SEVERITIES.indexOf(severity);
  const raised = SEVERITIES[Math.max(0, index - 1)];
  if (raised === undefined) throw new Error(`no severity above ${severity}`);
  return raised;
}

/** Response SLA (time to acknowledge) per severity, in milliseconds. */
export const DEFAULT_RESPONSE_SLA_MS: Record<Severity, number> = {
  critical: 15 * 60_000,
  high: 60 * 60_000,
  medium: 4 * 60 * 60_000,
  low: 24 * 60 * 60_000,
  info: 24 * 60 * 60_000,
};
