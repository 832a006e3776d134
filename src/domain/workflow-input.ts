import { z } from 'zod';
import { IncidentDraftSchema, SlugSchema } from './incident';
import { TenantSettingsSchema } from './tenant-settings';

/** Everything an incident workflow starts from. Built by the API, checked by the same schema. */
export const IncidentWorkflowInputSchema = z.object({
  tenantId: z.uuid(),
  tenantSlug: SlugSchema,
  incidentId: z.uuid(),
  declaredBy: z.string().min(1),
  draft: IncidentDraftSchema,
  /** The tenant's settings when the incident opened: approval policy, SLAs, escalation, channels. */
  settings: TenantSettingsSchema,
  /** The id of the event that opened the incident, so its own start signal is not counted twice. */
  firstEventId: z.string().min(1),
});
export type IncidentWorkflowInput = z.infer<typeof IncidentWorkflowInputSchema>;
