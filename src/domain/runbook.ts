import { z } from 'zod';
import { DurationSchema } from './duration';
import { IncidentSourceSchema, SlugSchema } from './incident';
import { SeveritySchema } from './severity';
import { RISKS } from './gates';
import { checkReference, findReferences } from './template';

export const RetryPolicySchema = z
  .object({
    maximumAttempts: z.number().int().min(1).max(20).default(3),
    initialInterval: DurationSchema.default(1_000),
    backoffCoefficient: z.number().min(1).max(10).default(2),
    maximumInterval: DurationSchema.default(30_000),
  })
  .strict();
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

export const RiskSchema = z.enum(RISKS);
export type Risk = z.infer<typeof RiskSchema>;

export const StepSchema = z
  .object({
    id: SlugSchema,
    name: z.string().trim().min(1).max(200),
    /** One of the action types the engine knows; checked against the action registry on load. */
    action: SlugSchema,
    params: z.record(z.string(), z.unknown()).default({}),
    requiresApproval: z.boolean().default(false),
    /**
     * What a failure after all retries does: `abort` compensates what ran, `continue` goes on,
     * `escalate` waits for a person to decide: retry the step, skip it, or abort.
     */
    onFailure: z.enum(['abort', 'continue', 'escalate']).default('abort'),
    /** What a rejected approval does: `abort` compensates what ran, `skip` goes on without this step. */
    onReject: z.enum(['abort', 'skip']).default('abort'),
    timeout: DurationSchema.default(30_000),
    retry: RetryPolicySchema.default(RetryPolicySchema.parse({})),
    risk: RiskSchema.default('low'),
    estimatedCost: z.number().min(0).default(0),
  })
  .strict();
export type RunbookStep = z.infer<typeof StepSchema>;

export const TriggerSchema = z
  .object({
    sources: z.array(IncidentSourceSchema).min(1).optional(),
    minSeverity: SeveritySchema.optional(),
    titlePattern: z.string().min(1).max(300).refine(isValidRegex, 'not a valid regular expression').optional(),
    categories: z.array(z.string().min(1)).min(1).optional(),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type Trigger = z.infer<typeof TriggerSchema>;

export const RunbookSchema = z
  .object({
    id: SlugSchema,
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5_000).optional(),
    enabled: z.boolean().default(true),
    /** Among equally specific matches, the higher priority wins. */
    priority: z.number().int().min(-1000).max(1000).default(0),
    /** Severities this runbook may run for; absent means all. */
    severityScope: z.array(SeveritySchema).min(1).optional(),
    triggers: TriggerSchema.default({}),
    requiresApproval: z.boolean().default(false),
    /**
     * When an approval is not given in time and every escalation tier has fired: `abort` compensates
     * what ran; `reject` treats it as a rejection (the step's `onReject` decides).
     */
    approvalTimeoutPolicy: z.enum(['abort', 'reject']).default('abort'),
    /**
     * Brakes on runaway remediation, per affected service: past `maxRuns` runs in its window the
     * runbook waits for a person; after `breaker.failures` failures or rollbacks in its window a
     * circuit breaker opens and only a person resets it.
     */
    limits: z
      .object({
        maxRuns: z
          .object({ count: z.number().int().min(1).max(10_000), window: DurationSchema })
          .strict()
          .default({ count: 20, window: 3_600_000 }),
        breaker: z
          .object({ failures: z.number().int().min(1).max(1_000), window: DurationSchema })
          .strict()
          .default({ failures: 3, window: 3_600_000 }),
      })
      .strict()
      .default({ maxRuns: { count: 20, window: 3_600_000 }, breaker: { failures: 3, window: 3_600_000 } }),
    steps: z.array(StepSchema).min(1).max(50),
    completion: z
      .object({
        autoResolve: z.boolean().default(false),
        /** Resolve when the alert that opened the incident resolves (Alertmanager `resolved`). */
        resolveWhenAlertResolves: z.boolean().default(false),
      })
      .strict()
      .default({ autoResolve: false, resolveWhenAlertResolves: false }),
  })
  .strict()
  .superRefine((runbook, ctx) => {
    const seen = new Set<string>();
    runbook.steps.forEach((step, index) => {
      if (seen.has(step.id)) {
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'id'], message: `duplicate step id "${step.id}"` });
      }
      for (const ref of findReferences(step.params, 'params')) {
        const problem = checkReference(ref, seen);
        if (problem) ctx.addIssue({ code: 'custom', path: ['steps', index, ...ref.segments], message: problem });
      }
      seen.add(step.id);
    });
  });
export type Runbook = z.infer<typeof RunbookSchema>;
/** What a person writes: defaults may be left out. */
export type RunbookInput = z.input<typeof RunbookSchema>;

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern, 'i');
    return true;
  } catch {
    return false;
  }
}

/** A runbook as stored: the definition pinned at one version. */
export interface RunbookVersion {
  runbook: Runbook;
  version: number;
}
