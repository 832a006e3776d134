import { randomUUID } from 'node:crypto';
import { Response, Router } from 'express';
import { z } from 'zod';
import { IncidentDraft } from '../../domain/incident';
import { DeclarationSchema, ForecastSchema, SafetyEventSchema, draftFromDeclaration, draftFromForecast, draftFromSafetyEvent } from '../../domain/intake';
import { incidentsOpened } from '../../metrics';
import { principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { openIncident } from '../services/incidents';
import { rateLimit } from '../rate-limit';
import { requireSignature } from '../signature';
import { body } from '../validate';

export const IdempotencyKey = z.string().trim().min(1).max(200).optional();

async function respond(deps: Deps, res: Response, draft: IncidentDraft, eventId: string): Promise<void> {
  const opened = await openIncident(deps, principalOf(res), draft, eventId);
  if (opened.silenced) {
    res.status(202).json({ id: null, created: false, silenced: true, reason: opened.silenced.reason });
    return;
  }
  if (opened.created) incidentsOpened.inc({ severity: opened.severity, source: draft.source });
  const location = `/api/incidents/${opened.incidentId}`;
  res
    .status(opened.created ? 201 : 200)
    .location(location)
    .json({ id: opened.incidentId, workflowId: opened.workflowId, created: opened.created, severity: opened.severity, href: location });
}

/** Where incidents come in. Each source has its own schema and maps onto one incident draft. */
export function intakeRoutes(deps: Deps): Router {
  const router = Router();
  const limit = rateLimit(deps, 'intake');

  router.post('/incident/from-forecast', requireRole('ingest'), limit, requireSignature(deps, 'forecast'), async (req, res) => {
    const draft = draftFromForecast(body(ForecastSchema, req));
    await respond(deps, res, draft, draft.dedupKey);
  });

  router.post('/incident/from-event', requireRole('ingest'), limit, requireSignature(deps, 'event'), async (req, res) => {
    const draft = draftFromSafetyEvent(body(SafetyEventSchema, req));
    await respond(deps, res, draft, draft.dedupKey);
  });

  router.post('/incidents', requireRole('ingest', 'responder'), limit, requireSignature(deps, 'incidents'), async (req, res) => {
    const declaration = body(DeclarationSchema, req);
    // A retried declaration with the same Idempotency-Key is the same event, not a second incident.
    const key = IdempotencyKey.parse(req.get('idempotency-key')) ?? randomUUID();
    await respond(deps, res, draftFromDeclaration(declaration, key), `declaration:${key}`);
  });

  return router;
}
