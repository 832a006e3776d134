import type { RequestHandler } from 'express';
import { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import type { Principal, Role } from '../../domain/access';
import { ACTION_KINDS } from '../../domain/action-kinds';
import { ImpactSchema, IncidentRolesSchema, PostedStatusUpdateSchema } from '../../domain/command';
import { IncidentSourceSchema, IncidentStatusSchema, SlugSchema } from '../../domain/incident';
import { redact } from '../../domain/redact';
import { SeveritySchema } from '../../domain/severity';
import {
  IncidentState,
  MESSAGE_OUTCOMES,
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
import { READ_ROLES, actorOf } from '../auth';
import type { Deps } from '../deps';
import { problemsFor } from '../openapi';
import { HttpProblem, notFound } from '../problem';
import type { LimitName } from '../rate-limit';
import { defineRoute } from '../route';
import { findIncident, incidentRecords, incidentsPage } from '../services/incidents';
import { askWorkflow } from '../workflow-answer';

/** An incident named in the path (also by the report and action-item routes). */
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

// ---- answers ----

/** An incident as the API answers it (src/db/incidents.ts, IncidentRecord), values of sensitive keys redacted. */
export const IncidentSchema = z.object({
  id: z.uuid(),
  workflowId: z.string(),
  source: z.string(),
  dedupKey: z.string(),
  severity: SeveritySchema,
  category: z.string().nullable(),
  status: IncidentStatusSchema,
  title: z.string(),
  summary: z.string().nullable(),
  rootCauseHypothesis: z.string().nullable(),
  affectedServices: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  context: z.record(z.string(), z.unknown()),
  severityReasons: z.array(z.string()),
  linkedForecastId: z.string().nullable(),
  linkedEventId: z.string().nullable(),
  runbookId: z.string().nullable(),
  runbookVersion: z.number().int().nullable(),
  declaredBy: z.string(),
  occurrences: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastSeenAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  mitigatedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  suggestions: z.array(z.looseObject({})).describe('similar past incidents and what resolved them (src/domain/analysis.ts)'),
  impact: ImpactSchema.nullable(),
  rootCause: z.string().nullable().describe('the confirmed root cause people wrote (rootCauseHypothesis is the automatic guess)'),
  roles: IncidentRolesSchema,
  latestStatusUpdate: PostedStatusUpdateSchema.nullable(),
});
export type Incident = z.infer<typeof IncidentSchema>;

export const IncidentPageSchema = z.object({ items: z.array(IncidentSchema), nextCursor: z.string().nullable() });
export type IncidentPage = z.infer<typeof IncidentPageSchema>;

export const StepRowSchema = z.object({
  stepId: z.string(),
  position: z.number().int(),
  name: z.string(),
  action: z.string(),
  status: z.string(),
  gate: z.looseObject({ required: z.boolean().optional(), reasons: z.array(z.string()).optional(), mode: z.string().optional() }).nullable(),
  params: z.unknown(),
  output: z.unknown(),
  error: z.string().nullable(),
  attempts: z.number().int(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  compensatedAt: z.string().nullable(),
});
export type StepRow = z.infer<typeof StepRowSchema>;

export const ApprovalRowSchema = z.object({
  stepId: z.string().nullable(),
  decision: z.string(),
  approver: z.string(),
  reason: z.string().nullable(),
  at: z.string(),
});
export type ApprovalRow = z.infer<typeof ApprovalRowSchema>;

export const LogRowSchema = z.object({
  id: z.string().describe('a bigint, as a string'),
  at: z.string(),
  kind: z.enum(ACTION_KINDS).describe('what happened: src/domain/action-kinds.ts'),
  actor: z.string(),
  stepId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export type LogRow = z.infer<typeof LogRowSchema>;

export const IncidentDetailsSchema = z.object({
  incident: IncidentSchema,
  steps: z.array(StepRowSchema),
  approvals: z.array(ApprovalRowSchema),
  actionLog: z.array(LogRowSchema),
  /** The workflow's own state (IncidentState in src/workflows/definitions.ts); null once closed, or when no worker answered in time. */
  live: z.looseObject({ incidentId: z.uuid(), status: IncidentStatusSchema }).nullable(),
});
/** The details, with the live state typed as the workflow defines it. */
export type IncidentDetails = Omit<z.infer<typeof IncidentDetailsSchema>, 'live'> & { live: IncidentState | null };

/** What an update-backed route answers: the workflow's own account of what it did, and its live state. */
export const MessageAnswerSchema = z.object({
  id: z.uuid(),
  stepId: SlugSchema.optional(),
  accepted: z.string(),
  outcome: z.enum(MESSAGE_OUTCOMES),
  actor: z.string(),
  state: z.looseObject({ incidentId: z.uuid(), status: IncidentStatusSchema }),
});
export type MessageAnswerBody = Omit<z.infer<typeof MessageAnswerSchema>, 'state'> & { state: IncidentState };

export const messageAnswered = {
  200: { description: 'what the workflow did, and its state after', component: 'MessageAnswer', schema: MessageAnswerSchema },
};

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
  summary: string;
  roles: Role[];
  schema: typeof ReasonBody | typeof DecisionBody;
  /** approve and reject share a per-key limit. */
  rateLimit?: LimitName;
  update: (handle: WorkflowHandle, message: Message) => Promise<MessageAnswer>;
}

export const MESSAGES: MessageSpec[] = [
  {
    path: 'approve',
    summary: 'Approve what waits for approval (the runbook, or the step `stepId`)',
    roles: ['approver'],
    schema: DecisionBody,
    rateLimit: 'approvals',
    update: (h, m) => h.executeUpdate(approveUpdate, { args: [m] }),
  },
  {
    path: 'reject',
    summary: 'Reject what waits for approval; the runbook or step applies its onReject',
    roles: ['approver'],
    schema: DecisionBody,
    rateLimit: 'approvals',
    update: (h, m) => h.executeUpdate(rejectUpdate, { args: [m] }),
  },
  {
    path: 'acknowledge',
    summary: 'Acknowledge the incident',
    roles: ['responder', 'approver'],
    schema: ReasonBody,
    update: (h, m) => h.executeUpdate(acknowledgeUpdate, { args: [m] }),
  },
  {
    path: 'rollback',
    summary: 'Compensate everything done so far, newest first, once',
    roles: ['approver'],
    schema: ReasonBody,
    update: (h, m) => h.executeUpdate(rollbackUpdate, { args: [m] }),
  },
  {
    path: 'resolve',
    summary: 'Mark the incident resolved',
    roles: ['responder', 'approver'],
    schema: ReasonBody,
    update: (h, m) => h.executeUpdate(resolveUpdate, { args: [m] }),
  },
  {
    path: 'close',
    summary: 'Close the incident; its workflow ends once what is under way is recorded',
    roles: ['responder', 'approver'],
    schema: ReasonBody,
    update: (h, m) => h.executeUpdate(closeUpdate, { args: [m] }),
  },
];

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify({ createdAt, id })).toString('base64url');
}

export const ask = <T>(deps: Deps, send: () => Promise<T>): Promise<T> => askWorkflow(deps.temporal, deps.config.AIRE_WORKFLOW_ANSWER_TIMEOUT, send);

/** The step of this tenant's incident, or 404; with the incident's workflow to send to. */
async function findStep(deps: Deps, principal: Principal, id: string, stepId: string) {
  const incident = await findIncident(deps, principal, id);
  if (!incident) throw notFound(`incident ${id}`);
  const { steps } = await incidentRecords(deps, principal, id);
  if (!steps.some((s) => s.stepId === stepId)) throw notFound(`step ${stepId} of incident ${id}`);
  return deps.temporal.workflow.getHandle(incident.workflowId);
}

export const incidentRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/incidents',
    operationId: 'listIncidents',
    tag: 'incidents',
    summary: 'Incidents, newest first, with keyset pagination (`nextCursor`)',
    roles: READ_ROLES,
    query: ListQuery,
    responses: { 200: { description: 'one page of incidents', component: 'IncidentPage', schema: IncidentPageSchema } },
    handler: async ({ query: q, principal, deps, res }) => {
      const rows = await incidentsPage(deps, principal, { status: q.status, severity: q.severity, source: q.source, limit: q.limit + 1, after: q.cursor });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      res.json({
        items: redact(page, deps.config.AIRE_SENSITIVE_KEYS),
        nextCursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null,
      });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/incidents/:id',
    operationId: 'getIncident',
    tag: 'incidents',
    summary: 'An incident with its steps, approvals, action log and live workflow state',
    roles: READ_ROLES,
    params: IdParams,
    responses: { 200: { description: 'the incident', component: 'IncidentDetails', schema: IncidentDetailsSchema } },
    problems: problemsFor(true, false),
    handler: async ({ params: { id }, principal, deps, res }) => {
      const incident = await findIncident(deps, principal, id);
      if (!incident) throw notFound(`incident ${id}`);
      const details = await incidentRecords(deps, principal, id);
      const live = incident.status === 'closed' ? null : await liveState(deps, incident.workflowId);
      res.json(redact({ incident, ...details, live: live && live.incidentId === id ? live : null }, deps.config.AIRE_SENSITIVE_KEYS));
    },
  }),
  // One operation per workflow message.
  ...MESSAGES.map((spec) =>
    defineRoute({
      method: 'post',
      path: `/api/incidents/:id/${spec.path}`,
      operationId: `${spec.path}Incident`,
      tag: 'incidents',
      summary: spec.summary,
      description:
        'The workflow answers from its own state: 409 when nothing can take this now (the incident is closed or has ended, nothing waiting, already decided, an approver counted already), 403 when this caller may not (four-eyes), 503 when no worker answers in time.',
      roles: spec.roles,
      rateLimit: spec.rateLimit,
      params: IdParams,
      body: { component: spec.schema === DecisionBody ? 'DecisionBody' : 'ReasonBody', schema: spec.schema },
      responses: messageAnswered,
      problems: problemsFor(true, true),
      handler: async ({ params: { id }, body: message, principal, deps, res }) => {
        const incident = await findIncident(deps, principal, id);
        if (!incident) throw notFound(`incident ${id}`);
        const handle = deps.temporal.workflow.getHandle(incident.workflowId);
        const sent = { ...message, actor: actorOf(principal), incidentId: id };
        const answer = await ask(deps, () => spec.update(handle, sent));
        const body: MessageAnswerBody = { id, accepted: spec.path, actor: sent.actor, outcome: answer.outcome, state: answer.state };
        res.json(redact(body, deps.config.AIRE_SENSITIVE_KEYS));
      },
    }),
  ),
  defineRoute({
    method: 'post',
    path: '/api/incidents/:id/steps/:stepId/complete',
    operationId: 'completeManualStep',
    tag: 'incidents',
    summary: 'Report a manual step done (or failed)',
    roles: ['responder', 'approver'],
    params: StepParams,
    body: { component: 'CompleteStepBody', schema: CompleteBody },
    responses: messageAnswered,
    problems: problemsFor(true, true),
    handler: async ({ params: { id, stepId }, body: report, principal, deps, res }) => {
      const handle = await findStep(deps, principal, id, stepId);
      const sent = { ...report, stepId, actor: actorOf(principal), incidentId: id };
      const answer = await ask(deps, () => handle.executeUpdate(completeManualStepUpdate, { args: [sent] }));
      const body: MessageAnswerBody = { id, stepId, accepted: 'complete', outcome: answer.outcome, actor: sent.actor, state: answer.state };
      res.json(redact(body, deps.config.AIRE_SENSITIVE_KEYS));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/incidents/:id/steps/:stepId/decision',
    operationId: 'decideFailedStep',
    tag: 'incidents',
    summary: 'Decide what happens to an escalated failed step: retry, skip or abort',
    roles: ['approver'],
    params: StepParams,
    body: { component: 'StepDecisionBody', schema: DecisionOnStepBody },
    responses: messageAnswered,
    problems: problemsFor(true, true),
    handler: async ({ params: { id, stepId }, body: choice, principal, deps, res }) => {
      const handle = await findStep(deps, principal, id, stepId);
      const sent = { ...choice, stepId, actor: actorOf(principal), incidentId: id };
      const answer = await ask(deps, () => handle.executeUpdate(decideStepUpdate, { args: [sent] }));
      const body: MessageAnswerBody = { id, stepId, accepted: choice.decision, outcome: answer.outcome, actor: sent.actor, state: answer.state };
      res.json(redact(body, deps.config.AIRE_SENSITIVE_KEYS));
    },
  }),
];

/** Not an operation: any other /incidents/:id/<action> is 404 with the actions there are (mounted after every route). */
export const unknownIncidentAction: RequestHandler = () => {
  throw new HttpProblem(404, 'Not Found', `unknown incident action; one of: ${MESSAGES.map((s) => s.path).join(', ')}`);
};
