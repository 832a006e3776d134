import { z } from 'zod';
import { IncidentDraftSchema, SlugSchema } from './incident';
import { EventJoinSchema } from './signals';
import { IncidentSettingsSchema } from './incident-settings';

/** Everything an incident workflow starts from. Built by the API, checked by the same schema. */
export const IncidentWorkflowInputSchema = z.object({
  tenantId: z.uuid(),
  tenantSlug: SlugSchema,
  incidentId: z.uuid(),
  declaredBy: z.string().min(1),
  draft: IncidentDraftSchema,
  /**
   * The tenant's settings when the incident opened, as far as the workflow decides with them:
   * approval policy, SLAs, escalation, channel routing. Never a secret or a channel target: this
   * input is in the history for anyone with Web UI access (src/domain/incident-settings.ts).
   */
  settings: IncidentSettingsSchema,
  /** The id of the event that opened the incident, so its own start signal is not counted twice. */
  firstEventId: z.string().min(1),
  /**
   * Events that open the incident together with the first: the rest of the intake's batch, or those
   * the previous incident with this dedup key took while it was closing and handed on. Counted as
   * joins when this incident opens. `more` counts those beyond the carried list, which is bounded.
   */
  earlyEvents: z.object({ events: z.array(EventJoinSchema), more: z.number().int().min(0) }).optional(),
});
export type IncidentWorkflowInput = z.infer<typeof IncidentWorkflowInputSchema>;

/**
 * Events for an incident's dedup key, as the intake delivers them (the `deliverEvents` update).
 * `next` is the incident they open if the one running is closing: the intake sends it only after
 * the workflow refused the events without it (INCIDENT_CLOSING), so an ordinary join stays small.
 */
export const EventDeliverySchema = z.object({
  events: z.array(EventJoinSchema).min(1),
  next: IncidentWorkflowInputSchema.optional(),
});
export type EventDelivery = z.infer<typeof EventDeliverySchema>;

/** The workflow's answer to a delivery: the incident that took the events and will process them. */
export interface EventsDelivered {
  incidentId: string;
}
