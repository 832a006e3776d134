import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { AlertmanagerPayloadSchema, alertEventId, draftFromAlert } from '../../domain/alertmanager';
import { alertResolvedSignal, incidentWorkflowId } from '../../workflows/definitions';
import { defineRoute } from '../route';
import { openIncident } from '../services/incidents';
import { requireSignature } from '../signature';

export const AlertmanagerAnswerSchema = z.object({
  groupKey: z.string(),
  alerts: z.array(
    z.object({
      fingerprint: z.string(),
      status: z.enum(['firing', 'resolved']),
      outcome: z.enum(['opened', 'joined', 'silenced', 'resolved', 'no-open-incident']),
      incidentId: z.uuid().nullable().optional(),
      reason: z.string().optional(),
    }),
  ),
});
export type AlertmanagerAnswer = z.infer<typeof AlertmanagerAnswerSchema>;
type AlertOutcome = AlertmanagerAnswer['alerts'][number];

/**
 * Alertmanager's webhook receiver (payload version 4), with no glue: point a `webhook_configs`
 * receiver here with an ingest key as its bearer credentials. Firing alerts open or join the
 * incident of their fingerprint; resolved alerts tell that incident, whose runbook decides.
 */
export const alertmanagerRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/intake/alertmanager',
    operationId: 'intakeAlertmanager',
    tag: 'intake',
    summary: 'Alertmanager webhook (payload version 4): firing alerts open or join the incident of their fingerprint; resolved alerts tell it',
    roles: ['ingest'],
    rateLimit: 'intake',
    middleware: (deps) => [requireSignature(deps, 'alertmanager')],
    body: { component: 'AlertmanagerPayload', schema: AlertmanagerPayloadSchema },
    responses: { 202: { description: 'what happened to each alert', component: 'AlertmanagerAnswer', schema: AlertmanagerAnswerSchema } },
    handler: async ({ body: payload, principal, deps, res }) => {
      const outcomes: AlertOutcome[] = [];
      for (const alert of payload.alerts) {
        const draft = draftFromAlert(alert, payload);
        const eventId = alertEventId(alert);
        if (alert.status === 'firing') {
          const opened = await openIncident(deps, principal, draft, eventId);
          outcomes.push({
            fingerprint: alert.fingerprint,
            status: alert.status,
            outcome: opened.silenced ? 'silenced' : opened.created ? 'opened' : 'joined',
            incidentId: opened.incidentId,
            reason: opened.silenced?.reason,
          });
          continue;
        }
        const handle = deps.temporal.workflow.getHandle(incidentWorkflowId(principal.tenantSlug, draft.dedupKey));
        try {
          await handle.signal(alertResolvedSignal, { eventId: `${eventId}:resolved`, at: alert.endsAt ?? new Date().toISOString() });
          outcomes.push({ fingerprint: alert.fingerprint, status: alert.status, outcome: 'resolved' });
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          outcomes.push({ fingerprint: alert.fingerprint, status: alert.status, outcome: 'no-open-incident', reason: 'no open incident for this alert' });
        }
      }
      const answer: AlertmanagerAnswer = { groupKey: payload.groupKey, alerts: outcomes };
      res.status(202).json(answer);
    },
  }),
];
