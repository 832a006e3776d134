import { z } from 'zod';
import { RiskSchema } from './runbook';

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
