import { Runbook } from './runbook';
import { validateRunbook } from './runbook-validation';
import { seedActionOf } from './seed-actions';
import { convertSeedRunbook, isSeedRunbook } from './seed-runbook';
import { type FieldError, ValidationError } from './validation';

const STEP_PATH = /^steps\[(\d+)\](?:\.params\.([^.[]+))?(.*)$/;

/** A native error path said the way the seed document was written: `steps[0].params.flag` → `actions[2].payload.feature`. */
function seedPath(path: string, raw: Record<string, unknown>, actionIndex: number[]): string {
  const step = STEP_PATH.exec(path);
  if (step) {
    const index = actionIndex[Number(step[1])] ?? Number(step[1]);
    const action = (raw.actions as { type?: unknown }[] | undefined)?.[index];
    if (step[2] === undefined) return `actions[${index}]`;
    const mapping = typeof action?.type === 'string' ? seedActionOf(action.type) : undefined;
    return `actions[${index}].payload.${mapping ? mapping.payloadKey(step[2]) : step[2]}${step[3] ?? ''}`;
  }
  if (path.startsWith('triggers.sources')) return 'triggerConditions.source';
  if (path.startsWith('triggers.')) return `triggerConditions.${path.slice('triggers.'.length)}`;
  if (path.startsWith('severityScope')) return 'severityScope';
  if (path === 'requiresApproval') return 'requiresHsoeApproval';
  return path;
}

/**
 * Validates a seed 000 runbook completely, as validateRunbook does a native one (action parameters
 * included), and answers the native runbook. Every error names the path in the seed document.
 */
export function validateSeedRunbook(raw: Record<string, unknown>): Runbook {
  const { runbook, actionIndex } = convertSeedRunbook(raw);
  try {
    return validateRunbook(runbook);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const errors: FieldError[] = err.errors.map((e) => ({ path: seedPath(e.path, raw, actionIndex), message: e.message }));
    throw new ValidationError('invalid runbook (seed 000 format)', errors);
  }
}

/** Either format: the seed's (recognised by `actions` without `steps`) or the native one. */
export function validateAnyRunbook(raw: unknown): Runbook {
  return isSeedRunbook(raw) ? validateSeedRunbook(raw) : validateRunbook(raw);
}
