import { z } from 'zod';
import { IncidentDraft } from './incident';
import { PrioritySchema, Severity, SeveritySchema, severityFromPriority } from './severity';

const Labels = z.record(z.string().max(200), z.string().max(2_000));

/** One alert of an Alertmanager webhook notification (payload version 4). */
export const AlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: Labels,
  annotations: Labels.default({}),
  startsAt: z.string().min(1),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(200),
});
export type Alert = z.infer<typeof AlertSchema>;

/** The Alertmanager webhook payload, version 4, as Alertmanager sends it. */
export const AlertmanagerPayloadSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: Labels.default({}),
  commonLabels: Labels.default({}),
  commonAnnotations: Labels.default({}),
  externalURL: z.string().default(''),
  truncatedAlerts: z.number().int().min(0).optional(),
  alerts: z.array(AlertSchema).min(1).max(1_000),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayloadSchema>;

/** Alert severity labels as teams write them, onto AIRE's scale; anything else is medium. */
const SEVERITY_WORDS: Record<string, Severity> = {
  critical: 'critical',
  page: 'critical',
  fatal: 'critical',
  high: 'high',
  error: 'high',
  major: 'high',
  warning: 'medium',
  warn: 'medium',
  medium: 'medium',
  minor: 'low',
  low: 'low',
  info: 'info',
  informational: 'info',
  none: 'info',
};

export function severityFromLabels(labels: Record<string, string>): { severity: Severity; reason: string } {
  const priority = PrioritySchema.safeParse(labels.priority?.toUpperCase());
  if (priority.success) return { severity: severityFromPriority(priority.data), reason: `priority label ${priority.data}` };
  const word = labels.severity?.toLowerCase();
  const mapped = word ? (SEVERITY_WORDS[word] ?? SeveritySchema.safeParse(word).data) : undefined;
  if (mapped) return { severity: mapped, reason: `severity label "${labels.severity}"` };
  return { severity: 'medium', reason: labels.severity ? `unknown severity label "${labels.severity}": medium` : 'no severity label: medium' };
}

/** The dedup key of an alert: its fingerprint, so repeats and re-fires join the incident. */
export const alertDedupKey = (alert: Alert): string => `alertmanager:${alert.fingerprint}`;

/** Repeats of one firing episode share `startsAt`, so they are one event; a re-fire is a new one. */
export const alertEventId = (alert: Alert): string => `alertmanager:${alert.fingerprint}:${alert.startsAt}`;

export function draftFromAlert(alert: Alert, payload: AlertmanagerPayload): IncidentDraft {
  const labels = { ...payload.commonLabels, ...alert.labels };
  const annotations = { ...payload.commonAnnotations, ...alert.annotations };
  const { severity, reason } = severityFromLabels(labels);
  const name = labels.alertname ?? 'alert';
  const service = labels.service ?? labels.job;
  return {
    source: 'alertmanager',
    dedupKey: alertDedupKey(alert),
    severity,
    category: labels.category ?? name,
    title: (annotations.summary ?? `${name}${service ? ` on ${service}` : ''}`).slice(0, 300),
    summary: annotations.description,
    affectedServices: service ? [service] : [],
    labels,
    context: { alert: { fingerprint: alert.fingerprint, startsAt: alert.startsAt, generatorURL: alert.generatorURL, labels, annotations }, ...labels },
    linkedEventId: alert.fingerprint,
    requireApproval: false,
    severityReasons: [reason],
  };
}
