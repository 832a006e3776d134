import type { RequestHandler } from 'express';
import { z } from 'zod';
import packageJson from '../../package.json';
import { ACTION_TYPES } from '../domain/actions';
import { RoleSchema, type Role } from '../domain/access';
import { ACTION_KINDS } from '../domain/action-kinds';
import { GenericEventSchema } from '../domain/events';
import { IncidentStatusSchema, SlugSchema } from '../domain/incident';
import { DeclarationSchema, ForecastSchema, SafetyEventSchema } from '../domain/intake';
import { runbookJsonSchema } from '../domain/runbook-json-schema';
import { ActionItemSchema, IncidentReportSchema } from '../domain/report';
import { RuleSchema } from '../domain/rules';
import { SeveritySchema } from '../domain/severity';
import { TenantSettingsSchema } from '../domain/tenant-settings';
import { AlertmanagerPayloadSchema } from '../domain/alertmanager';
import { BreakersQuery, ResetBody } from './routes/breakers';
import { CodecPayloadsSchema } from './routes/codec';
import { READ_ROLES } from './auth';
import { IncidentParams as ActionItemIncidentParams, ItemParams, NewItemBody, PatchBody, TenantListQuery } from './routes/action-items';
import { ControlsQuery } from './routes/controls';
import { CompleteBody, DecisionBody, DecisionOnStepBody, IdParams as IncidentIdParams, ListQuery, ReasonBody, MESSAGES, StepParams } from './routes/incidents';
import { IdempotencyKey } from './routes/intake';
import { CreateKeyBody, KeyParams } from './routes/keys';
import { SummaryQuery } from './routes/metrics';
import { IdParams as ReportIdParams, ReportQuery } from './routes/reports';
import { DryRunBody, IdParams as RunbookIdParams } from './routes/runbooks';
import { EventOutcomeSchema } from './routes/events';
import { RuleIdParams } from './routes/rules';
import { MESSAGE_OUTCOMES } from '../workflows/definitions';

/**
 * The OpenAPI 3.1 description of this API, served at GET /api/openapi.json.
 *
 * Request schemas (bodies, path and query parameters, headers) are generated from the very zod
 * schemas the routes validate with, so the contract cannot drift from validation. Response schemas
 * are written here; test/integration/openapi.test.ts checks real answers against them and checks
 * that every route the Express app registers is listed in OPERATIONS below.
 */

export type JsonSchema = Record<string, unknown>;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A zod schema, or a JSON Schema built from one (when the generated schema needs a documented patch). */
type SchemaSource = z.ZodType | (() => JsonSchema);

interface BodySpec {
  /** Name under components.schemas. */
  component: string;
  schema: SchemaSource;
  /** Also accepted as application/yaml (runbooks). */
  yaml?: boolean;
}

interface ResponseSpec {
  description: string;
  /** Name under components.schemas; the schema is `schema`, or the one already registered under that name. */
  component?: string;
  schema?: SchemaSource;
  headers?: Record<string, string>;
  /** application/json unless given. */
  contentType?: string;
  /** The same answer in other media types (content negotiation), by media type. */
  alternatives?: Record<string, SchemaSource>;
}

export interface OperationSpec {
  method: Method;
  /** The path exactly as registered in Express (`/api/incidents/:id`); the document writes `{id}`. */
  path: string;
  operationId: string;
  tag:
    | 'health'
    | 'meta'
    | 'console'
    | 'intake'
    | 'incidents'
    | 'reviews'
    | 'runbooks'
    | 'rules'
    | 'controls'
    | 'settings'
    | 'keys'
    | 'breakers'
    | 'metrics'
    | 'codec';
  summary: string;
  description?: string;
  /** Roles that may call it (`admin` always may); null: public, no API key. */
  roles: readonly Role[] | null;
  params?: z.ZodType;
  query?: z.ZodType;
  headers?: Record<string, z.ZodType>;
  body?: BodySpec;
  /** Answers other than problem+json errors, by status. */
  responses: Record<number, ResponseSpec>;
  /** problem+json statuses this operation answers beyond those every operation of its kind may (404, 409). */
  problems?: number[];
}

// ---------------------------------------------------------------------------------------------
// Response schemas (documentation; checked against real answers by the integration test)
// ---------------------------------------------------------------------------------------------

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ description: 'RFC 9457 problem details; `errors` names each failing field.' });

const HealthSchema = z.object({ status: z.literal('ok') });
const ReadinessSchema = z.object({ status: z.enum(['ready', 'unavailable']), checks: z.record(z.string(), z.string()) });
const IncidentOpenedSchema = z.object({
  id: z.uuid(),
  workflowId: z.string(),
  created: z.boolean(),
  severity: SeveritySchema,
  href: z.string(),
});
const IncidentSilencedSchema = z.object({
  id: z.null(),
  created: z.literal(false),
  silenced: z.literal(true),
  reason: z.string(),
});
/** Settings as the API answers them: signing secrets replaced by the list of routes that have one. */
const PublicSettingsSchema = z.object({
  ...TenantSettingsSchema.shape,
  intake: z.object({ flapWindow: z.number(), silences: z.array(z.unknown()), signedSources: z.array(z.string()) }),
});
const AlertmanagerAnswerSchema = z.object({
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
const BreakerListSchema = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      runbookId: z.string(),
      target: z.string(),
      reason: z.string(),
      openedAt: z.string(),
      resetAt: z.string().nullable(),
      resetBy: z.string().nullable(),
    }),
  ),
});
const BreakerResetDoneSchema = z.object({
  service: z.string(),
  runbookId: z.string().nullable(),
  reset: z.number().int(),
  by: z.string(),
  reason: z.string().nullable(),
});
/** What an update-backed route answers: the workflow's own account of what it did, and its live state. */
const MessageAnswerSchema = z.object({
  id: z.uuid(),
  stepId: SlugSchema.optional(),
  accepted: z.string(),
  outcome: z.enum(MESSAGE_OUTCOMES),
  actor: z.string(),
  state: z.looseObject({ incidentId: z.uuid(), status: IncidentStatusSchema }),
});
const IncidentPageSchema = z.object({
  items: z.array(z.looseObject({ id: z.uuid(), status: z.string(), severity: SeveritySchema })),
  nextCursor: z.string().nullable(),
});
const IncidentDetailsSchema = z.looseObject({
  incident: z.looseObject({ id: z.uuid(), status: IncidentStatusSchema, severity: SeveritySchema, workflowId: z.string() }),
  steps: z.array(z.looseObject({ stepId: z.string(), status: z.string() })),
  approvals: z.array(z.looseObject({ decision: z.string() })),
  actionLog: z.array(z.looseObject({ kind: z.enum(ACTION_KINDS).describe('what happened: src/domain/action-kinds.ts'), actor: z.string() })),
  live: z.looseObject({}).nullable(),
});
const RunbookViewSchema = z.looseObject({ id: SlugSchema, name: z.string(), version: z.number().int(), steps: z.array(z.looseObject({})) });
const RunbookListSchema = z.object({ items: z.array(RunbookViewSchema) });
const RunbookVersionsSchema = z.object({
  items: z.array(z.object({ version: z.number().int(), createdAt: z.string(), createdBy: z.string().nullable(), definition: z.looseObject({}) })),
});
const DryRunPlanSchema = z.looseObject({
  runbook: z.object({ id: SlugSchema, version: z.number().int() }),
  matched: z.boolean(),
  matchReasons: z.array(z.string()),
  gate: z.looseObject({}),
  steps: z.array(z.looseObject({ id: z.string(), action: z.string() })),
  wouldRun: z.boolean(),
});
const ActionItemListSchema = z.object({ items: z.array(ActionItemSchema) });
const CreatedKeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  roles: z.array(RoleSchema),
  key: z.string().meta({ description: 'the key itself: shown this once, stored only as a hash' }),
  createdBy: z.string(),
  note: z.string(),
});
const KeyListSchema = z.object({
  items: z.array(
    z.object({ id: z.uuid(), name: z.string(), prefix: z.string(), roles: z.array(RoleSchema), createdAt: z.string(), revokedAt: z.string().nullable() }),
  ),
});
const RevokedKeySchema = z.object({ id: z.uuid(), name: z.string(), revokedAt: z.string() });
const MetricsSummarySchema = z.looseObject({
  window: z.looseObject({ duration: z.string(), from: z.string(), to: z.string(), seconds: z.number() }),
  incidents: z.number().int(),
  mttaSeconds: z.number().nullable(),
  mttrSeconds: z.number().nullable(),
  mtbfSeconds: z.number().nullable(),
  slaBySeverity: z.record(z.string(), z.looseObject({})),
  byStatus: z.record(z.string(), z.number()),
  bySeverity: z.record(z.string(), z.number()),
  bySource: z.record(z.string(), z.number()),
});
const ControlsSchema = z.object({
  items: z.array(
    z.object({ kind: z.enum(['feature', 'block']), key: z.string(), reason: z.string().nullable(), incidentId: z.uuid().nullable(), since: z.string() }),
  ),
});

const RuleViewSchema = z.looseObject({
  id: SlugSchema,
  name: z.string(),
  enabled: z.boolean(),
  match: z.array(z.looseObject({ field: z.string(), op: z.string() })),
  category: z.string(),
  severity: SeveritySchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
  updatedBy: z.string(),
});
const RuleListSchema = z.object({ items: z.array(RuleViewSchema) });
const RuleSavedSchema = RuleViewSchema.extend({ warnings: z.array(z.string()) });

/** A rule as PUT takes it: the path names it, so `id` may be left out. */
function ruleUpdateSchema(): JsonSchema {
  const schema = z.toJSONSchema(RuleSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return { ...schema, required: required.filter((name) => name !== 'id') };
}

/** A runbook as PUT takes it: the path names it, so `id` may be left out. */
function runbookUpdateSchema(): JsonSchema {
  const schema = runbookJsonSchema(ACTION_TYPES);
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return { ...schema, required: required.filter((name) => name !== 'id') };
}

const SIGNAL_SUMMARIES: Record<string, string> = {
  approve: 'Approve what waits for approval (the runbook, or the step `stepId`)',
  reject: 'Reject what waits for approval; the runbook or step applies its onReject',
  acknowledge: 'Acknowledge the incident',
  rollback: 'Compensate everything done so far, newest first, once',
  resolve: 'Mark the incident resolved',
  close: 'Close the incident; its workflow ends once what is under way is recorded',
};

const problemsFor = (notFound: boolean, conflict: boolean): number[] => [...(notFound ? [404] : []), ...(conflict ? [409] : [])];
/** Intake and approvals are rate limited per API key (src/api/rate-limit.ts). */
const RATE_LIMITED = [429];

// =============================================================================================
// EVERY ROUTE THE APP SERVES IS LISTED HERE. A route added to src/api/app.ts or src/api/routes/*
// must get an entry in OPERATIONS (test/integration/openapi.test.ts fails until it has one).
// =============================================================================================
export const OPERATIONS: readonly OperationSpec[] = [
  // --- health and this document (no API key) ---
  {
    method: 'get',
    path: '/healthz',
    operationId: 'liveness',
    tag: 'health',
    summary: 'Liveness: the process answers',
    roles: null,
    responses: { 200: { description: 'alive', component: 'Health', schema: HealthSchema } },
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tag: 'health',
    summary: 'Readiness: PostgreSQL and Temporal are reachable',
    roles: null,
    responses: {
      200: { description: 'ready', component: 'Readiness', schema: ReadinessSchema },
      503: { description: 'a backing service does not answer; `checks` says which', component: 'Readiness', headers: { 'Retry-After': 'seconds to wait' } },
    },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openapi',
    tag: 'meta',
    summary: 'This OpenAPI 3.1 document',
    roles: null,
    responses: { 200: { description: 'the OpenAPI document', schema: () => ({ type: 'object' }) } },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'prometheusMetrics',
    tag: 'metrics',
    summary: 'Prometheus metrics (text exposition format); counts by severity, source, action type and route pattern, nothing per tenant',
    roles: null,
    responses: { 200: { description: 'metrics', contentType: 'text/plain', schema: () => ({ type: 'string' }) } },
  },

  {
    method: 'get',
    path: '/console',
    operationId: 'console',
    tag: 'console',
    summary: 'The approval console: a static page that signs in with an API key and calls this API (src/api/console.ts)',
    description: 'Its script, style and other files are served from /console/* as static files.',
    roles: null,
    responses: { 200: { description: 'the page', contentType: 'text/html', schema: () => ({ type: 'string' }) } },
  },

  // --- intake (src/api/routes/intake.ts) ---
  {
    method: 'post',
    path: '/api/incident/from-forecast',
    operationId: 'incidentFromForecast',
    tag: 'intake',
    summary: 'Open (or join) an incident from an UPEWE forecast; dedup by forecast id',
    roles: ['ingest'],
    body: { component: 'Forecast', schema: ForecastSchema },
    problems: RATE_LIMITED,
    responses: {
      201: { description: 'a new incident was opened', component: 'IncidentOpened', schema: IncidentOpenedSchema, headers: { Location: 'the incident' } },
      200: { description: 'an open incident with the same dedup key was joined', component: 'IncidentOpened', headers: { Location: 'the incident' } },
      202: {
        description: 'a silence or maintenance window matched: recorded, no incident opened',
        component: 'IncidentSilenced',
        schema: IncidentSilencedSchema,
      },
    },
  },
  {
    method: 'post',
    path: '/api/intake/alertmanager',
    operationId: 'intakeAlertmanager',
    tag: 'intake',
    summary: 'Alertmanager webhook (payload version 4): firing alerts open or join the incident of their fingerprint; resolved alerts tell it',
    roles: ['ingest'],
    body: { component: 'AlertmanagerPayload', schema: AlertmanagerPayloadSchema },
    problems: RATE_LIMITED,
    responses: { 202: { description: 'what happened to each alert', component: 'AlertmanagerAnswer', schema: AlertmanagerAnswerSchema } },
  },
  {
    method: 'post',
    path: '/api/incident/from-event',
    operationId: 'incidentFromEvent',
    tag: 'intake',
    summary: 'Open (or join) an incident from an ASRS/MCSE safety event; dedup by source and event id',
    roles: ['ingest'],
    body: { component: 'SafetyEvent', schema: SafetyEventSchema },
    problems: RATE_LIMITED,
    responses: {
      201: { description: 'a new incident was opened', component: 'IncidentOpened', headers: { Location: 'the incident' } },
      200: { description: 'an open incident with the same dedup key was joined', component: 'IncidentOpened', headers: { Location: 'the incident' } },
    },
  },
  {
    method: 'post',
    path: '/api/incidents',
    operationId: 'declareIncident',
    tag: 'intake',
    summary: 'Declare an incident',
    description: 'Give `severity` or `priority` (P0–P4): one of the two is required. A retry with the same `Idempotency-Key` is the same declaration.',
    roles: ['ingest', 'responder'],
    headers: { 'Idempotency-Key': IdempotencyKey },
    body: { component: 'Declaration', schema: DeclarationSchema },
    problems: RATE_LIMITED,
    responses: {
      201: { description: 'a new incident was opened', component: 'IncidentOpened', headers: { Location: 'the incident' } },
      200: {
        description: 'an open incident with the same dedup key (or Idempotency-Key) was joined',
        component: 'IncidentOpened',
        headers: { Location: 'the incident' },
      },
    },
  },

  // --- incidents (src/api/routes/incidents.ts) ---
  {
    method: 'get',
    path: '/api/incidents',
    operationId: 'listIncidents',
    tag: 'incidents',
    summary: 'Incidents, newest first, with keyset pagination (`nextCursor`)',
    roles: READ_ROLES,
    query: ListQuery,
    responses: { 200: { description: 'one page of incidents', component: 'IncidentPage', schema: IncidentPageSchema } },
  },
  {
    method: 'get',
    path: '/api/incidents/:id',
    operationId: 'getIncident',
    tag: 'incidents',
    summary: 'An incident with its steps, approvals, action log and live workflow state',
    roles: READ_ROLES,
    params: IncidentIdParams,
    responses: { 200: { description: 'the incident', component: 'IncidentDetails', schema: IncidentDetailsSchema } },
    problems: problemsFor(true, false),
  },
  // One operation per workflow message, from the same table the routes are registered from.
  ...MESSAGES.map((spec): OperationSpec => ({
    method: 'post',
    path: `/api/incidents/:id/${spec.path}`,
    operationId: `${spec.path}Incident`,
    tag: 'incidents',
    summary: SIGNAL_SUMMARIES[spec.path] ?? `Send ${spec.path} to the incident`,
    description:
      'The workflow answers from its own state: 409 when nothing can take this now (the incident is closed or has ended, nothing waiting, already decided, an approver counted already), 403 when this caller may not (four-eyes), 503 when no worker answers in time.',
    roles: spec.roles,
    params: IncidentIdParams,
    body: spec.schema === DecisionBody ? { component: 'DecisionBody', schema: DecisionBody } : { component: 'ReasonBody', schema: ReasonBody },
    responses: { 200: { description: 'what the workflow did, and its state after', component: 'MessageAnswer', schema: MessageAnswerSchema } },
    problems: [...problemsFor(true, true), ...(spec.path === 'approve' || spec.path === 'reject' ? RATE_LIMITED : [])],
  })),
  {
    method: 'post',
    path: '/api/incidents/:id/steps/:stepId/complete',
    operationId: 'completeManualStep',
    tag: 'incidents',
    summary: 'Report a manual step done (or failed)',
    roles: ['responder', 'approver'],
    params: StepParams,
    body: { component: 'CompleteStepBody', schema: CompleteBody },
    responses: { 200: { description: 'what the workflow did, and its state after', component: 'MessageAnswer', schema: MessageAnswerSchema } },
    problems: problemsFor(true, true),
  },
  {
    method: 'post',
    path: '/api/incidents/:id/steps/:stepId/decision',
    operationId: 'decideFailedStep',
    tag: 'incidents',
    summary: 'Decide what happens to an escalated failed step: retry, skip or abort',
    roles: ['approver'],
    params: StepParams,
    body: { component: 'StepDecisionBody', schema: DecisionOnStepBody },
    responses: { 200: { description: 'what the workflow did, and its state after', component: 'MessageAnswer', schema: MessageAnswerSchema } },
    problems: problemsFor(true, true),
  },

  // --- post-incident review (src/api/routes/reports.ts, src/api/routes/action-items.ts) ---
  {
    method: 'get',
    path: '/api/incidents/:id/report',
    operationId: 'incidentReport',
    tag: 'reviews',
    summary: 'The post-incident report: a draft while the incident is open, `final` once closed; JSON, or Markdown (`?format=markdown` or Accept)',
    roles: READ_ROLES,
    params: ReportIdParams,
    query: ReportQuery,
    responses: {
      200: {
        description: 'the report',
        component: 'IncidentReport',
        schema: IncidentReportSchema,
        alternatives: { 'text/markdown': () => ({ type: 'string' }) },
      },
    },
    problems: problemsFor(true, false),
  },
  {
    method: 'post',
    path: '/api/incidents/:id/action-items',
    operationId: 'addActionItem',
    tag: 'reviews',
    summary: 'Add a follow-up action item to an incident',
    roles: ['responder', 'approver'],
    params: ActionItemIncidentParams,
    body: { component: 'NewActionItem', schema: NewItemBody },
    responses: { 201: { description: 'the item', component: 'ActionItem', schema: ActionItemSchema, headers: { Location: 'the item' } } },
    problems: problemsFor(true, false),
  },
  {
    method: 'get',
    path: '/api/incidents/:id/action-items',
    operationId: 'listIncidentActionItems',
    tag: 'reviews',
    summary: 'The action items of an incident',
    roles: READ_ROLES,
    params: ActionItemIncidentParams,
    responses: { 200: { description: 'the items', component: 'ActionItemList', schema: ActionItemListSchema } },
    problems: problemsFor(true, false),
  },
  {
    method: 'get',
    path: '/api/action-items',
    operationId: 'listActionItems',
    tag: 'reviews',
    summary: 'Action items across the tenant, e.g. what is overdue',
    roles: READ_ROLES,
    query: TenantListQuery,
    responses: { 200: { description: 'the items', component: 'ActionItemList' } },
  },
  {
    method: 'patch',
    path: '/api/action-items/:itemId',
    operationId: 'updateActionItem',
    tag: 'reviews',
    summary: 'Change an action item: title, owner, due date or status',
    description: 'Send at least one field; `null` clears owner or due date.',
    roles: ['responder', 'approver'],
    params: ItemParams,
    body: { component: 'ActionItemPatch', schema: PatchBody },
    responses: { 200: { description: 'the item as changed', component: 'ActionItem' } },
    problems: problemsFor(true, false),
  },

  // --- runbooks (src/api/routes/runbooks.ts) ---
  {
    method: 'get',
    path: '/api/runbooks',
    operationId: 'listRunbooks',
    tag: 'runbooks',
    summary: 'The latest version of every runbook',
    roles: READ_ROLES,
    responses: { 200: { description: 'runbooks', component: 'RunbookList', schema: RunbookListSchema } },
  },
  {
    method: 'get',
    path: '/api/runbooks/:id',
    operationId: 'getRunbook',
    tag: 'runbooks',
    summary: 'The latest version of a runbook',
    roles: READ_ROLES,
    params: RunbookIdParams,
    responses: { 200: { description: 'the runbook with its version', component: 'RunbookView', schema: RunbookViewSchema } },
    problems: problemsFor(true, false),
  },
  {
    method: 'get',
    path: '/api/runbooks/:id/versions',
    operationId: 'listRunbookVersions',
    tag: 'runbooks',
    summary: 'Every version of a runbook',
    roles: READ_ROLES,
    params: RunbookIdParams,
    responses: { 200: { description: 'versions, oldest first', component: 'RunbookVersions', schema: RunbookVersionsSchema } },
    problems: problemsFor(true, false),
  },
  {
    method: 'post',
    path: '/api/runbooks/:id/test',
    operationId: 'dryRunRunbook',
    tag: 'runbooks',
    summary: 'Dry run: would the runbook match this sample incident, what would run, wait and be undone; no side effects',
    roles: READ_ROLES,
    params: RunbookIdParams,
    body: { component: 'DryRunBody', schema: DryRunBody },
    responses: { 200: { description: 'the plan', component: 'DryRunPlan', schema: DryRunPlanSchema } },
    problems: problemsFor(true, false),
  },
  {
    method: 'post',
    path: '/api/runbooks',
    operationId: 'createRunbook',
    tag: 'runbooks',
    summary: 'Create a runbook (JSON or YAML); 409 when it exists',
    description: "Step parameters are also checked against the schema of the step's action.",
    roles: ['admin'],
    body: { component: 'Runbook', schema: () => runbookJsonSchema(ACTION_TYPES), yaml: true },
    responses: { 201: { description: 'created as version 1', component: 'RunbookView', headers: { Location: 'the runbook' } } },
    problems: problemsFor(false, true),
  },
  {
    method: 'put',
    path: '/api/runbooks/:id',
    operationId: 'putRunbook',
    tag: 'runbooks',
    summary: 'Add a version of a runbook (JSON or YAML); running incidents keep the version they started with',
    description: 'The path names the runbook: a body without `id` takes it, a body with another `id` is refused.',
    roles: ['admin'],
    params: RunbookIdParams,
    body: { component: 'RunbookUpdate', schema: runbookUpdateSchema, yaml: true },
    responses: {
      200: { description: 'a new version was added', component: 'RunbookView' },
      201: { description: 'the first version was created', component: 'RunbookView' },
    },
  },

  // --- controls (src/api/routes/controls.ts) ---
  {
    method: 'get',
    path: '/api/controls',
    operationId: 'listControls',
    tag: 'controls',
    summary: 'Kill switches and blocks in force, for other services to poll',
    roles: [...READ_ROLES, 'ingest'],
    query: ControlsQuery,
    responses: { 200: { description: 'controls in force', component: 'Controls', schema: ControlsSchema } },
  },

  // --- settings (src/api/routes/settings.ts) ---
  {
    method: 'get',
    path: '/api/settings',
    operationId: 'getSettings',
    tag: 'settings',
    summary: "The tenant's settings: approval policy, response SLAs, escalation, notification channels",
    roles: ['admin'],
    responses: {
      200: { description: 'the settings in force (signing secrets are never answered)', component: 'PublicSettings', schema: PublicSettingsSchema },
    },
  },
  {
    method: 'put',
    path: '/api/settings',
    operationId: 'putSettings',
    tag: 'settings',
    summary: "Replace the tenant's settings; new incidents start with them",
    description: "Channel targets are also checked against the notify action's parameters.",
    roles: ['admin'],
    body: { component: 'TenantSettingsInput', schema: TenantSettingsSchema },
    responses: { 200: { description: 'the settings as stored (signing secrets are never answered)', component: 'PublicSettings' } },
  },

  // --- codec (src/api/routes/codec.ts) ---
  ...(['encode', 'decode'] as const).map((op): OperationSpec => ({
    method: 'post',
    path: `/api/codec/${op}`,
    operationId: `codec${op === 'encode' ? 'Encode' : 'Decode'}`,
    tag: 'codec',
    summary:
      op === 'decode' ? 'Decrypt payloads of a Temporal history (the Web UI and `temporal --codec-endpoint` call it)' : 'Encrypt payloads as the worker does',
    description: "Temporal's codec server protocol: payloads in protobuf JSON. 404 when payload encryption is off.",
    roles: ['admin'],
    body: { component: 'CodecPayloadsInput', schema: CodecPayloadsSchema },
    responses: { 200: { description: 'the payloads, converted', component: 'CodecPayloads', schema: CodecPayloadsSchema } },
    problems: [400],
  })),

  // --- API keys (src/api/routes/keys.ts) ---
  {
    method: 'post',
    path: '/api/keys',
    operationId: 'createKey',
    tag: 'keys',
    summary: 'Create an API key of this tenant; the key is answered once and stored only as a hash',
    roles: ['admin'],
    body: { component: 'NewKey', schema: CreateKeyBody },
    responses: { 201: { description: 'the key, shown this once', component: 'CreatedKey', schema: CreatedKeySchema } },
    problems: problemsFor(false, true),
  },
  {
    method: 'get',
    path: '/api/keys',
    operationId: 'listKeys',
    tag: 'keys',
    summary: "The tenant's API keys (prefixes only), revoked ones included",
    roles: ['admin'],
    responses: { 200: { description: 'the keys', component: 'KeyList', schema: KeyListSchema } },
  },
  {
    method: 'delete',
    path: '/api/keys/:id',
    operationId: 'revokeKey',
    tag: 'keys',
    summary: 'Revoke an API key; it stops working on the next request. A key cannot revoke itself (409)',
    roles: ['admin'],
    params: KeyParams,
    responses: { 200: { description: 'the revoked key', component: 'RevokedKey', schema: RevokedKeySchema } },
    problems: problemsFor(true, true),
  },

  // --- metrics (src/api/routes/metrics.ts) ---
  {
    method: 'get',
    path: '/api/metrics/summary',
    operationId: 'metricsSummary',
    tag: 'metrics',
    summary: 'Response metrics over a window (MTTA, MTTR, MTBF, SLA compliance by severity, counts)',
    roles: READ_ROLES,
    query: SummaryQuery,
    responses: { 200: { description: 'the summary', component: 'MetricsSummary', schema: MetricsSummarySchema } },
  },

  // --- detection rules and events (src/api/routes/rules.ts, src/api/routes/events.ts) ---
  {
    method: 'post',
    path: '/api/events',
    operationId: 'ingestEvent',
    tag: 'intake',
    summary: 'An event through the detection rules: counted per rule and correlation value; a rule whose threshold is reached opens (or joins) its incident',
    description:
      "Any JSON object (optional `id`, `source`, `time`), or a CloudEvents 1.0 event in structured mode (`Content-Type: application/cloudevents+json`, or any JSON body with `specversion`): `specversion`, `id`, `source` and `type` are required. A CloudEvent's payload fields are read both as `data.<field>` and as `<field>`. An event with an `id` is counted once per rule however often it is sent.",
    roles: ['ingest'],
    body: { component: 'Event', schema: GenericEventSchema },
    responses: {
      202: {
        description: 'what each matching rule did; an empty `matches` with a `reason` when none matched',
        component: 'EventOutcome',
        schema: EventOutcomeSchema,
      },
    },
  },
  {
    method: 'get',
    path: '/api/rules',
    operationId: 'listRules',
    tag: 'rules',
    summary: "The tenant's detection rules, disabled ones included",
    roles: READ_ROLES,
    responses: { 200: { description: 'rules by id', component: 'RuleList', schema: RuleListSchema } },
  },
  {
    method: 'get',
    path: '/api/rules/:id',
    operationId: 'getRule',
    tag: 'rules',
    summary: 'One detection rule',
    roles: READ_ROLES,
    params: RuleIdParams,
    responses: { 200: { description: 'the rule (windows in milliseconds)', component: 'RuleView', schema: RuleViewSchema } },
    problems: problemsFor(true, false),
  },
  {
    method: 'put',
    path: '/api/rules/:id',
    operationId: 'putRule',
    tag: 'rules',
    summary: 'Create or replace a detection rule (JSON or YAML)',
    description:
      'Errors name the path (`match[1].value`). Regex patterns that may backtrack catastrophically (nested quantifiers) are refused. `warnings` lists channels and a runbook the tenant does not have (yet).',
    roles: ['admin'],
    params: RuleIdParams,
    body: { component: 'RuleUpdate', schema: ruleUpdateSchema, yaml: true },
    responses: {
      200: { description: 'the rule was replaced', component: 'RuleSaved', schema: RuleSavedSchema },
      201: { description: 'the rule was created', component: 'RuleSaved', headers: { Location: 'the rule' } },
    },
  },
  {
    method: 'delete',
    path: '/api/rules/:id',
    operationId: 'disableRule',
    tag: 'rules',
    summary: 'Disable a detection rule (it stays listed; PUT enables it again) and drop its counts',
    roles: ['admin'],
    params: RuleIdParams,
    responses: { 200: { description: 'the disabled rule', component: 'RuleView' } },
    problems: problemsFor(true, false),
  },

  // --- circuit breakers (src/api/routes/breakers.ts) ---
  {
    method: 'get',
    path: '/api/breakers',
    operationId: 'listBreakers',
    tag: 'breakers',
    summary: 'Circuit breakers on automatic remediation: the open ones, or all with ?all=true',
    roles: READ_ROLES,
    query: BreakersQuery,
    responses: { 200: { description: 'the breakers', component: 'BreakerList', schema: BreakerListSchema } },
  },
  {
    method: 'post',
    path: '/api/breakers/reset',
    operationId: 'resetBreaker',
    tag: 'breakers',
    summary: 'Reset the open circuit breakers for a service (and one runbook, if given): automatic remediation may run again',
    roles: ['approver'],
    body: { component: 'BreakerReset', schema: ResetBody },
    responses: { 200: { description: 'how many were reset', component: 'BreakerResetDone', schema: BreakerResetDoneSchema } },
    problems: problemsFor(true, false),
  },

  // --- routes added later: list them above, in their section ---
];

const PROBLEM_TITLES: Record<number, string> = {
  400: 'invalid request: `errors` names each failing field',
  401: 'no API key, or an unknown or revoked one',
  403: 'the API key lacks the role',
  404: "not found (also for another tenant's resources)",
  409: 'conflicts with the current state',
  413: 'the body is larger than AIRE_BODY_LIMIT',
  415: 'the body is not JSON (or YAML where accepted)',
  429: 'this API key is over its rate limit (AIRE_RATE_LIMIT_INTAKE or AIRE_RATE_LIMIT_APPROVALS per minute); retry after Retry-After seconds',
  500: 'unexpected error; it has been logged',
  503: 'PostgreSQL or Temporal does not answer; retry after Retry-After seconds',
};

/** The problem+json statuses an operation may answer. */
export function problemStatuses(op: OperationSpec): number[] {
  if (op.roles === null) return [];
  const statuses = new Set([401, 403, 500, 503, ...(op.problems ?? [])]);
  if (op.params || op.query || op.headers || op.body) statuses.add(400);
  if (op.body) {
    statuses.add(413);
    statuses.add(415);
  }
  return [...statuses].sort((a, b) => a - b);
}

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) of what a client sends, or of what the API answers. */
function toJsonSchema(source: SchemaSource, io: 'input' | 'output'): JsonSchema {
  const schema: JsonSchema = typeof source === 'function' ? source() : z.toJSONSchema(source, { io, unrepresentable: 'any' });
  const copy = { ...schema };
  delete copy.$schema;
  delete copy.$id;
  return copy;
}

/** `/api/incidents/:id` → `/api/incidents/{id}` */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(schema: z.ZodType, where: 'path' | 'query'): JsonSchema[] {
  const json = toJsonSchema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(json.required) ? (json.required as string[]) : []);
  return Object.entries(properties).map(([name, property]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: property }));
}

function buildDocument(): JsonSchema {
  const schemas: Record<string, JsonSchema> = { Problem: toJsonSchema(ProblemSchema, 'output') };
  const referenced = new Set<string>();
  const register = (name: string, source: SchemaSource | undefined, io: 'input' | 'output'): JsonSchema => {
    if (source !== undefined) {
      const json = toJsonSchema(source, io);
      const known = schemas[name];
      if (known !== undefined && JSON.stringify(known) !== JSON.stringify(json)) throw new Error(`two different schemas named ${name}`);
      schemas[name] = json;
    }
    referenced.add(name);
    return { $ref: `#/components/schemas/${name}` };
  };

  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of OPERATIONS) {
    const path = openApiPath(op.path);
    const pathParams = op.params ? parameters(op.params, 'path') : [];
    const named = [...op.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
    const documented = pathParams.map((p) => p.name);
    if (named.join() !== documented.join())
      throw new Error(`${op.method.toUpperCase()} ${op.path}: path parameters ${named.join()} but schema has ${documented.join()}`);

    const headerParams = Object.entries(op.headers ?? {}).map(([name, schema]) => ({
      name,
      in: 'header',
      required: !schema.safeParse(undefined).success,
      schema: toJsonSchema(schema, 'input'),
    }));

    const responses: Record<string, JsonSchema> = {};
    for (const [status, spec] of Object.entries(op.responses)) {
      const schema = spec.component ? register(spec.component, spec.schema, 'output') : spec.schema ? toJsonSchema(spec.schema, 'output') : undefined;
      responses[status] = {
        description: spec.description,
        ...(spec.headers
          ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) }
          : {}),
        ...(schema
          ? {
              content: {
                [spec.contentType ?? 'application/json']: { schema },
                ...Object.fromEntries(Object.entries(spec.alternatives ?? {}).map(([type, alt]) => [type, { schema: toJsonSchema(alt, 'output') }])),
              },
            }
          : {}),
      };
    }
    for (const status of problemStatuses(op)) {
      responses[String(status)] = {
        description: PROBLEM_TITLES[status] ?? 'error',
        ...(status === 401 ? { headers: { 'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string' } } } } : {}),
        ...(status === 503 || status === 429 ? { headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'string' } } } } : {}),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }

    let requestBody: JsonSchema | undefined;
    if (op.body) {
      const ref = register(op.body.component, op.body.schema, 'input');
      requestBody = {
        required: true,
        content: { 'application/json': { schema: ref }, ...(op.body.yaml ? { 'application/yaml': { schema: ref } } : {}) },
      };
    }

    const roles = op.roles === null ? null : [...new Set(op.roles)];
    paths[path] ??= {};
    if (paths[path][op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is listed twice`);
    paths[path][op.method] = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      description: [op.description, roles ? `Roles: ${roles.join(', ')} (admin may do everything).` : 'No API key needed.'].filter(Boolean).join('\n\n'),
      ...(roles ? { 'x-required-roles': roles } : { security: [] }),
      ...(pathParams.length + headerParams.length > 0 || op.query
        ? { parameters: [...pathParams, ...(op.query ? parameters(op.query, 'query') : []), ...headerParams] }
        : {}),
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
  }

  for (const name of referenced) if (schemas[name] === undefined) throw new Error(`schema ${name} is referenced but never given`);

  return {
    openapi: '3.1.0',
    info: {
      title: 'AIRE API',
      version: packageJson.version,
      description: packageJson.description,
      license: { name: packageJson.license, identifier: packageJson.license },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    tags: [
      { name: 'health', description: 'liveness and readiness, no API key' },
      { name: 'meta', description: 'this document' },
      { name: 'console', description: 'the approval console (a static page)' },
      { name: 'intake', description: 'where incidents come in' },
      { name: 'incidents', description: 'reading incidents and signalling their workflows' },
      { name: 'reviews', description: 'post-incident reports and action items' },
      { name: 'runbooks', description: 'runbooks as code, versioned; dry runs' },
      { name: 'rules', description: 'detection rules that POST /api/events runs every event through' },
      { name: 'controls', description: 'kill switches and blocks in force' },
      { name: 'settings', description: "the tenant's approval policy, SLAs, escalation and notification channels" },
      { name: 'keys', description: "the tenant's API keys" },
      { name: 'breakers', description: 'circuit breakers on automatic remediation' },
      { name: 'metrics', description: 'Prometheus metrics and response metrics' },
      { name: 'codec', description: 'Temporal codec endpoint: encrypted payloads for the Web UI and CLI (AIRE_PAYLOAD_KEYS)' },
    ],
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'API key',
          description: '`Authorization: Bearer <api key>`; a key belongs to one tenant and has roles (ingest, viewer, responder, approver, admin).',
        },
      },
      schemas,
    },
  };
}

let cached: JsonSchema | undefined;

/** The document, built once from the zod schemas. */
export function openApiDocument(): JsonSchema {
  cached ??= buildDocument();
  return cached;
}

/** GET /api/openapi.json: public, like /healthz. */
export function openApiRoute(): RequestHandler {
  return (_req, res) => {
    res.json(openApiDocument());
  };
}
