/**
 * Where a human must approve: the runbook gate, step gates, how many approvers, and four-eyes.
 * Schema-free on purpose, like every module the incident workflow imports (see severity-scale.ts).
 */
import type { IncidentDraft } from './incident';
import type { ApprovalPolicy } from './policy';
import type { Runbook, RunbookStep } from './runbook';
import type { Severity } from './severity-scale';

/** A step's risk, from least to most; `RiskSchema` in runbook.ts is built from this. */
export const RISKS = ['low', 'medium', 'high'] as const;

export interface GateDecision {
  required: boolean;
  reasons: string[];
  /** `autopilot` when no human is needed, `co-pilot` when one is. */
  mode: 'autopilot' | 'co-pilot';
}

export function gateDecision(reasons: string[]): GateDecision {
  return { required: reasons.length > 0, reasons, mode: reasons.length > 0 ? 'co-pilot' : 'autopilot' };
}

/**
 * The gate before a runbook's first step. A critical incident always passes through it: no runbook
 * setting or request flag can turn that off, because this is the one promise AIRE cannot break.
 */
export function runbookGate(incident: Pick<IncidentDraft, 'severity' | 'requireApproval'>, runbook: Pick<Runbook, 'id' | 'requiresApproval'>): GateDecision {
  const reasons: string[] = [];
  if (incident.severity === 'critical') reasons.push('critical incidents always need a human approval');
  if (runbook.requiresApproval) reasons.push(`runbook "${runbook.id}" requires approval`);
  if (incident.requireApproval) reasons.push('the incident was raised with requireApproval');
  return gateDecision(reasons);
}

export function stepGate(step: RunbookStep, policy: Pick<ApprovalPolicy, 'approvalRisk' | 'costThreshold'>): GateDecision {
  const reasons: string[] = [];
  if (step.requiresApproval) reasons.push(`step "${step.id}" requires approval`);
  if (RISKS.indexOf(step.risk) >= RISKS.indexOf(policy.approvalRisk)) {
    reasons.push(`risk ${step.risk} is at or above the policy's ${policy.approvalRisk}`);
  }
  if (step.estimatedCost > policy.costThreshold) {
    reasons.push(`estimated cost ${step.estimatedCost} is over the policy's ${policy.costThreshold}`);
  }
  return gateDecision(reasons);
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
