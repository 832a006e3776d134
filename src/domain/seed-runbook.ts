/**
 * The runbook format of seed 000 (../shared/seeds/000_*.txt, "Example Runbooks"): `triggerConditions`,
 * `actions[{type, payload, order, requiresApproval}]`, `severityScope: "all" | <severity>` and
 * `requiresHsoeApproval`. Teams that wrote runbooks for the seed can post them as they are: this module
 * recognises the shape, converts it to the native runbook (src/domain/runbook.ts) and back. Pure.
 * Payload fields map to step parameters per action type (src/domain/seed-actions.ts).
 */
import { z } from 'zod';
import { IncidentSourceSchema, SlugSchema } from './incident';
import type { Runbook, RunbookInput } from './runbook';
import { SEED_ACTIONS, SEED_ACTION_TYPES, type SeedAction, seedActionOf } from './seed-actions';
import { SeveritySchema } from './severity';
import { type FieldError, ValidationError, fieldErrors } from './validation';

/** Appended to the description of a runbook that asked for HSOE approval, and removed on export. */
export const HSOE_NOTE = 'Seed 000 requiresHsoeApproval: HSOE approval is asked through the local approver role until the HSOE bridge exists.';

export const SeedActionSchema = z
  .object({
    type: z.string().min(1),
    payload: z.record(z.string(), z.unknown()).default({}),
    order: z.number().int(),
    requiresApproval: z.boolean().optional(),
  })
  .strict();

export const SeedRunbookSchema = z
  .object({
    /** Not in the seed's JSON (its database made a UUID): a slug here, else one is made from the name. */
    id: SlugSchema.optional(),
    name: z.string().trim().min(1).max(200),
    description: z.string().max(4_000).optional(),
    severityScope: z.union([z.literal('all'), SeveritySchema]).default('all'),
    triggerConditions: z
      .object({ source: IncidentSourceSchema.optional(), minSeverity: SeveritySchema.optional(), titlePattern: z.string().min(1).max(300).optional() })
      .strict()
      .default({}),
    actions: z.array(SeedActionSchema).min(1).max(50),
    requiresHsoeApproval: z.boolean().default(false),
    enabled: z.boolean().default(true),
  })
  .strict();
export type SeedRunbook = z.infer<typeof SeedRunbookSchema>;
export type SeedRunbookInput = z.input<typeof SeedRunbookSchema>;

/** The seed's shape: `actions` and no `steps` (a native runbook always has `steps`, never `actions`). */
export function isSeedRunbook(raw: unknown): raw is Record<string, unknown> {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'actions' in raw && !('steps' in raw);
}

/** `Budget Overrun Response` → `budget-overrun-response`. */
export function slugFromName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return slug === '' ? 'runbook' : slug;
}

/** Where each native step came from: step index → the index of the seed action in the input. */
export interface SeedConversion {
  runbook: RunbookInput;
  actionIndex: number[];
}

/** Checks the seed shape and converts it; errors name seed paths (`actions[1].type`). */
export function convertSeedRunbook(raw: unknown): SeedConversion {
  const parsed = SeedRunbookSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError('invalid runbook (seed 000 format)', fieldErrors(parsed.error));
  const seed = parsed.data;
  const errors: FieldError[] = [];
  const orders = new Map<number, number>();
  seed.actions.forEach((action, index) => {
    const first = orders.get(action.order);
    if (first !== undefined) errors.push({ path: `actions[${index}].order`, message: `order ${action.order} is also the order of actions[${first}]` });
    else orders.set(action.order, index);
    if (!seedActionOf(action.type)) {
      errors.push({ path: `actions[${index}].type`, message: `unknown seed action type "${action.type}": one of ${SEED_ACTION_TYPES.join(', ')}` });
    }
  });
  if (errors.length > 0) throw new ValidationError('invalid runbook (seed 000 format)', errors);

  // The seed runs actions sorted by `order`; native steps run in array order.
  const actionIndex = seed.actions.map((_, index) => index).sort((a, b) => seed.actions[a]!.order - seed.actions[b]!.order);
  const steps = actionIndex.map((index) => {
    const action = seed.actions[index]!;
    const mapping = seedActionOf(action.type) as SeedAction;
    return {
      id: `${action.type}_${action.order}`.replace(/-/g, '_'),
      name: `${action.type} (seed action, order ${action.order})`,
      action: mapping.aireType,
      params: mapping.toParams(action.payload),
      requiresApproval: action.requiresApproval === true,
      // The seed skipped an action that was not approved and went on; a rejection here does the same.
      ...(action.requiresApproval === true ? { onReject: 'skip' as const } : {}),
    };
  });
  const description = seed.requiresHsoeApproval ? [seed.description, HSOE_NOTE].filter((s) => s !== undefined && s !== '').join('\n\n') : seed.description;
  const { source, minSeverity, titlePattern } = seed.triggerConditions;
  const runbook: RunbookInput = {
    id: seed.id ?? slugFromName(seed.name),
    name: seed.name,
    ...(description !== undefined ? { description } : {}),
    enabled: seed.enabled,
    ...(seed.severityScope === 'all' ? {} : { severityScope: [seed.severityScope] }),
    triggers: {
      ...(source !== undefined ? { sources: [source] } : {}),
      ...(minSeverity !== undefined ? { minSeverity } : {}),
      ...(titlePattern !== undefined ? { titlePattern } : {}),
    },
    requiresApproval: seed.requiresHsoeApproval,
    steps,
  };
  return { runbook, actionIndex };
}

/**
 * A native runbook in the seed format. What the seed format cannot say is left out (docs/runbooks.md
 * lists it: priority, limits, completion, step timeouts, retries, risk, onFailure, more than one
 * source or severity, categories, labels); steps whose action has no seed type make it fail.
 */
export function toSeedRunbook(runbook: Runbook): SeedRunbookInput {
  const errors: FieldError[] = [];
  const actions = runbook.steps.flatMap((step, index) => {
    const mapping = SEED_ACTIONS.find((a) => a.aireType === step.action);
    if (!mapping) {
      errors.push({ path: `steps[${index}].action`, message: `"${step.action}" has no seed 000 action type (${SEED_ACTION_TYPES.join(', ')})` });
      return [];
    }
    const action: z.input<typeof SeedActionSchema> = { type: mapping.seedType, payload: mapping.toPayload(step.params), order: index + 1 };
    if (step.requiresApproval) action.requiresApproval = true;
    return [action];
  });
  const sources = runbook.triggers.sources;
  if (sources !== undefined && sources.length > 1) errors.push({ path: 'triggers.sources', message: 'the seed format takes one source' });
  const scope = runbook.severityScope;
  if (scope !== undefined && scope.length > 1) errors.push({ path: 'severityScope', message: 'the seed format takes "all" or one severity' });
  if (errors.length > 0) throw new ValidationError('cannot be said in the seed 000 format', errors);

  const description = runbook.description?.replace(HSOE_NOTE, '').trim();
  const { minSeverity, titlePattern } = runbook.triggers;
  return {
    id: runbook.id,
    name: runbook.name,
    ...(description !== undefined && description !== '' ? { description } : {}),
    severityScope: scope?.[0] ?? 'all',
    triggerConditions: {
      ...(sources?.[0] !== undefined ? { source: sources[0] } : {}),
      ...(minSeverity !== undefined ? { minSeverity } : {}),
      ...(titlePattern !== undefined ? { titlePattern } : {}),
    },
    actions,
    requiresHsoeApproval: runbook.requiresApproval,
    enabled: runbook.enabled,
  };
}
