import { approvalRefusal, requiredApprovals, runbookGate, stepGate } from '../../src/domain/gates';
import { ApprovalPolicySchema, DEFAULT_APPROVAL_POLICY } from '../../src/domain/policy';
import { Severity } from '../../src/domain/severity';
import { makeDraft, makeRunbook, makeStep } from './helpers';

describe('ApprovalPolicySchema', () => {
  it('defaults to high risk, a cost threshold of 20 and one approver', () => {
    const defaults = { approvalRisk: 'high', costThreshold: 20, requiredApprovals: 1, requiredApprovalsCritical: 1 };
    expect(DEFAULT_APPROVAL_POLICY).toEqual(defaults);
    expect(ApprovalPolicySchema.parse({})).toEqual(defaults);
  });

  it('asks the larger number of approvers for critical incidents, and refuses the declarer (four-eyes)', () => {
    const policy = ApprovalPolicySchema.parse({ requiredApprovals: 1, requiredApprovalsCritical: 2 });
    expect(requiredApprovals(policy, 'critical')).toBe(2);
    expect(requiredApprovals(policy, 'high')).toBe(1);
    expect(requiredApprovals(ApprovalPolicySchema.parse({ requiredApprovals: 3 }), 'critical')).toBe(3);
    expect(approvalRefusal('critical', 'key:oncall', 'key:oncall')).toMatch(/four-eyes/);
    expect(approvalRefusal('critical', 'key:oncall', 'key:lead')).toBeNull();
    expect(approvalRefusal('high', 'key:oncall', 'key:oncall')).toBeNull();
  });

  it('rejects an unknown risk and a negative threshold', () => {
    expect(ApprovalPolicySchema.safeParse({ approvalRisk: 'extreme' }).success).toBe(false);
    expect(ApprovalPolicySchema.safeParse({ costThreshold: -1 }).success).toBe(false);
  });
});

describe('runbookGate', () => {
  it('gates a critical incident even when the runbook does not require approval', () => {
    const runbook = makeRunbook({ requiresApproval: false });
    expect(runbookGate(makeDraft({ severity: 'critical', requireApproval: false }), runbook)).toEqual({
      required: true,
      reasons: ['critical incidents always need a human approval'],
      mode: 'co-pilot',
    });
  });

  it.each<Severity>(['high', 'medium', 'low', 'info'])('lets a %s incident run on autopilot when nothing asks for approval', (severity) => {
    expect(runbookGate(makeDraft({ severity }), makeRunbook())).toEqual({ required: false, reasons: [], mode: 'autopilot' });
  });

  it('gates when the runbook requires approval', () => {
    expect(runbookGate(makeDraft({ severity: 'low' }), makeRunbook({ id: 'restart-db', requiresApproval: true }))).toEqual({
      required: true,
      reasons: ['runbook "restart-db" requires approval'],
      mode: 'co-pilot',
    });
  });

  it('gates when the incident asks for approval', () => {
    expect(runbookGate(makeDraft({ severity: 'info', requireApproval: true }), makeRunbook())).toEqual({
      required: true,
      reasons: ['the incident was raised with requireApproval'],
      mode: 'co-pilot',
    });
  });

  it('lists every reason, critical first', () => {
    expect(runbookGate(makeDraft({ severity: 'critical', requireApproval: true }), makeRunbook({ id: 'rb', requiresApproval: true })).reasons).toEqual([
      'critical incidents always need a human approval',
      'runbook "rb" requires approval',
      'the incident was raised with requireApproval',
    ]);
  });
});

describe('stepGate', () => {
  it('runs a low-risk, free step on autopilot under the default policy', () => {
    expect(stepGate(makeStep(), DEFAULT_APPROVAL_POLICY)).toEqual({ required: false, reasons: [], mode: 'autopilot' });
  });

  it('gates a step that requires approval', () => {
    expect(stepGate(makeStep({ id: 'drop', requiresApproval: true }), DEFAULT_APPROVAL_POLICY)).toEqual({
      required: true,
      reasons: ['step "drop" requires approval'],
      mode: 'co-pilot',
    });
  });

  describe('risk', () => {
    it.each([
      ['low', 'high', false],
      ['medium', 'high', false],
      ['high', 'high', true],
      ['low', 'medium', false],
      ['medium', 'medium', true],
      ['high', 'medium', true],
      ['low', 'low', true],
      ['medium', 'low', true],
      ['high', 'low', true],
    ] as const)('a %s-risk step under approvalRisk %s: gated %p', (risk, approvalRisk, gated) => {
      const decision = stepGate(makeStep({ risk }), { approvalRisk, costThreshold: 20 });
      expect(decision.required).toBe(gated);
      expect(decision.mode).toBe(gated ? 'co-pilot' : 'autopilot');
      expect(decision.reasons).toEqual(gated ? [`risk ${risk} is at or above the policy's ${approvalRisk}`] : []);
    });
  });

  describe('cost', () => {
    it.each([
      [0, 20, false],
      [20, 20, false],
      [20.01, 20, true],
      [100, 20, true],
      [0, 0, false],
      [0.5, 0, true],
    ])('cost %p with threshold %p: gated %p', (estimatedCost, costThreshold, gated) => {
      const decision = stepGate(makeStep({ estimatedCost }), { approvalRisk: 'high', costThreshold });
      expect(decision.required).toBe(gated);
      expect(decision.reasons).toEqual(gated ? [`estimated cost ${estimatedCost} is over the policy's ${costThreshold}`] : []);
    });
  });

  it('lists every reason in order', () => {
    expect(stepGate(makeStep({ id: 's', requiresApproval: true, risk: 'high', estimatedCost: 50 }), DEFAULT_APPROVAL_POLICY)).toEqual({
      required: true,
      reasons: ['step "s" requires approval', "risk high is at or above the policy's high", "estimated cost 50 is over the policy's 20"],
      mode: 'co-pilot',
    });
  });
});
