import { Router } from 'express';
import { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { IncidentSourceSchema, IncidentStatusSchema, SlugSchema } from '../../domain/incident';
import { redact } from '../../domain/redact';
import { SeveritySchema } from '../../domain/severity';
import {
  IncidentState,
  MessageAnswer,
  acknowledgeUpdate,
  approveUpdate,
  closeUpdate,
  completeManualStepUpdate,
  decideStepUpdate,
  rejectUpdate,
  resolveUpdate,
  rollbackUpdate,
  stateQuery,
} from '../../workflows/definitions';
import { READ_ROLES, actorOf, principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { findIncident, incidentRecords, incidentsPage } from '../services/incidents';
import { HttpProblem, notFound } from '../problem';
import { askWorkflow } from '../workflow-answer';
import { rateLimit } from '../rate-limit';
import { body, params, query } from '../validate';
import { Role } from '../../domain/access';

export const IdParams = z.object({ id: z.uuid('not an incident id') });

const Cursor = z.string().transform((s, ctx) => {
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
  return deps.temporal.withDeadline(Date.now() + LIVE_STATE_TIMEOUT_MS, () => deps.temporal.workflow.getHandle(workflowId).query(stateQuery)).catch(() => null);
}

type Message = { actor: string; reason?: string; incidentId: string; stepId?: string };

/**
 * A message to the incident's workflow, as a Workflow Update: the workflow answers it from its own
 * state (200 with what it did and the state right after, or its refusal as 409/403), never from a
 * copy of the row that may lag.
 */
export interface MessageSpec {
  path: string;
  roles: Role[];
  schema: typeof ReasonBody | typeof DecisionBody;
  update: (handle: WorkflowHandle, message: Message) => Promise<MessageAnswer>;
}

export const MESSAGES: MessageSpec[] = [
  { path: 'approve', roles: ['approver'], schema: DecisionBody, update: (h, m) => h.executeUpdate(approveUpdate, { args: [m] }) },
  { path: 'reject', roles: ['approver'], schema: DecisionBody, update: (h, m) => h.executeUpdate(rejectUpdate, { args: [m] }) },
  { path: 'acknowledge', roles: ['responder', 'approver'], schema: ReasonBody, update: (h, m) => h.executeUpdate(acknowledgeUpdate, { args: [m] }) },
  { path: 'rollback', roles: ['approver'], schema: ReasonBody, update: (h, m) => h.executeUpdate(rollbackUpdate, { args: [m] }) },
  { path: 'resolve', roles: ['responder', 'approver'], schema: ReasonBody, update: (h, m) => h.executeUpdate(resolveUpdate, { args: [m] }) },
  { path: 'close', roles: ['responder', 'approver'], schema: ReasonBody, update: (h, m) => h.executeUpdate(closeUpdate, { args: [m] }) },
];

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify({ createdAt, id })).toString('base64url');
}

export function incidentRoutes(deps: Deps): Router {
  const router = Router();
  const sensitive = deps.config.AIRE_SENSITIVE_KEYS;

  router.get('/incidents', requireRole(...READ_ROLES), async (req, res) => {
    const q = query(ListQuery, req);
    const principal = principalOf(res);
    const rows = await incidentsPage(deps, principal, { status: q.status, severity: q.severity, source: q.source, limit: q.limit + 1, after: q.cursor });
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
    const details = await incidentRecords(deps, principal, id);
    const live = incident.status === 'closed' ? null : await liveState(deps, incident.workflowId);
    res.json(redact({ incident, ...details, live: live && live.incidentId === id ? live : null }, sensitive));
  });

  const approvalLimit = rateLimit(deps, 'approvals');
  const ask = <T>(send: () => Promise<T>): Promise<T> => askWorkflow(deps.temporal, deps.config.AIRE_WORKFLOW_ANSWER_TIMEOUT, send);
  for (const spec of MESSAGES) {
    const limits = spec.path === 'approve' || spec.path === 'reject' ? [approvalLimit] : [];
    router.post(`/incidents/:id/${spec.path}`, requireRole(...spec.roles), ...limits, async (req, res) => {
      const { id } = params(IdParams, req);
      const message = body(spec.schema, req);
      const principal = principalOf(res);
      const incident = await findIncident(deps, principal, id);
      if (!incident) throw notFound(`incident ${id}`);
      const handle = deps.temporal.workflow.getHandle(incident.workflowId);
      const sent = { ...message, actor: actorOf(principal), incidentId: id };
      const answer = await ask(() => spec.update(handle, sent));
      res.json(redact({ id, accepted: spec.path, actor: sent.actor, outcome: answer.outcome, state: answer.state }, sensitive));
    });
  }

  /** The step of this tenant's incident, or 404; with the incident's workflow id to send to. */
  async function findStep(principal: ReturnType<typeof principalOf>, id: string, stepId: string) {
    const incident = await findIncident(deps, principal, id);
    if (!incident) throw notFound(`incident ${id}`);
    const { steps } = await incidentRecords(deps, principal, id);
    if (!steps.some((s) => s.stepId === stepId)) throw notFound(`step ${stepId} of incident ${id}`);
    return deps.temporal.workflow.getHandle(incident.workflowId);
  }

  router.post('/incidents/:id/steps/:stepId/complete', requireRole('responder', 'approver'), async (req, res) => {
    const { id, stepId } = params(StepParams, req);
    const report = body(CompleteBody, req);
    const principal = principalOf(res);
    const handle = await findStep(principal, id, stepId);
    const sent = { ...report, stepId, actor: actorOf(principal), incidentId: id };
    const answer = await ask(() => handle.executeUpdate(completeManualStepUpdate, { args: [sent] }));
    res.json(redact({ id, stepId, accepted: 'complete', outcome: answer.outcome, actor: sent.actor, state: answer.state }, sensitive));
  });

  router.post('/incidents/:id/steps/:stepId/decision', requireRole('approver'), async (req, res) => {
    const { id, stepId } = params(StepParams, req);
    const choice = body(DecisionOnStepBody, req);
    const principal = principalOf(res);
    const handle = await findStep(principal, id, stepId);
    const sent = { ...choice, stepId, actor: actorOf(principal), incidentId: id };
    const answer = await ask(() => handle.executeUpdate(decideStepUpdate, { args: [sent] }));
    res.json(redact({ id, stepId, accepted: choice.decision, outcome: answer.outcome, actor: sent.actor, state: answer.state }, sensitive));
  });

  router.all('/incidents/:id/:action', () => {
    throw new HttpProblem(404, 'Not Found', `unknown incident action; one of: ${MESSAGES.map((s) => s.path).join(', ')}`);
  });

  return router;
}
