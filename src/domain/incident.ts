import { z } from 'zod';
import { SeveritySchema } from './severity';

export const INCIDENT_SOURCES = ['upewe', 'asrs', 'mcse', 'hsoe', 'alertmanager', 'webhook', 'manual', 'system'] as const;
export const IncidentSourceSchema = z.enum(INCIDENT_SOURCES);
export type IncidentSource = z.infer<typeof IncidentSourceSchema>;

export const INCIDENT_STATUSES = [
  'open',
  'acknowledged',
  'investigating',
  'remediating',
  'awaiting_approval',
  'mitigated',
  'resolved',
  'closed',
  'failed',
  'rolled_back',
] as const;
export const IncidentStatusSchema = z.enum(INCIDENT_STATUSES);
export type IncidentStatus = z.infer<typeof IncidentStatusSchema>;

/** A short identifier people can type: lowercase letters, digits, `-` and `_`. */
export const SlugSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lowercase letters, digits, "-" and "_", starting with a letter or digit');

const shortText = z.string().trim().min(1).max(300);
const JsonObjectSchema = z.record(z.string(), z.unknown());

/**
 * Everything the engine needs to open an incident, whatever the source. Intake adapters turn
 * forecasts, safety events and declarations into this one shape.
 */
export const IncidentDraftSchema = z.object({
  source: IncidentSourceSchema,
  /** Events with the same key while an incident is open join it instead of opening another. */
  dedupKey: z.string().min(1).max(200),
  severity: SeveritySchema,
  category: z.string().trim().min(1).max(100).optional(),
  title: shortText,
  summary: z.string().max(10_000).optional(),
  rootCauseHypothesis: z.string().max(10_000).optional(),
  affectedServices: z.array(z.string().trim().min(1).max(200)).max(100).default([]),
  labels: z.record(z.string().max(100), z.string().max(500)).default({}),
  /** The triggering data, kept as sent; runbook templates read from it. */
  context: JsonObjectSchema.default({}),
  linkedForecastId: z.string().max(200).optional(),
  linkedEventId: z.string().max(200).optional(),
  /** Gate the runbook behind an approval even where policy would let it run alone. */
  requireApproval: z.boolean().default(false),
  /** Run this runbook instead of choosing one by its trigger conditions. */
  runbookId: SlugSchema.optional(),
  /** Why severity is what it is (mapping and classification), for the audit trail. */
  severityReasons: z.array(z.string()).default([]),
});
export type IncidentDraft = z.infer<typeof IncidentDraftSchema>;

/** Statuses in which the incident no longer runs remediation and is waiting to be closed. */
export const SETTLED_STATUSES: readonly IncidentStatus[] = ['mitigated', 'resolved', 'failed', 'rolled_back'];
