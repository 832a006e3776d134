import { Router } from 'express';
import { WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { IncidentRecord, incidentDetails, listIncidents } from '../../db/incidents';
import { approvalRefusal } from '../../domain/gates';
import { withTenant } from '../../db/pool';
import { IncidentSourceSchema, IncidentStatus, IncidentStatusSchema, SlugSchema } from '../../domain/incident';
import { redact } from '../../domain/redact';
import { Severity, SeveritySchema } from '../../domain/severity';
import {
  IncidentState,
  acknowledgeSignal,
  approveSignal,
  closeSignal,
  completeManualStepSignal,
  decideStepSignal,
  rejectSignal,
  resolveSignal,
  rollbackSignal,
  stateQuery,
} from '../../workflows/definitions';
import { READ_ROLES, actorOf, principalOf, requireRole } from '../auth';
import { Deps, findIncident } from '../incidents-service';
import { HttpProblem, conflict, notFound } from '../problem';
import { rateLimit } from '../rate-limit';
import { body, params, query } from '../validate';
import { Role } from '../../db/tenants';

export const IdParams = z.object({ id: z.uuid('not an incident id') });

const Cursor = z
  .string()
  .transform((s, ctx) => {
    try {
      return z.object({ createdAt: z.iso.datetime({ offset: true }), id: z.uuid() }).parse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a cursor this API returned' });
      return z.NEVER;
    }
  });

export const ListQuery = z
  .object({
    status: IncidentStatusSchema.optional(),
    severity: SeveritySchema.optional(),
    source: IncidentSourceSchema.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: Cursor.optional(),
  })
  .strict();

export const ReasonBody = z.object({ reason: z.string().trim().max(2_000).optional() }).strict();
export const DecisionBody = ReasonBody.extend({ stepId: SlugSchema.optional() }).strict();

export const StepParams = IdParams.extend({ stepId: SlugSchema });
export const CompleteBody = z.object({ outcome: z.enum(['done', 'failed']).default('done'), note: z.string().trim().max(2_000).optional() }).strict();
export const DecisionOnStepBody = z.object({ decision: z.enum(['retry', 'skip', 'abort']), reason: z.string().trim().max(2_000).optional() }).strict();

/** How long GET /api/incidents/:id waits for the workflow's live state before answering without it. */
const LIVE_STATE_TIMEOUT_MS = 2_000;

async function liveState(deps: Deps, workflowId: string): Promise<IncidentState | null> {
  // A deadline on the call itself, so an unanswered query (no worker up) ends instead of retrying on.
  return deps.temporal
    .withDeadline(Date.now() + LIVE_STATE_TIMEOUT_MS, () => deps.temporal.workflow.getHandle(workflowId).query(stateQuery))
    .catch(() => null);
}

type Message = { actor: string; reason?: string; incidentId: string; stepId?: string };

export interface SignalSpec {
  path: string;
  roles: Role[];
  schema: typeof ReasonBody | typeof DecisionBody;
  /** null when the signal makes sense in this status, else why not (answered as 409). */
  allowed: (status: IncidentStatus) => string | null;
  /** A refusal that depends on who asks (answered as 403). */
  refuse?: (incident: IncidentRecord, actor: string) => string | null;
  send: (handle: WorkflowHandle, message: Message) => Promise<void>;
}

const notClosed = (status: IncidentStatus): string | null => (status === 'closed' ? 'the incident is closed' : null);
const awaitingApproval = (status: IncidentStatus): string | null =>
  status === 'awaiting_approval' ? null : `nothing is waiting for approval (status is ${status})`;

export const SIGNALS: SignalSpec[] = [
  {
    path: 'approve',
    roles: ['approver'],
    schema: DecisionBody,
    allowed: awaitingApproval,
    refuse: (incident, actor) => approvalRefusal(incident.severity as Severity, incident.declaredBy, actor),
    send: (h, m) => h.signal(approveSignal, m),
  },
  { path: 'reject', roles: ['approver'], schema: DecisionBody, allowed: awaitingApproval, send: (h, m) => h.signal(rejectSignal, m) },
  { path: 'acknowledge', roles: ['responder', 'approver'], schema: ReasonBody, allowed: notClosed, send: (h, m) => h.signal(acknowledgeSignal, m) },
  {
    path: 'rollback',
    roles: ['approver'],
    schema: ReasonBody,
    allowed: (s) => notClosed(s) ?? (s === 'rolled_back' ? 'the incident was already rolled back' : null),
    send: (h, m) => h.signal(rollbackSignal, m),
  },
  { path: 'resolve', roles: ['responder', 'approver'], schema: ReasonBody, allowed: notClosed, send: (h, m) => h.signal(resolveSignal, m) },
  { path: 'close', roles: ['responder', 'approver'], schema: ReasonBody, allowed: notClosed, send: (h, m) => h.signal(closeSignal, m) },
];

/**
 * Sends a message to the incident's workflow. The row can say an incident is open while its run has
 * already ended (the row is written before the run finishes): that is a conflict, not a server error.
 */
async function toWorkflow(send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw conflict('the incident has ended: its workflow is no longer running');
    throw err;
  }
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify({ createdAt, id })).toString('base64url');
}

export function incidentRoutes(deps: Deps): Router {
  const router = Router();
  const sensitive = deps.config.AIRE_SENSITIVE_KEYS;

  router.get('/incidents', requireRole(...READ_ROLES), async (req, res) => {
    const q = query(ListQuery, req);
    const principal = principalOf(res);
    const rows = await withTenant(deps.pool, principal.tenantId, (c) =>
      listIncidents(c, { status: q.status, severity: q.severity, source: q.source, limit: q.limit + 1, after: q.cursor }),
    );
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    res.json({
      items: redact(page, sensitive),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    });
  });

  router.get('/incidents/:id', requireRole(...READ_ROLES), async (req, res) => {
    const { id } = params(IdParams, req);
    const principal = principalOf(res);
    const incident = await findIncident(deps, principal, id);
    if (!incident) throw notFound(`incident ${id}`);
    const details = await withTenant(deps.pool, principal.tenantId, (c) => incidentDetails(c, id));
    const live = incident.status === 'closed' ? null : await liveState(deps, incident.workflowId);
    res.json(redact({ incident, ...details, live: live && live.incidentId === id ? live : null }, sensitive));
  });

  const approvalLimit = rateLimit(deps, 'approvals');
  for (const spec of SIGNALS) {
    const limits = spec.path === 'approve' || spec.path === 'reject' ? [approvalLimit] : [];
    router.post(`/incidents/:id/${spec.path}`, requireRole(...spec.roles), ...limits, async (req, res) => {
      const { id } = params(IdParams, req);
      const message = body(spec.schema, req);
      const principal = principalOf(res);
      const incident = await findIncident(deps, principal, id);
      if (!incident) throw notFound(`incident ${id}`);
      const refusal = spec.allowed(incident.status);
      if (refusal) throw conflict(refusal);
      const forbidden = spec.refuse?.(incident, actorOf(principal));
      if (forbidden) throw new HttpProblem(403, 'Forbidden', forbidden);
      await toWorkflow(() => spec.send(deps.temporal.workflow.getHandle(incident.workflowId), { ...message, actor: actorOf(principal), incidentId: id }));
      res.status(202).json({ id, accepted: spec.path, actor: actorOf(principal) });
    });
  }

  /** The step of this tenant's incident, or 404; with the incident's workflow id for signalling. */
  async function findStep(principal: ReturnType<typeof principalOf>, id: string, stepId: string) {
    const incident = await findIncident(deps, principal, id);
    if (!incident) throw notFound(`incident ${id}`);
    const { steps } = await withTenant(deps.pool, principal.tenantId, (c) => incidentDetails(c, id));
    const step = steps.find((s) => s.stepId === stepId);
    if (!step) throw notFound(`step ${stepId} of incident ${id}`);
    return { incident, step: step as { status: string; action: string } };
  }

  router.post('/incidents/:id/steps/:stepId/complete', requireRole('responder', 'approver'), async (req, res) => {
    const { id, stepId } = params(StepParams, req);
    const report = body(CompleteBody, req);
    const principal = principalOf(res);
    const { incident, step } = await findStep(principal, id, stepId);
    if (step.action !== 'manual' || step.status !== 'running') throw conflict(`step ${stepId} is not a manual step waiting for a person (status ${step.status})`);
    await toWorkflow(() =>
      deps.temporal.workflow.getHandle(incident.workflowId).signal(completeManualStepSignal, { ...report, stepId, actor: actorOf(principal), incidentId: id }),
    );
    res.status(202).json({ id, stepId, accepted: 'complete', outcome: report.outcome, actor: actorOf(principal) });
  });

  router.post('/incidents/:id/steps/:stepId/decision', requireRole('approver'), async (req, res) => {
    const { id, stepId } = params(StepParams, req);
    const choice = body(DecisionOnStepBody, req);
    const principal = principalOf(res);
    const { incident, step } = await findStep(principal, id, stepId);
    if (incident.status !== 'awaiting_approval' || step.status !== 'failed') {
      throw conflict(`step ${stepId} is not waiting for a decision (step ${step.status}, incident ${incident.status})`);
    }
    await toWorkflow(() => deps.temporal.workflow.getHandle(incident.workflowId).signal(decideStepSignal, { ...choice, stepId, actor: actorOf(principal), incidentId: id }));
    res.status(202).json({ id, stepId, accepted: choice.decision, actor: actorOf(principal) });
  });

  router.all('/incidents/:id/:action', () => {
    throw new HttpProblem(404, 'Not Found', `unknown incident action; one of: ${SIGNALS.map((s) => s.path).join(', ')}`);
  });

  return router;
}
