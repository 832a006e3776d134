import { Runbook, RunbookSchema } from '../domain/runbook';
import { isTemplated } from '../domain/template';
import { FieldError, ValidationError, fieldErrors, issueError } from '../domain/validation';
import { ACTION_TYPES, findAction } from './actions';

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
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
  runbook.steps.forEach((step, index) => {
    const action = findAction(step.action);
    if (!action) {
      errors.push({ path: `steps[${index}].action`, message: `unknown action type "${step.action}": one of ${ACTION_TYPES.join(', ')}` });
      return;
    }
    const result = action.params.safeParse(step.params);
    if (result.success) return;
    const relevant = result.error.issues.filter((issue) => !isTemplated(valueAt(step.params, issue.path)));
    errors.push(...relevant.map((issue) => issueError(issue, ['steps', index, 'params'])));
  });
  if (errors.length > 0) throw new ValidationError('invalid runbook', errors);
  return runbook;
}
