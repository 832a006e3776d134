import { Router } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import { AlertmanagerPayloadSchema, alertEventId, draftFromAlert } from '../../domain/alertmanager';
import { alertResolvedSignal, incidentWorkflowId } from '../../workflows/definitions';
import { principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { openIncident } from '../services/incidents';
import { rateLimit } from '../rate-limit';
import { requireSignature } from '../signature';
import { body } from '../validate';

interface AlertOutcome {
  fingerprint: string;
  status: 'firing' | 'resolved';
  outcome: 'opened' | 'joined' | 'silenced' | 'resolved' | 'no-open-incident';
  incidentId?: string | null;
  reason?: string;
}

/**
 * Alertmanager's webhook receiver (payload version 4), with no glue: point a `webhook_configs`
 * receiver here with an ingest key as its bearer credentials. Firing alerts open or join the
 * incident of their fingerprint; resolved alerts tell that incident, whose runbook decides.
 */
export function alertmanagerRoutes(deps: Deps): Router {
  const router = Router();
  router.post('/intake/alertmanager', requireRole('ingest'), rateLimit(deps, 'intake'), requireSignature(deps, 'alertmanager'), async (req, res) => {
    const payload = body(AlertmanagerPayloadSchema, req);
    const principal = principalOf(res);
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
    res.status(202).json({ groupKey: payload.groupKey, alerts: outcomes });
  });
  return router;
}
