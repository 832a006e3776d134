import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { StoredRule } from '../../db/rules';
import { SlugSchema } from '../../domain/incident';
import { Rule, RuleSchema, unknownChannels } from '../../domain/rules';
import { SeveritySchema } from '../../domain/severity';
import { ValidationError, parseOrThrow } from '../../domain/validation';
import { READ_ROLES } from '../auth';
import { idFromPath, problemsFor, toJsonSchema } from '../openapi';
import { defineRoute } from '../route';
import { readSettings } from '../services/settings';
import { disableRuleNamed, ruleNamed, rulesOf, saveRule } from '../services/rules';

export const RuleIdParams = z.object({ id: SlugSchema });

export const RuleViewSchema = z.looseObject({
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
export const RuleListSchema = z.object({ items: z.array(RuleViewSchema) });
export const RuleSavedSchema = RuleViewSchema.extend({ warnings: z.array(z.string()) });

/** A rule as the API answers it: the definition (defaults filled in, windows in milliseconds) and who changed it when. */
export type RuleView = Rule & { createdAt: string; updatedAt: string; createdBy: string; updatedBy: string };

export function ruleView(stored: StoredRule): RuleView {
  return { ...stored.rule, createdAt: stored.createdAt, updatedAt: stored.updatedAt, createdBy: stored.createdBy, updatedBy: stored.updatedBy };
}

/** Rules arrive as JSON or as YAML (`Content-Type: application/yaml`). */
function ruleBody(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return parseYaml(raw, { maxAliasCount: 50 });
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
export const ruleRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/rules',
    operationId: 'listRules',
    tag: 'rules',
    summary: "The tenant's detection rules, disabled ones included",
    roles: READ_ROLES,
    responses: { 200: { description: 'rules by id', component: 'RuleList', schema: RuleListSchema } },
    handler: async ({ principal, deps, res }) => {
      const rules = await rulesOf(deps, principal);
      res.json({ items: rules.map(ruleView) });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/rules/:id',
    operationId: 'getRule',
    tag: 'rules',
    summary: 'One detection rule',
    roles: READ_ROLES,
    params: RuleIdParams,
    responses: { 200: { description: 'the rule (windows in milliseconds)', component: 'RuleView', schema: RuleViewSchema } },
    problems: problemsFor(true, false),
    handler: async ({ params: { id }, principal, deps, res }) => {
      res.json(ruleView(await ruleNamed(deps, principal, id)));
    },
  }),
  /** Creates or replaces the rule. `warnings` names what it refers to that the tenant does not have (yet). */
  defineRoute({
    method: 'put',
    path: '/api/rules/:id',
    operationId: 'putRule',
    tag: 'rules',
    summary: 'Create or replace a detection rule (JSON or YAML)',
    description:
      'Errors name the path (`match[1].value`). Regex patterns that may backtrack catastrophically (nested quantifiers) are refused. `warnings` lists channels and a runbook the tenant does not have (yet).',
    roles: ['admin'],
    params: RuleIdParams,
    // A rule as PUT takes it: the path names it, so `id` may be left out. Validated by validateRule.
    body: { component: 'RuleUpdate', schema: () => idFromPath(toJsonSchema(RuleSchema, 'input')), yaml: true },
    responses: {
      200: { description: 'the rule was replaced', component: 'RuleSaved', schema: RuleSavedSchema },
      201: { description: 'the rule was created', component: 'RuleSaved', headers: { Location: 'the rule' } },
    },
    handler: async ({ params: { id }, body, principal, deps, res }) => {
      const rule = validateRule(ruleBody(body), id);
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
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/api/rules/:id',
    operationId: 'disableRule',
    tag: 'rules',
    summary: 'Disable a detection rule (it stays listed; PUT enables it again) and drop its counts',
    roles: ['admin'],
    params: RuleIdParams,
    responses: { 200: { description: 'the disabled rule', component: 'RuleView' } },
    problems: problemsFor(true, false),
    handler: async ({ params: { id }, principal, deps, res }) => {
      res.json(ruleView(await disableRuleNamed(deps, principal, id)));
    },
  }),
];
