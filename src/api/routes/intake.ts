import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { z } from 'zod';
import type { Principal } from '../../domain/access';
import { IncidentDraft } from '../../domain/incident';
import { DeclarationSchema, ForecastSchema, SafetyEventSchema, draftFromDeclaration, draftFromForecast, draftFromSafetyEvent } from '../../domain/intake';
import { SeveritySchema } from '../../domain/severity';
import { incidentsOpened } from '../../metrics';
import type { Deps } from '../deps';
import { defineRoute } from '../route';
import { openIncident } from '../services/incidents';
import { requireSignature } from '../signature';

export const IdempotencyKey = z.string().trim().min(1).max(200).optional();

export const IncidentOpenedSchema = z.object({
  id: z.uuid(),
  workflowId: z.string(),
  created: z.boolean(),
  severity: SeveritySchema,
  href: z.string(),
});
export type IncidentOpened = z.infer<typeof IncidentOpenedSchema>;

export const IncidentSilencedSchema = z.object({
  id: z.null(),
  created: z.literal(false),
  silenced: z.literal(true),
  reason: z.string(),
});
export type IncidentSilenced = z.infer<typeof IncidentSilencedSchema>;

async function respond(deps: Deps, principal: Principal, res: Response, draft: IncidentDraft, eventId: string): Promise<void> {
  const opened = await openIncident(deps, principal, draft, eventId);
  if (opened.silenced) {
    const silenced: IncidentSilenced = { id: null, created: false, silenced: true, reason: opened.silenced.reason };
    res.status(202).json(silenced);
    return;
  }
  if (opened.created) incidentsOpened.inc({ severity: opened.severity, source: draft.source });
  const location = `/api/incidents/${opened.incidentId}`;
  const answer: IncidentOpened = { id: opened.incidentId, workflowId: opened.workflowId, created: opened.created, severity: opened.severity, href: location };
  res
    .status(opened.created ? 201 : 200)
    .location(location)
    .json(answer);
}

const opened = (joined: string) => ({
  201: { description: 'a new incident was opened', component: 'IncidentOpened', schema: IncidentOpenedSchema, headers: { Location: 'the incident' } },
  200: { description: joined, component: 'IncidentOpened', headers: { Location: 'the incident' } },
});

/** Where incidents come in. Each source has its own schema and maps onto one incident draft; all are under the intake rate limit. */
export const intakeRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/incident/from-forecast',
    operationId: 'incidentFromForecast',
    tag: 'intake',
    summary: 'Open (or join) an incident from an UPEWE forecast; dedup by forecast id',
    roles: ['ingest'],
    rateLimit: 'intake',
    middleware: (deps) => [requireSignature(deps, 'forecast')],
    body: { component: 'Forecast', schema: ForecastSchema },
    responses: {
      ...opened('an open incident with the same dedup key was joined'),
      202: {
        description: 'a silence or maintenance window matched: recorded, no incident opened',
        component: 'IncidentSilenced',
        schema: IncidentSilencedSchema,
      },
    },
    handler: async ({ body, principal, deps, res }) => {
      const draft = draftFromForecast(body);
      await respond(deps, principal, res, draft, draft.dedupKey);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/incident/from-event',
    operationId: 'incidentFromEvent',
    tag: 'intake',
    summary: 'Open (or join) an incident from an ASRS/MCSE safety event; dedup by source and event id',
    roles: ['ingest'],
    rateLimit: 'intake',
    middleware: (deps) => [requireSignature(deps, 'event')],
    body: { component: 'SafetyEvent', schema: SafetyEventSchema },
    responses: opened('an open incident with the same dedup key was joined'),
    handler: async ({ body, principal, deps, res }) => {
      const draft = draftFromSafetyEvent(body);
      await respond(deps, principal, res, draft, draft.dedupKey);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/incidents',
    operationId: 'declareIncident',
    tag: 'intake',
    summary: 'Declare an incident',
    description: 'Give `severity` or `priority` (P0–P4): one of the two is required. A retry with the same `Idempotency-Key` is the same declaration.',
    roles: ['ingest', 'responder'],
    rateLimit: 'intake',
    middleware: (deps) => [requireSignature(deps, 'incidents')],
    headers: { 'Idempotency-Key': IdempotencyKey },
    body: { component: 'Declaration', schema: DeclarationSchema },
    responses: opened('an open incident with the same dedup key (or Idempotency-Key) was joined'),
    handler: async ({ body, headers, principal, deps, res }) => {
      // A retried declaration with the same Idempotency-Key is the same event, not a second incident.
      const key = headers['Idempotency-Key'] ?? randomUUID();
      await respond(deps, principal, res, draftFromDeclaration(body, key), `declaration:${key}`);
    },
  }),
];
