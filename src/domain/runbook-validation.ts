import { ACTION_TYPES, type ActionSpec, findActionSpec } from './actions';
import { UNSAFE_PATTERN, isSafePattern } from './matching';
import { Runbook, RunbookSchema } from './runbook';
import { isTemplated } from './template';
import { FieldError, ValidationError, fieldErrors, issueError } from './validation';

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Checks rendered or raw step parameters against the action's schema. Templated values
 * (`{{…}}`) are filled in at run time, so problems on them are left to render time.
 */
export function paramErrors(action: ActionSpec, params: unknown, prefix: ReadonlyArray<PropertyKey>): FieldError[] {
  const result = action.params.safeParse(params);
  if (result.success) return [];
  return result.error.issues.filter((issue) => !isTemplated(valueAt(params, issue.path))).map((issue) => issueError(issue, prefix));
}

/**
 * Validates a runbook completely: its shape, then each step's parameters against its action's schema.
 * A templated value (`{{incident.context.replicas}}`) cannot be type-checked before it is rendered,
 * so issues on templated values are left to render time; everything else is caught here, with paths
 * like `steps[2].params.url`.
 */
export function validateRunbook(input: unknown): Runbook {
  const parsed = RunbookSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('invalid runbook', fieldErrors(parsed.error));
  const runbook = parsed.data;
  const errors: FieldError[] = [];
  // A pattern that may backtrack catastrophically is refused on save (matching also bounds it at run time).
  const pattern = runbook.triggers.titlePattern;
  if (pattern !== undefined && !isSafePattern(pattern)) errors.push({ path: 'triggers.titlePattern', message: UNSAFE_PATTERN });
  runbook.steps.forEach((step, index) => {
    const action = findActionSpec(step.action);
    if (!action) {
      errors.push({ path: `steps[${index}].action`, message: `unknown action type "${step.action}": one of ${ACTION_TYPES.join(', ')}` });
      return;
    }
    errors.push(...paramErrors(action, step.params, ['steps', index, 'params']));
  });
  if (errors.length > 0) throw new ValidationError('invalid runbook', errors);
  return runbook;
}
