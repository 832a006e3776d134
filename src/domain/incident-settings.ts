import { z } from 'zod';
import { DurationSchema } from './duration';
import { SlugSchema } from './incident';
import { ApprovalPolicySchema } from './policy';
import { SeveritySchema } from './severity';
import { NotificationEventSchema, type TenantSettings } from './tenant-settings';

/**
 * The part of a tenant's settings an incident workflow decides with, and nothing else. Workflow
 * inputs are written to Temporal history in full, where anyone with Web UI access reads them, so
 * what could be a secret stays out: intake signing secrets, silences, and every channel's target
 * (a webhook URL with a token in it, a PagerDuty routing key). The workflow routes notifications
 * to channels by name; the notification activity reads the target from the tenant's settings
 * when it delivers (src/activities/notifications.ts).
 *
 * Field names and shapes are those of TenantSettings, so histories from before this view existed
 * (whose inputs hold the whole settings) are read by the same workflow code.
 */
export const ChannelRouteSchema = z.object({
  name: SlugSchema,
  minSeverity: SeveritySchema,
  categories: z.array(z.string().min(1)).min(1).optional(),
  events: z.array(NotificationEventSchema).min(1).optional(),
  audience: z.enum(['internal', 'external']).optional(),
});
export type ChannelRoute = z.infer<typeof ChannelRouteSchema>;

export const IncidentSettingsSchema = z.object({
  approval: ApprovalPolicySchema,
  responseSla: z.partialRecord(SeveritySchema, DurationSchema),
  approvalTimeout: DurationSchema,
  escalation: z.object({ tiers: z.array(z.object({ after: DurationSchema, channels: z.array(SlugSchema) })), repeat: z.number().int().min(0) }).optional(),
  channels: z.array(ChannelRouteSchema),
  intake: z.object({ flapWindow: DurationSchema }),
  consoleUrl: z.string().optional(),
  people: z.array(z.object({ name: SlugSchema, channel: SlugSchema.optional(), keys: z.array(z.string()) })).optional(),
  onCall: z.object({ channel: SlugSchema, minSeverity: SeveritySchema, repeatEvery: DurationSchema }).optional(),
  statusUpdates: z.object({ allowExternal: z.boolean(), every: z.partialRecord(SeveritySchema, DurationSchema) }).optional(),
});
export type IncidentSettings = z.infer<typeof IncidentSettingsSchema>;

/** What an incident starts with from its tenant's settings: see IncidentSettingsSchema for what stays out, and why. */
export function incidentSettings(settings: TenantSettings): IncidentSettings {
  return {
    approval: settings.approval,
    responseSla: settings.responseSla,
    approvalTimeout: settings.approvalTimeout,
    ...(settings.escalation ? { escalation: settings.escalation } : {}),
    channels: settings.channels.map(({ name, minSeverity, categories, events, audience }) => ({
      name,
      minSeverity,
      ...(categories ? { categories } : {}),
      ...(events ? { events } : {}),
      ...(audience === 'external' ? { audience } : {}),
    })),
    intake: { flapWindow: settings.intake.flapWindow },
    ...(settings.consoleUrl ? { consoleUrl: settings.consoleUrl } : {}),
    people: settings.people,
    ...(settings.onCall ? { onCall: settings.onCall } : {}),
    statusUpdates: settings.statusUpdates,
  };
}
