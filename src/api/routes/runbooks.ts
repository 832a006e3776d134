import { Router } from 'express';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type ActionSpec, findActionSpec } from '../../domain/actions';
import { paramErrors, validateRunbook } from '../../domain/runbook-validation';
import { SlugSchema } from '../../domain/incident';
import { SampleIncidentSchema, draftFromSample, planRunbook } from '../../domain/dry-run';
import { redact } from '../../domain/redact';
import { addRunbookVersion, createRunbook, latestVersions, runbookVersion, versionsOf } from '../services/runbooks';
import { readSettings } from '../services/settings';
import { ValidationError } from '../../domain/validation';
import { READ_ROLES, principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { body, params } from '../validate';
import type { Request } from 'express';

export const IdParams = z.object({ id: SlugSchema });
export const DryRunBody = z.object({ incident: SampleIncidentSchema, version: z.number().int().positive().optional() }).strict();

/** Runbooks arrive as JSON or as YAML (`Content-Type: application/yaml`). */
function runbookBody(req: Request): unknown {
  if (typeof req.body !== 'string') return req.body;
  try {
    return parseYaml(req.body, { maxAliasCount: 50 });
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

export function runbookRoutes(deps: Deps): Router {
  const router = Router();

  router.get('/runbooks', requireRole(...READ_ROLES), async (_req, res) => {
    const rows = await latestVersions(deps, principalOf(res));
    res.json({ items: rows.map((r) => ({ ...r.runbook, version: r.version, createdAt: r.createdAt, createdBy: r.createdBy })) });
  });

  router.get('/runbooks/:id', requireRole(...READ_ROLES), async (req, res) => {
    const { id } = params(IdParams, req);
    const found = await runbookVersion(deps, principalOf(res), id);
    res.json({ ...found.runbook, version: found.version, createdAt: found.createdAt, createdBy: found.createdBy });
  });

  router.get('/runbooks/:id/versions', requireRole(...READ_ROLES), async (req, res) => {
    const { id } = params(IdParams, req);
    const versions = await versionsOf(deps, principalOf(res), id);
    res.json({ items: versions.map((v) => ({ version: v.version, createdAt: v.createdAt, createdBy: v.createdBy, definition: v.runbook })) });
  });

  /** Dry run: does the runbook match this incident, what would run, what would wait, what undo would do. No side effects. */
  router.post('/runbooks/:id/test', requireRole(...READ_ROLES), async (req, res) => {
    const { id } = params(IdParams, req);
    const input = body(DryRunBody, req);
    const principal = principalOf(res);
    const found = await runbookVersion(deps, principal, id, input.version);
    const plan = planRunbook(found.runbook, draftFromSample(input.incident), (await readSettings(deps, principal)).approval);
    const steps = plan.steps.map((step, index) => {
      const action = findActionSpec(step.action);
      if (step.params === undefined || !action) return step;
      const errors = paramErrors(action, step.params, ['steps', index, 'params']);
      if (errors.length > 0) return { ...step, error: errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
      return { ...step, compensation: describeCompensation(action, step.params) };
    });
    res.json(
      redact(
        { runbook: { id, version: found.version }, ...plan, steps, wouldRun: plan.matched && steps.every((s) => s.error === undefined) },
        deps.config.AIRE_SENSITIVE_KEYS,
      ),
    );
  });

  router.post('/runbooks', requireRole('admin'), async (req, res) => {
    const runbook = validateRunbook(runbookBody(req));
    const principal = principalOf(res);
    const version = await createRunbook(deps, principal, runbook);
    res
      .status(201)
      .location(`/api/runbooks/${runbook.id}`)
      .json({ ...runbook, version });
  });

  router.put('/runbooks/:id', requireRole('admin'), async (req, res) => {
    const { id } = params(IdParams, req);
    const raw = runbookBody(req);
    // The path names the runbook; a body without an id takes it, a body with another id is an error.
    const withId = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? { id, ...raw } : raw;
    const runbook = validateRunbook(withId);
    if (runbook.id !== id) throw new ValidationError('invalid runbook', [{ path: 'id', message: `must be "${id}", as in the path` }]);
    const principal = principalOf(res);
    const version = await addRunbookVersion(deps, principal, runbook);
    res.status(version === 1 ? 201 : 200).json({ ...runbook, version });
  });

  return router;
}
