import { z } from 'zod';
import { IncidentDraft, SlugSchema } from './incident';
import { ImpactContextSchema, PrioritySchema, Severity, SeveritySchema, classifySeverity, severityFromPriority, severityFromScore } from './severity';

const idText = z.string().trim().min(1).max(200);
const JsonObjectSchema = z.record(z.string(), z.unknown());

/** A risk forecast from UPEWE. */
export const ForecastSchema = z.object({
  id: idText,
  riskType: z.string().trim().min(1).max(200),
  confidence: z.number().min(0).max(100),
  recommendedAction: z.string().trim().min(1).max(500),
  category: z.string().trim().min(1).max(100).optional(),
  affectedServices: z.array(z.string().trim().min(1).max(200)).max(100).optional(),
  rawFeatures: JsonObjectSchema.default({}),
  impact: ImpactContextSchema.optional(),
  requireApproval: z.boolean().optional(),
});
export type Forecast = z.infer<typeof ForecastSchema>;

/** A safety event from ASRS or a cognitive flag from MCSE. */
export const SafetyEventSchema = z.object({
  id: idText,
  source: z.enum(['asrs', 'mcse']),
  riskScore: z.number().min(0).max(100),
  outcome: z.string().trim().min(1).max(200),
  actionType: z.string().trim().min(1).max(200),
  category: z.string().trim().min(1).max(100).optional(),
  affectedServices: z.array(z.string().trim().min(1).max(200)).max(100).optional(),
  details: JsonObjectSchema.default({}),
  impact: ImpactContextSchema.optional(),
  requireApproval: z.boolean().optional(),
});
export type SafetyEvent = z.infer<typeof SafetyEventSchema>;

/** An incident declared by a person or a script. Severity may be given as a word or as P0–P4. */
export const DeclarationSchema = z
  .object({
    title: z.string().trim().min(1).max(300),
    severity: SeveritySchema.optional(),
    priority: PrioritySchema.optional(),
    summary: z.string().max(10_000).optional(),
    category: z.string().trim().min(1).max(100).optional(),
    affectedServices: z.array(z.string().trim().min(1).max(200)).max(100).optional(),
    labels: z.record(z.string().max(100), z.string().max(500)).optional(),
    context: JsonObjectSchema.default({}),
    impact: ImpactContextSchema.optional(),
    dedupKey: z.string().trim().min(1).max(200).optional(),
    runbookId: SlugSchema.optional(),
    requireApproval: z.boolean().optional(),
  })
  .refine((d) => d.severity !== undefined || d.priority !== undefined, {
    message: 'give a severity (critical, high, medium, low, info) or a priority (P0–P4)',
    path: ['severity'],
  });
export type Declaration = z.infer<typeof DeclarationSchema>;

/** Source fields may be longer than an incident's title (300) or category (100) allow: cut, never reject. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function classified(base: Severity, impact: Forecast['impact']): { severity: Severity; reasons: string[] } {
  return impact ? classifySeverity(base, impact) : { severity: base, reasons: [] };
}

export function draftFromForecast(forecast: Forecast): IncidentDraft {
  const base = severityFromScore(forecast.confidence);
  const { severity, reasons } = classified(base, forecast.impact);
  return {
    source: 'upewe',
    dedupKey: `forecast:${forecast.id}`,
    severity,
    category: clip(forecast.category ?? forecast.riskType, 100),
    title: clip(`Predicted ${forecast.riskType}: ${forecast.recommendedAction}`, 300),
    summary: `UPEWE forecast with ${forecast.confidence}% confidence predicting ${forecast.riskType}`,
    affectedServices: forecast.affectedServices ?? [],
    labels: {},
    context: {
      ...forecast.rawFeatures,
      forecast: { id: forecast.id, riskType: forecast.riskType, confidence: forecast.confidence, recommendedAction: forecast.recommendedAction },
    },
    linkedForecastId: forecast.id,
    requireApproval: forecast.requireApproval ?? false,
    severityReasons: [`confidence ${forecast.confidence} → ${base}`, ...reasons],
  };
}

export function draftFromSafetyEvent(event: SafetyEvent): IncidentDraft {
  const base = severityFromScore(event.riskScore);
  const { severity, reasons } = classified(base, event.impact);
  return {
    source: event.source,
    dedupKey: `${event.source}:${event.id}`,
    severity,
    category: clip(event.category ?? event.actionType, 100),
    title: clip(`${event.source.toUpperCase()} ${event.outcome}: ${event.actionType}`, 300),
    summary: `Safety event from ${event.source} with risk score ${event.riskScore}`,
    affectedServices: event.affectedServices ?? [],
    labels: {},
    context: { ...event.details, event: { id: event.id, riskScore: event.riskScore, outcome: event.outcome, actionType: event.actionType } },
    linkedEventId: event.id,
    requireApproval: event.requireApproval ?? false,
    severityReasons: [`risk score ${event.riskScore} → ${base}`, ...reasons],
  };
}

/** `fallbackKey` makes a declaration without a dedup key its own incident. */
export function draftFromDeclaration(declaration: Declaration, fallbackKey: string): IncidentDraft {
  // The refine above guarantees one of the two is present.
  const base = declaration.severity ?? severityFromPriority(declaration.priority ?? 'P2');
  const { severity, reasons } = classified(base, declaration.impact);
  return {
    source: 'manual',
    dedupKey: declaration.dedupKey ? `manual:${declaration.dedupKey}` : `manual:${fallbackKey}`,
    severity,
    category: declaration.category,
    title: declaration.title,
    summary: declaration.summary,
    affectedServices: declaration.affectedServices ?? [],
    labels: declaration.labels ?? {},
    context: declaration.context,
    runbookId: declaration.runbookId,
    requireApproval: declaration.requireApproval ?? false,
    severityReasons: [declaration.severity ? `declared ${declaration.severity}` : `priority ${declaration.priority} → ${base}`, ...reasons],
  };
}
