import { z } from 'zod';
import { defined } from './must';
import { SEVERITIES, isAtLeast, raiseOneLevel } from './severity-scale';

export { SEVERITIES, DEFAULT_RESPONSE_SLA_MS, isAtLeast, maxSeverity, raiseOneLevel, severityRank } from './severity-scale';
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

export const PrioritySchema = z.enum(['P0', 'P1', 'P2', 'P3', 'P4']);
export type Priority = z.infer<typeof PrioritySchema>;

/** P0–P4 map one to one onto critical…info. */
export function severityFromPriority(priority: Priority): Severity {
  return defined(SEVERITIES[PrioritySchema.options.indexOf(priority)], `the severity of priority ${priority}`);
}

/** Forecast confidence and safety risk scores (0–100) share one scale. */
export function severityFromScore(score: number): Severity {
  if (score >= 80) return 'critical';
  if (score >= 60) return 'high';
  if (score >= 40) return 'medium';
  return 'low';
}

export const ImpactContextSchema = z.object({
  securityBreach: z.boolean().optional(),
  dataAtRisk: z.boolean().optional(),
  complianceImpact: z.boolean().optional(),
  /** Service availability in percent (0–100). */
  availability: z.number().min(0).max(100).optional(),
  affectedUsers: z.number().int().min(0).optional(),
  /** Incidents related to this one in the last 24 hours. */
  relatedIncidents24h: z.number().int().min(0).optional(),
});
export type ImpactContext = z.infer<typeof ImpactContextSchema>;

export interface Classification {
  severity: Severity;
  reasons: string[];
}

/**
 * Classification only ever raises severity: context can make an incident worse than its source
 * said, never better, so a noisy upstream cannot talk AIRE out of paging someone.
 */
export function classifySeverity(base: Severity, impact: ImpactContext): Classification {
  let severity = base;
  const reasons: string[] = [];
  const floor = (min: Severity, why: string): void => {
    if (!isAtLeast(severity, min)) {
      severity = min;
      reasons.push(why);
    }
  };
  if (impact.securityBreach) floor('high', 'security breach: at least high');
  if (impact.dataAtRisk) floor('high', 'data at risk: at least high');
  if (impact.complianceImpact) floor('high', 'compliance impact: at least high');
  if (impact.availability !== undefined) {
    if (impact.availability < 50) floor('critical', `availability ${impact.availability}% < 50%: critical`);
    else if (impact.availability < 80) floor('high', `availability ${impact.availability}% < 80%: at least high`);
  }
  if (impact.affectedUsers !== undefined) {
    if (impact.affectedUsers > 10_000) floor('critical', `${impact.affectedUsers} users affected (> 10,000): critical`);
    else if (impact.affectedUsers > 1_000) floor('high', `${impact.affectedUsers} users affected (> 1,000): at least high`);
  }
  if ((impact.relatedIncidents24h ?? 0) > 3) {
    const raised = raiseOneLevel(severity);
    if (raised !== severity) {
      reasons.push(`${impact.relatedIncidents24h} related incidents in 24 h: raised from ${severity} to ${raised}`);
      severity = raised;
    }
  }
  return { severity, reasons };
}
