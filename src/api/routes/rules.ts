import type { Request } from 'express';
import { Router } from 'express';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { StoredRule } from '../../db/rules';
import { SlugSchema } from '../../domain/incident';
import { Rule, RuleSchema, unknownChannels } from '../../domain/rules';
import { ValidationError, parseOrThrow } from '../../domain/validation';
import { READ_ROLES, principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { readSettings } from '../services/settings';
import { disableRuleNamed, ruleNamed, rulesOf, saveRule } from '../services/rules';
import { params } from '../validate';

export const RuleIdParams = z.object({ id: SlugSchema });

/** A rule as the API answers it: the definition (defaults filled in, windows in milliseconds) and who changed it when. */
export function ruleView(stored: StoredRule): Rule & { createdAt: string; updatedAt: string; createdBy: string; updatedBy: string } {
  return { ...stored.rule, createdAt: stored.createdAt, updatedAt: stored.updatedAt, createdBy: stored.createdBy, updatedBy: stored.updatedBy };
}

/** Rules arrive as JSON or as YAML (`Content-Type: application/yaml`). */
function ruleBody(req: Request): unknown {
  if (typeof req.body !== 'string') return req.body;
  try {
    return parseYaml(req.body, { maxAliasCount: 50 });
  } catch (err) {
    throw new ValidationError('invalid rule', [{ path: '(body)', message: `not valid YAML: ${(err as Error).message}` }]);
  }
}

/** Validates a rule; errors name the path (`match[1].value`). The id comes from the path when the body has none. */
export function validateRule(raw: unknown, id?: string): Rule {
  const withId = id !== undefined && raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? { id, ...raw } : raw;
  const rule = parseOrThrow(RuleSchema, withId, 'rule');
  if (id !== undefined && rule.id !== id) throw new ValidationError('invalid rule', [{ path: 'id', message: `must be "${id}", as in the path` }]);
  return rule;
}

/** Detection rules of the tenant: read by viewers and up, written by admins. DELETE disables. */
export function ruleRoutes(deps: Deps): Router {
  const router = Router();

  router.get('/rules', requireRole(...READ_ROLES), async (_req, res) => {
    const rules = await rulesOf(deps, principalOf(res));
    res.json({ items: rules.map(ruleView) });
  });

  router.get('/rules/:id', requireRole(...READ_ROLES), async (req, res) => {
    const { id } = params(RuleIdParams, req);
    res.json(ruleView(await ruleNamed(deps, principalOf(res), id)));
  });

  /** Creates or replaces the rule. `warnings` names what it refers to that the tenant does not have (yet). */
  router.put('/rules/:id', requireRole('admin'), async (req, res) => {
    const { id } = params(RuleIdParams, req);
    const rule = validateRule(ruleBody(req), id);
    const principal = principalOf(res);
    const settings = await readSettings(deps, principal);
    const { stored, created, runbookExists } = await saveRule(deps, principal, rule);
    const warnings = [
      ...unknownChannels(settings, rule).map((name) => `channels: the tenant has no channel "${name}" (see PUT /api/settings); it is ignored until it does`),
      ...(runbookExists ? [] : [`runbookId: there is no runbook "${rule.runbookId}" yet; incidents of this rule run none until there is`]),
    ];
    res
      .status(created ? 201 : 200)
      .location(`/api/rules/${rule.id}`)
      .json({ ...ruleView(stored), warnings });
  });

  router.delete('/rules/:id', requireRole('admin'), async (req, res) => {
    const { id } = params(RuleIdParams, req);
    const principal = principalOf(res);
    res.json(ruleView(await disableRuleNamed(deps, principal, id)));
  });

  return router;
}
