import { IncidentDraft, IncidentDraftSchema } from '../../src/domain/incident';
import { Runbook, RunbookInput, RunbookSchema, RunbookStep, RunbookVersion, StepSchema } from '../../src/domain/runbook';

type DraftInput = Partial<IncidentDraft>;

/** A valid incident draft (checked by IncidentDraftSchema) with the given fields overridden. */
export function makeDraft(overrides: DraftInput = {}): IncidentDraft {
  return IncidentDraftSchema.parse({
    source: 'manual',
    dedupKey: 'manual:test',
    severity: 'medium',
    title: 'Database latency high',
    ...overrides,
  });
}

/** A valid runbook (checked by RunbookSchema) with one notify step unless steps are given. */
export function makeRunbook(overrides: Partial<RunbookInput> = {}): Runbook {
  return RunbookSchema.parse({
    id: 'rb',
    name: 'Runbook',
    steps: [{ id: 'notify', name: 'Notify', action: 'notify' }],
    ...overrides,
  });
}

export function makeVersion(overrides: Partial<RunbookInput> = {}, version = 1): RunbookVersion {
  return { runbook: makeRunbook(overrides), version };
}

export function makeStep(overrides: Record<string, unknown> = {}): RunbookStep {
  return StepSchema.parse({ id: 'step', name: 'Step', action: 'notify', ...overrides });
}
