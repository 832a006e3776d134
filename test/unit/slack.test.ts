import { randomUUID } from 'node:crypto';
import { incidentSettings } from '../../src/domain/incident-settings';
import {
  BlockActionsSchema,
  GateValueSchema,
  type SlackDecisionCheck,
  approvalGateOf,
  gateValue,
  rosterPersonOf,
  slackDecisionRefusal,
  slackSignature,
  slackSignatureProblem,
} from '../../src/domain/slack';
import { TenantSettingsSchema } from '../../src/domain/tenant-settings';

describe("Slack's request signature (v0)", () => {
  // The worked example of Slack's "Verifying requests from Slack" (a slash command's body).
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const timestamp = '1531420618';
  const body =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  const at = Number(timestamp) * 1000;

  test("is Slack's documented example", () => {
    expect(slackSignature(secret, timestamp, body)).toBe(signature);
    expect(slackSignatureProblem(secret, { timestamp, signature }, body, at)).toBeUndefined();
    expect(slackSignatureProblem(secret, { timestamp, signature }, body, at + 300_000)).toBeUndefined();
  });

  test('refuses another body, another secret, a stale or future timestamp, and malformed headers', () => {
    const problem = (headers: { timestamp?: string; signature?: string }, b = body, s = secret, now = at) =>
      slackSignatureProblem(s, { timestamp: headers.timestamp, signature: headers.signature }, b, now);
    expect(problem({ timestamp, signature }, `${body}&x=1`)).toMatch(/does not match/);
    expect(problem({ timestamp, signature }, body, `${secret}x`)).toMatch(/does not match/);
    expect(problem({ timestamp: '1531420619', signature })).toMatch(/does not match/);
    expect(problem({ timestamp, signature }, body, secret, at + 301_000)).toMatch(/stale/);
    expect(problem({ timestamp, signature }, body, secret, at - 301_000)).toMatch(/stale/);
    expect(problem({ signature })).toMatch(/x-slack-request-timestamp/);
    expect(problem({ timestamp: '1e9', signature })).toMatch(/x-slack-request-timestamp/);
    expect(problem({ timestamp })).toMatch(/x-slack-signature/);
    expect(problem({ timestamp, signature: signature.replace('v0=', 'v1=') })).toMatch(/x-slack-signature/);
    expect(problem({ timestamp, signature: signature.toUpperCase() })).toMatch(/x-slack-signature/);
    expect(problem({ timestamp, signature: signature.slice(0, -2) })).toMatch(/x-slack-signature/);
  });
});

describe('buttons and the gate they name', () => {
  const incidentId = randomUUID();

  test('a value names the incident and the gate, and reads back', () => {
    for (const stepId of [null, 'scale-out', 's_1']) expect(GateValueSchema.parse(gateValue({ incidentId, stepId }))).toEqual({ incidentId, stepId });
    expect(gateValue({ incidentId, stepId: null })).toBe(incidentId);
    for (const bad of ['', 'x', `${incidentId}/`, `${incidentId}/Scale`, `${incidentId}/a/b`, `../${incidentId}`, `${incidentId}/${'a'.repeat(65)}`])
      expect(GateValueSchema.safeParse(bad).success).toBe(false);
  });

  test("the gate is read from the workflow's approval request", () => {
    expect(approvalGateOf('Approval needed for the runbook of "Checkout down": critical incident (approve: POST …)')).toEqual({ stepId: null });
    expect(approvalGateOf('Approval needed for step "scale-out" of "Checkout down": risk high')).toEqual({ stepId: 'scale-out' });
    expect(approvalGateOf('Approval needed for step "Scale" of "x"')).toBeUndefined();
    expect(approvalGateOf('Escalation, tier 1: approval for step "x" is overdue')).toBeUndefined();
  });

  test('an interaction is a block_actions click on one of the two buttons', () => {
    const click = { type: 'block_actions', user: { id: 'U1' }, actions: [{ action_id: 'aire_approve', value: incidentId, type: 'button' }], extra: 1 };
    expect(BlockActionsSchema.parse(click)).toEqual({
      type: 'block_actions',
      user: { id: 'U1' },
      actions: [{ action_id: 'aire_approve', value: { incidentId, stepId: null } }],
    });
    const issues = (v: unknown) => BlockActionsSchema.safeParse(v).error?.issues.map((i) => i.path.join('.'));
    expect(issues({ ...click, type: 'view_submission' })).toEqual(['type']);
    expect(issues({ ...click, actions: [{ action_id: 'other', value: incidentId }] })).toEqual(['actions.0.action_id']);
    expect(issues({ ...click, actions: [] })).toEqual(['actions']);
    expect(issues({ ...click, response_url: 'not a url' })).toEqual(['response_url']);
  });
});

describe('who decides from Slack', () => {
  const people = [
    { name: 'alice', keys: ['alice-laptop', 'ci'] },
    { name: 'bob', keys: [] },
  ];

  test('an actor is a roster person through their keys, or as slack:<person>', () => {
    expect(rosterPersonOf(people, 'slack:bob')).toBe('bob');
    expect(rosterPersonOf(people, 'key:alice-laptop')).toBe('alice');
    expect(rosterPersonOf(people, 'key:someone-else')).toBeUndefined();
    expect(rosterPersonOf(people, 'aire')).toBeUndefined();
  });

  const check = (over: Partial<SlackDecisionCheck>): SlackDecisionCheck => ({
    kind: 'approve',
    person: 'alice',
    gate: { incidentId: randomUUID(), stepId: null },
    severity: 'critical',
    declaredBy: 'key:bob-key',
    pending: { stepId: null, approvals: [] },
    people,
    ...over,
  });

  test('the same rules as the workflow, comparing people: gate, four-eyes, an approver counts once', () => {
    expect(slackDecisionRefusal(check({}))).toBeUndefined();
    expect(slackDecisionRefusal(check({ pending: null }))).toEqual({ status: 409, why: 'nothing is waiting for approval' });
    expect(slackDecisionRefusal(check({ pending: { stepId: 'two', approvals: [] } }))).toEqual({
      status: 409,
      why: 'the pending gate is step "two", not the runbook gate this message was for',
    });
    // alice declared with one of her keys: she may not approve her critical incident from Slack, but may reject it.
    const hers = check({ declaredBy: 'key:ci' });
    expect(slackDecisionRefusal(hers)).toEqual({ status: 403, why: 'four-eyes: alice declared this critical incident and cannot also approve it' });
    expect(slackDecisionRefusal({ ...hers, kind: 'reject' })).toBeUndefined();
    expect(slackDecisionRefusal({ ...hers, severity: 'high' })).toBeUndefined();
    // Approved already with her key: counted once.
    expect(slackDecisionRefusal(check({ pending: { stepId: null, approvals: ['key:alice-laptop'] } }))).toEqual({
      status: 409,
      why: 'alice has already approved the runbook gate: an approver counts once',
    });
    expect(slackDecisionRefusal(check({ pending: { stepId: null, approvals: ['key:unknown'] } }))).toBeUndefined();
  });
});

describe('Slack settings', () => {
  const secret = 'a-signing-secret-of-slack-0123456789';

  test('map Slack users to people on the roster', () => {
    const ok = TenantSettingsSchema.safeParse({ people: [{ name: 'alice' }], slack: { signingSecret: secret, users: { U024BE7LH: 'alice' } } });
    expect(ok.success).toBe(true);
    const bad = TenantSettingsSchema.safeParse({
      people: [{ name: 'alice' }],
      slack: { signingSecret: secret, users: { U024BE7LH: 'mallory', alice: 'alice' } },
    });
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['slack.users.alice', 'a Slack user id, like U024BE7LH'],
      ['slack.users.U024BE7LH', 'no person named "mallory" in people'],
    ]);
    const unknown = TenantSettingsSchema.safeParse({ people: [{ name: 'alice' }], slack: { signingSecret: secret, users: { U024BE7LH: 'mallory' } } });
    expect(unknown.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['slack.users.U024BE7LH', 'no person named "mallory" in people']]);
    expect(TenantSettingsSchema.safeParse({ slack: { signingSecret: 'short' } }).success).toBe(false);
  });

  test('the signing secret never enters an incident', () => {
    const settings = TenantSettingsSchema.parse({ people: [{ name: 'alice' }], slack: { signingSecret: secret, users: { U024BE7LH: 'alice' } } });
    const input = JSON.stringify(incidentSettings(settings));
    expect(input).not.toContain(secret);
    expect(input).not.toContain('slack');
  });
});
