import { z } from 'zod';
import { IncidentDraft, IncidentSourceSchema } from './incident';
import { matchRunbook } from './matching';
import { GateDecision, runbookGate, stepGate } from './gates';
import type { ApprovalPolicy } from './policy';
import { Runbook } from './runbook';
import { SeveritySchema } from './severity';
import { TemplateError, render } from './template';

/** A sample incident for a dry run: only a title and a severity are needed. */
export const SampleIncidentSchema = z.object({
  title: z.string().trim().min(1).max(300),
  severity: SeveritySchema,
  source: IncidentSourceSchema.default('manual'),
  category: z.string().max(100).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  affectedServices: z.array(z.string()).default([]),
  context: z.record(z.string(), z.unknown()).default({}),
  requireApproval: z.boolean().default(false),
});
export type SampleIncident = z.infer<typeof SampleIncidentSchema>;

export function draftFromSample(sample: SampleIncident): IncidentDraft {
  return { ...sample, dedupKey: 'dry-run', severityReasons: ['given in the sample'] };
}

export interface PlannedStep {
  id: string;
  name: string;
  action: string;
  /** Parameters as they would be sent; outputs of earlier steps stay as `{{steps.x.output.y}}`. */
  params?: unknown;
  /** Why the parameters could not be rendered from this incident. */
  error?: string;
  gate: GateDecision;
  onFailure: string;
  onReject: string;
  timeoutMs: number;
}

export interface Plan {
  matched: boolean;
  matchReasons: string[];
  gate: GateDecision;
  steps: PlannedStep[];
}

const STEP_OUTPUT = /\{\{\s*(steps\.[^{}]*?)\s*\}\}/g;
const HIDDEN_OUTPUT = /⟦([^⟧]*)⟧/g;

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

/**
 * Outputs do not exist before a step runs: render everything else and leave `{{steps.…}}` in place,
 * so the plan shows where outputs go and parameter checks treat them as filled in at run time.
 */
function renderKeepingStepOutputs(params: unknown, scope: Record<string, unknown>, at: string): unknown {
  const hidden = mapStrings(params, (s) => s.replace(STEP_OUTPUT, (_m, path: string) => `⟦${path}⟧`));
  return mapStrings(render(hidden, scope, at), (s) => s.replace(HIDDEN_OUTPUT, (_m, path: string) => `{{${path}}}`));
}

/** What running `runbook` for `incident` would do, computed without side effects. */
export function planRunbook(runbook: Runbook, incident: IncidentDraft, policy: ApprovalPolicy): Plan {
  const match = matchRunbook(runbook, incident);
  const scope = { incident: { ...incident, id: '(dry run)' }, steps: {} };
  return {
    matched: match.matched,
    matchReasons: match.reasons,
    gate: runbookGate(incident, runbook),
    steps: runbook.steps.map((step, index) => {
      const planned: PlannedStep = {
        id: step.id,
        name: step.name,
        action: step.action,
        gate: stepGate(step, policy),
        onFailure: step.onFailure,
        onReject: step.onReject,
        timeoutMs: step.timeout,
      };
      try {
        planned.params = renderKeepingStepOutputs(step.params, scope, `steps[${index}].params`);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        planned.error = err.message;
      }
      return planned;
    }),
  };
}
