import { z } from 'zod';
import { IncidentDraft } from './incident';
import { Runbook, RunbookStep, RiskSchema } from './runbook';
import { Severity } from './severity';

/**
 * Tenant approval policy. Steps at or above `approvalRisk`, or costing more than `costThreshold`,
 * wait for a human ("co-pilot"); the rest run alone ("autopilot").
 */
export const ApprovalPolicySchema = z
  .object({
    approvalRisk: RiskSchema.default('high'),
    costThreshold: z.number().min(0).default(20),
    /** Distinct approvers a gate needs; critical incidents may ask for more (four-eyes and then some). */
    requiredApprovals: z.number().int().min(1).max(5).default(1),
    requiredApprovalsCritical: z.number().int().min(1).max(5).default(1),
  })
  .strict();
export type ApprovalPolicy = z.infer<typeof ApprovalPolicySchema>;
export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = ApprovalPolicySchema.parse({});

export interface GateDecision {
  required: boolean;
  reasons: string[];
  /** `autopilot` when no human is needed, `co-pilot` when one is. */
  mode: 'autopilot' | 'co-pilot';
}

function decision(reasons: string[]): GateDecision {
  return { required: reasons.length > 0, reasons, mode: reasons.length > 0 ? 'co-pilot' : 'autopilot' };
}

/**
 * The gate before a runbook's first step. A critical incident always passes through it: no runbook
 * setting or request flag can turn that off, because this is the one promise AIRE cannot break.
 */
export function runbookGate(incident: IncidentDraft, runbook: Runbook): GateDecision {
  const reasons: string[] = [];
  if (incident.severity === 'critical') reasons.push('critical incidents always need a human approval');
  if (runbook.requiresApproval) reasons.push(`runbook "${runbook.id}" requires approval`);
  if (incident.requireApproval) reasons.push('the incident was raised with requireApproval');
  return decision(reasons);
}

const RISK_ORDER = RiskSchema.options;

export function stepGate(step: RunbookStep, policy: Pick<ApprovalPolicy, 'approvalRisk' | 'costThreshold'>): GateDecision {
  const reasons: string[] = [];
  if (step.requiresApproval) reasons.push(`step "${step.id}" requires approval`);
  if (RISK_ORDER.indexOf(step.risk) >= RISK_ORDER.indexOf(policy.approvalRisk)) {
    reasons.push(`risk ${step.risk} is at or above the policy's ${policy.approvalRisk}`);
  }
  if (step.estimatedCost > policy.costThreshold) {
    reasons.push(`estimated cost ${step.estimatedCost} is over the policy's ${policy.costThreshold}`);
  }
  return decision(reasons);
}

export function requiredApprovals(policy: ApprovalPolicy, severity: Severity): number {
  return severity === 'critical' ? Math.max(policy.requiredApprovals, policy.requiredApprovalsCritical) : policy.requiredApprovals;
}

/**
 * Four-eyes: on a critical incident the one who declared it may not approve its remediation.
 * Returns why an approval is refused, or null when it counts.
 */
export function approvalRefusal(severity: Severity, declaredBy: string, approver: string): string | null {
  if (severity === 'critical' && declaredBy === approver) {
    return `four-eyes: ${approver} declared this critical incident and cannot also approve it`;
  }
  return null;
}
