import type { Principal } from '../../domain/access';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type ActionSpec, findActionSpec } from '../../domain/actions';
import { paramErrors } from '../../domain/runbook-validation';
import { SeedRunbookSchema, toSeedRunbook } from '../../domain/seed-runbook';
import { validateAnyRunbook } from '../../domain/seed-runbook-validation';
import { SlugSchema } from '../../domain/incident';
import { SampleIncidentSchema, draftFromSample, planRunbook } from '../../domain/dry-run';
import { redact } from '../../domain/redact';
import { type Runbook, RunbookSchema } from '../../domain/runbook';
import { addRunbookVersion, createRunbook, latestVersions, runbookVersion, versionsOf } from '../services/runbooks';
import { readSettings } from '../services/settings';
import { ValidationError } from '../../domain/validation';
import { READ_ROLES } from '../auth';
import type { Deps } from '../deps';
import { idFromPath, problemsFor, runbookSchema } from '../openapi';
import { HttpProblem } from '../problem';
import { defineRoute } from '../route';

export const IdParams = z.object({ id: SlugSchema });
/** `seed`: the runbook in seed 000's format (docs/runbooks.md says what that format cannot say). */
export const RunbookFormatQuery = z.object({ format: z.enum(['native', 'seed']).default('native') }).strict();
export const DryRunBody = z.object({ incident: SampleIncidentSchema, version: z.number().int().positive().optional() }).strict();

// ---- answers ----

/** A runbook as the API answers it: the definition with its defaults filled in (durations in milliseconds), and its version. */
export const RunbookViewSchema = z.object({
  ...RunbookSchema.shape,
  version: z.number().int(),
  /** When and by whom this version was stored; absent in the answer to POST, which just stored it. */
  createdAt: z.string().optional(),
  createdBy: z.string().optional(),
});
export type RunbookView = z.infer<typeof RunbookViewSchema>;
/** GET /api/runbooks/:id answers the runbook, or with `format=seed` its seed 000 document. */
export const RunbookOrSeedSchema = z.union([RunbookViewSchema, SeedRunbookSchema]);
export const RunbookListSchema = z.object({ items: z.array(RunbookViewSchema) });

export const RunbookVersionSchema = z.object({ version: z.number().int(), createdAt: z.string(), createdBy: z.string(), definition: RunbookSchema });
export type RunbookVersionView = z.infer<typeof RunbookVersionSchema>;
export const RunbookVersionsSchema = z.object({ items: z.array(RunbookVersionSchema) });

const GateSchema = z.object({ required: z.boolean(), reasons: z.array(z.string()), mode: z.enum(['autopilot', 'co-pilot']) });
/** A step of a dry run (PlannedStep in src/domain/dry-run.ts), with what undoing it would do or why it cannot be rendered. */
export const DryRunStepSchema = z.object({
  id: z.string(),
  name: z.string(),
  action: z.string(),
  /** Parameters as they would be sent; outputs of earlier steps stay as `{{steps.x.output.y}}`. */
  params: z.unknown().optional(),
  error: z.string().optional(),
  compensation: z.string().optional(),
  gate: GateSchema,
  onFailure: z.string(),
  onReject: z.string(),
  timeoutMs: z.number(),
});
export type DryRunStep = z.infer<typeof DryRunStepSchema>;
export const DryRunPlanSchema = z.object({
  runbook: z.object({ id: SlugSchema, version: z.number().int() }),
  matched: z.boolean(),
  matchReasons: z.array(z.string()),
  gate: GateSchema,
  steps: z.array(DryRunStepSchema),
  wouldRun: z.boolean(),
});
export type DryRunPlan = z.infer<typeof DryRunPlanSchema>;

/** Runbooks arrive as JSON or as YAML (`Content-Type: application/yaml`). */
function runbookBody(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return parseYaml(raw, { maxAliasCount: 50 });
  } catch (err) {
    throw new ValidationError('invalid runbook', [{ path: '(body)', message: `not valid YAML: ${(err as Error).message}` }]);
  }
}

/** What undoing the step would do; with outputs not known yet, parameters may still hold templates. */
function describeCompensation(action: ActionSpec, params: unknown): string {
  const parsed = action.params.safeParse(params);
  try {
    return action.describeCompensation(parsed.success ? parsed.data : params);
  } catch {
    return 'depends on outputs of earlier steps, known when the step runs';
  }
}

/** Dry run: does the runbook match this incident, what would run, what would wait, what undo would do. No side effects. */
async function dryRun(deps: Deps, principal: Principal, id: string, input: z.infer<typeof DryRunBody>): Promise<DryRunPlan> {
  const found = await runbookVersion(deps, principal, id, input.version);
  const plan = planRunbook(found.runbook, draftFromSample(input.incident), (await readSettings(deps, principal)).approval);
  const steps = plan.steps.map((step, index) => {
    const action = findActionSpec(step.action);
    if (step.params === undefined || !action) return step;
    const errors = paramErrors(action, step.params, ['steps', index, 'params']);
    if (errors.length > 0) return { ...step, error: errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
    return { ...step, compensation: describeCompensation(action, step.params) };
  });
  return { runbook: { id, version: found.version }, ...plan, steps, wouldRun: plan.matched && steps.every((s) => s.error === undefined) };
}

/** The seed 000 document of a runbook; what the seed format cannot say is a conflict with the stored runbook. */
function seedExport(runbook: Runbook): unknown {
  try {
    return toSeedRunbook(runbook);
  } catch (err) {
    if (err instanceof ValidationError) throw new HttpProblem(409, 'Conflict', err.message, err.errors);
    throw err;
  }
}

export const runbookRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/runbooks',
    operationId: 'listRunbooks',
    tag: 'runbooks',
    summary: 'The latest version of every runbook',
    roles: READ_ROLES,
    responses: { 200: { description: 'runbooks', component: 'RunbookList', schema: RunbookListSchema } },
    handler: async ({ principal, deps, res }) => {
      const rows = await latestVersions(deps, principal);
      res.json({ items: rows.map((r) => ({ ...r.runbook, version: r.version, createdAt: r.createdAt, createdBy: r.createdBy })) });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/runbooks/:id',
    operationId: 'getRunbook',
    tag: 'runbooks',
    summary: "The latest version of a runbook; `?format=seed` answers it in seed 000's runbook format",
    description:
      'With `format=seed` the answer is the seed 000 document (`triggerConditions`, `actions[{type, payload, order, requiresApproval}]`, `severityScope`, `requiresHsoeApproval`) that POST takes back; a runbook the seed format cannot say (a step whose action has no seed type, several sources or severities) is 409, naming the step.',
    roles: READ_ROLES,
    params: IdParams,
    query: RunbookFormatQuery,
    responses: {
      200: {
        description: 'the runbook with its version, or with `format=seed` the seed 000 document',
        component: 'RunbookOrSeed',
        schema: RunbookOrSeedSchema,
      },
    },
    problems: problemsFor(true, true),
    handler: async ({ params: { id }, query, principal, deps, res }) => {
      const found = await runbookVersion(deps, principal, id);
      if (query.format === 'seed') {
        res.json(seedExport(found.runbook));
        return;
      }
      res.json({ ...found.runbook, version: found.version, createdAt: found.createdAt, createdBy: found.createdBy });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/runbooks/:id/versions',
    operationId: 'listRunbookVersions',
    tag: 'runbooks',
    summary: 'Every version of a runbook',
    roles: READ_ROLES,
    params: IdParams,
    responses: { 200: { description: 'versions, oldest first', component: 'RunbookVersions', schema: RunbookVersionsSchema } },
    problems: problemsFor(true, false),
    handler: async ({ params: { id }, principal, deps, res }) => {
      const versions = await versionsOf(deps, principal, id);
      res.json({ items: versions.map((v) => ({ version: v.version, createdAt: v.createdAt, createdBy: v.createdBy, definition: v.runbook })) });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/runbooks/:id/test',
    operationId: 'dryRunRunbook',
    tag: 'runbooks',
    summary: 'Dry run: would the runbook match this sample incident, what would run, wait and be undone; no side effects',
    roles: READ_ROLES,
    params: IdParams,
    body: { component: 'DryRunBody', schema: DryRunBody },
    responses: { 200: { description: 'the plan', component: 'DryRunPlan', schema: DryRunPlanSchema } },
    problems: problemsFor(true, false),
    handler: async ({ params: { id }, body, principal, deps, res }) => {
      res.json(redact(await dryRun(deps, principal, id, body), deps.config.AIRE_SENSITIVE_KEYS));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/runbooks',
    operationId: 'createRunbook',
    tag: 'runbooks',
    summary: 'Create a runbook (JSON or YAML); 409 when it exists',
    description: "Step parameters are also checked against the schema of the step's action.",
    roles: ['admin'],
    // Validated by validateRunbook: the schema, then each step's parameters against its action's.
    body: { component: 'Runbook', schema: runbookSchema, yaml: true },
    responses: { 201: { description: 'created as version 1', component: 'RunbookView', schema: RunbookViewSchema, headers: { Location: 'the runbook' } } },
    problems: problemsFor(false, true),
    handler: async ({ body, principal, deps, res }) => {
      const runbook = validateAnyRunbook(runbookBody(body));
      const version = await createRunbook(deps, principal, runbook);
      res
        .status(201)
        .location(`/api/runbooks/${runbook.id}`)
        .json({ ...runbook, version });
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/runbooks/:id',
    operationId: 'putRunbook',
    tag: 'runbooks',
    summary: 'Add a version of a runbook (JSON or YAML); running incidents keep the version they started with',
    description: 'The path names the runbook: a body without `id` takes it, a body with another `id` is refused.',
    roles: ['admin'],
    params: IdParams,
    body: { component: 'RunbookUpdate', schema: () => idFromPath(runbookSchema()), yaml: true },
    responses: {
      200: { description: 'a new version was added', component: 'RunbookView' },
      201: { description: 'the first version was created', component: 'RunbookView' },
    },
    handler: async ({ params: { id }, body, principal, deps, res }) => {
      const raw = runbookBody(body);
      // The path names the runbook; a body without an id takes it, a body with another id is an error.
      const withId = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? { id, ...raw } : raw;
      const runbook = validateAnyRunbook(withId);
      if (runbook.id !== id) throw new ValidationError('invalid runbook', [{ path: 'id', message: `must be "${id}", as in the path` }]);
      const version = await addRunbookVersion(deps, principal, runbook);
      res.status(version === 1 ? 201 : 200).json({ ...runbook, version });
    },
  }),
];
