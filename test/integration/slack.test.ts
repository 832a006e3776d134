import { createHmac } from 'node:crypto';
import { Receiver, type Received } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';

/**
 * Approve from Slack: an approval.needed message to a Slack channel carries Approve and Reject
 * buttons; a click comes back as Slack sends it (form-encoded, signed v0 with the app's signing
 * secret) and is decided by the workflow as an API approval is, by the roster person the Slack user
 * is mapped to. Slack's webhook and the interaction's response_url are a receiver on 127.0.0.1.
 */
describe('approving from Slack', () => {
  const SECRET = 'slack-signing-secret-0123456789abcdef';
  let stack: Stack;
  let slack: Receiver;
  let target: Receiver;
  let tenant: TestTenant;
  let replies = 0;

  beforeAll(async () => {
    stack = await Stack.start('slack');
    slack = await new Receiver().start();
    target = await new Receiver().start();
    tenant = await stack.tenant('slack');
    const settings = await stack.call('PUT', '/api/settings', tenant.keys.admin, {
      approval: { requiredApprovalsCritical: 2 },
      channels: [{ name: 'sre', target: { channel: 'slack', url: `${slack.url}/hook/T0/B0/token` }, events: ['approval.needed'] }],
      // alice declares with the responder key; carol approves with the approver key or from Slack: one person either way.
      people: [{ name: 'alice', keys: ['responder-key'] }, { name: 'bob' }, { name: 'carol', keys: ['approver-key'] }],
      slack: { signingSecret: SECRET, users: { UALICE: 'alice', UBOB: 'bob', UCAROL: 'carol' } },
    });
    expect(settings.status).toBe(200);
  });
  afterAll(async () => {
    await stack?.stop();
    await slack?.stop();
    await target?.stop();
  });

  /** The Slack message of this incident's approval request. */
  const approvalMessage = (id: string): Promise<Received> =>
    eventually(async () => slack.requests.find((r) => r.path.startsWith('/hook/') && JSON.stringify(r.body).includes(id)));

  /** A button click as Slack posts it: the interaction as JSON in the `payload` field of a form, signed v0. */
  async function click(
    user: string,
    action: 'aire_approve' | 'aire_reject',
    value: string,
    sign: { secret?: string; at?: number; body?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; reply: () => Promise<Received> }> {
    const replyPath = `/response/${++replies}`;
    const payload = {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0' },
      api_app_id: 'A0',
      token: 'legacy-verification-token',
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0', is_ephemeral: false },
      trigger_id: `trigger-${replies}`,
      team: { id: 'T0', domain: 'example' },
      channel: { id: 'C0', name: 'sre' },
      response_url: `${slack.url}${replyPath}`,
      actions: [{ action_id: action, block_id: 'aire_approval', text: { type: 'plain_text', text: 'x' }, value, type: 'button', action_ts: '1700000001.0' }],
    };
    const body = sign.body ?? new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = String(sign.at ?? Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', sign.secret ?? SECRET)
      .update(`v0:${timestamp}:${body}`)
      .digest('hex')}`;
    const res = await fetch(`${stack.baseUrl}/api/slack/interactions/${tenant.slug}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature },
      body,
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown>,
      reply: () => eventually(async () => slack.requests.find((r) => r.path === replyPath), 5_000),
    };
  }

  async function declare(rb: string, steps: unknown[], severity: string, key: string): Promise<string> {
    const created = await stack.call('POST', '/api/runbooks', tenant.keys.admin, { id: rb, name: rb, triggers: { titlePattern: rb }, steps });
    expect(created.status).toBe(201);
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', key, { title: `${rb} incident`, severity });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  const http = (rb: string, id: string, extra: Record<string, unknown> = {}) => ({
    id,
    name: `step ${id}`,
    action: 'http',
    params: { method: 'POST', url: `${target.url}/${rb}/${id}` },
    ...extra,
  });

  test('the approval message has Approve and Reject buttons; a signed click approves the step, which runs, on record as the mapped person', async () => {
    const rb = uniqueId('slack-step');
    const id = await declare(rb, [http(rb, 'one'), http(rb, 'act', { requiresApproval: true })], 'medium', tenant.keys.ingest);
    await stack.incidentWhen(tenant, id, (v) => v.live?.pendingApproval?.stepId === 'act');

    const message = (await approvalMessage(id)).body as { text: string; blocks: { type: string; elements?: Record<string, unknown>[] }[] };
    expect(message.text).toContain('Approval needed for step "act"');
    const buttons = message.blocks.find((b) => b.type === 'actions')?.elements;
    expect(buttons).toEqual([
      expect.objectContaining({
        type: 'button',
        action_id: 'aire_approve',
        style: 'primary',
        value: `${id}/act`,
        text: { type: 'plain_text', text: 'Approve' },
      }),
      expect.objectContaining({ type: 'button', action_id: 'aire_reject', style: 'danger', value: `${id}/act`, text: { type: 'plain_text', text: 'Reject' } }),
    ]);

    // A button of the runbook gate (an older message) does not approve the step gate waiting now.
    const stale = await click('UBOB', 'aire_approve', id);
    expect([stale.status, stale.body.detail]).toEqual([409, 'the pending gate is step "act", not the runbook gate this message was for']);

    const approved = await click('UBOB', 'aire_approve', `${id}/act`);
    expect([approved.status, approved.body]).toEqual([
      200,
      { id, stepId: 'act', accepted: 'approve', outcome: 'approved', actor: 'slack:bob', text: expect.stringContaining('bob (<@UBOB>) approved step "act"') },
    ]);
    expect((await approved.reply()).body).toEqual({ response_type: 'in_channel', replace_original: false, text: approved.body.text });

    const done = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/one`, `POST /${rb}/act`]);
    expect(done.approvals).toEqual([{ stepId: 'act', decision: 'approve', approver: 'slack:bob', reason: 'from Slack (user UBOB)', at: expect.any(String) }]);
    expect(done.actionLog.find((e) => e.kind === 'approval.granted')).toMatchObject({ actor: 'slack:bob', stepId: 'act' });

    // Decided once: a second click finds nothing waiting, and says so in Slack.
    const again = await click('UBOB', 'aire_approve', `${id}/act`);
    expect([again.status, again.body.detail]).toEqual([409, 'nothing is waiting for approval']);
    expect((await again.reply()).body).toMatchObject({ response_type: 'ephemeral', text: 'AIRE did not approve: nothing is waiting for approval' });
  });

  test('Reject from Slack rejects the step; the runbook applies its onReject', async () => {
    const rb = uniqueId('slack-reject');
    const id = await declare(rb, [http(rb, 'act', { requiresApproval: true, onReject: 'skip' }), http(rb, 'after')], 'low', tenant.keys.ingest);
    await stack.incidentWhen(tenant, id, (v) => v.live?.pendingApproval?.stepId === 'act');
    const rejected = await click('UCAROL', 'aire_reject', `${id}/act`);
    expect([rejected.status, rejected.body.outcome, rejected.body.actor]).toEqual([200, 'rejected', 'slack:carol']);
    const done = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(done.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['act', 'skipped'],
      ['after', 'succeeded'],
    ]);
    expect(done.approvals).toEqual([expect.objectContaining({ stepId: 'act', decision: 'reject', approver: 'slack:carol' })]);
  });

  test('refused, and nothing changes: a bad or stale signature, an unmapped Slack user, four-eyes, an approver counted twice', async () => {
    const rb = uniqueId('slack-critical');
    // alice declares (with her responder key) a critical incident: its runbook waits at the gate for two approvers.
    const id = await declare(rb, [http(rb, 'act')], 'critical', tenant.keys.responder);
    await stack.incidentWhen(tenant, id, (v) => v.live?.pendingApproval?.stepId === null);
    const button = ((await approvalMessage(id)).body as { blocks: { type: string; elements?: { value: string }[] }[] }).blocks.find((b) => b.type === 'actions')
      ?.elements?.[0]?.value;
    expect(button).toBe(id);

    const unchanged = async (): Promise<void> => {
      const view = await stack.incidentWhen(tenant, id, () => true);
      expect([view.incident.status, view.approvals, view.live?.pendingApproval?.approvals]).toEqual(['awaiting_approval', [], []]);
      expect(view.actionLog.filter((e) => e.kind.startsWith('approval.') && e.kind !== 'approval.requested')).toEqual([]);
    };
    const before = slack.requests.length;

    const forged = await click('UBOB', 'aire_approve', id, { secret: 'not-the-signing-secret-at-all' });
    expect([forged.status, forged.body.detail]).toEqual([401, "not a request signed by this tenant's Slack app: x-slack-signature does not match the body"]);
    const stale = await click('UBOB', 'aire_approve', id, { at: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect([stale.status, stale.body.detail]).toEqual([
      401,
      "not a request signed by this tenant's Slack app: the request is stale: its timestamp is more than 300 s from now",
    ]);
    const unsigned = await fetch(`${stack.baseUrl}/api/slack/interactions/${tenant.slug}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payload=%7B%7D',
    });
    expect(unsigned.status).toBe(401);
    // An unverified request is never answered in Slack: its response_url could point anywhere.
    expect(slack.requests.length).toBe(before);

    const stranger = await click('UMALLORY', 'aire_approve', id);
    expect([stranger.status, stranger.body.detail]).toEqual([403, 'Slack user UMALLORY is not mapped to an AIRE approver (settings slack.users)']);
    expect((await stranger.reply()).body).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('UMALLORY is not mapped') });

    const declarer = await click('UALICE', 'aire_approve', id);
    expect([declarer.status, declarer.body.detail]).toEqual([403, 'four-eyes: alice declared this critical incident and cannot also approve it']);
    expect((await declarer.reply()).body).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: 'AIRE did not approve: four-eyes: alice declared this critical incident and cannot also approve it',
    });
    await unchanged();

    // carol approves with her API key; from Slack she is the same person, and counts once.
    const byKey = await stack.call<{ outcome: string }>('POST', `/api/incidents/${id}/approve`, tenant.keys.approver, {});
    expect([byKey.status, byKey.body.outcome]).toEqual([200, 'approval-recorded']);
    const twice = await click('UCAROL', 'aire_approve', id);
    expect([twice.status, twice.body.detail]).toEqual([409, 'carol has already approved the runbook gate: an approver counts once']);

    const second = await click('UBOB', 'aire_approve', id);
    expect([second.status, second.body.outcome, second.body.stepId]).toEqual([200, 'approved', null]);
    const done = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    expect(target.paths(rb)).toEqual([`POST /${rb}/act`]);
    expect(done.approvals.map((a) => [a.decision, a.approver])).toEqual([
      ['approve', 'key:approver-key'],
      ['approve', 'slack:bob'],
    ]);
  });

  test('bad requests: not a form, no such tenant, not a button click, a value AIRE did not send', async () => {
    const url = `${stack.baseUrl}/api/slack/interactions/${tenant.slug}`;
    const json = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    const nobody = await fetch(`${stack.baseUrl}/api/slack/interactions/no-such-tenant`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payload=%7B%7D',
    });
    expect(nobody.status).toBe(404);

    const notJson = await click('UBOB', 'aire_approve', 'x', { body: 'payload=not-json' });
    expect([notJson.status, notJson.body.errors]).toEqual([400, [{ path: 'payload', message: 'not JSON' }]]);
    const shortcut = await click('UBOB', 'aire_approve', 'x', { body: new URLSearchParams({ payload: JSON.stringify({ type: 'shortcut' }) }).toString() });
    expect(shortcut.status).toBe(400);
    expect((shortcut.body.errors as { path: string }[]).map((e) => e.path)).toContain('payload.type');
    const polluted = await click('UBOB', 'aire_approve', 'x', { body: `payload=${encodeURIComponent('{"__proto__":{"admin":true},"type":"block_actions"}')}` });
    expect([polluted.status, polluted.body.errors]).toEqual([400, [{ path: 'payload', message: '__proto__: the key "__proto__" is not allowed' }]]);
    const badValue = await click('UBOB', 'aire_approve', '../etc/passwd');
    expect([badValue.status, (badValue.body.errors as { path: string }[]).map((e) => e.path)]).toEqual([400, ['payload.actions[0].value']]);
  });

  test('the signing secret is never answered, and stays out of incidents', async () => {
    const settings = await stack.call('GET', '/api/settings', tenant.keys.admin);
    expect(settings.body.slack).toEqual({ users: { UALICE: 'alice', UBOB: 'bob', UCAROL: 'carol' }, signingSecretSet: true });
    expect(JSON.stringify(settings.body)).not.toContain(SECRET);
    const rb = uniqueId('slack-secret');
    const id = await declare(rb, [http(rb, 'act')], 'low', tenant.keys.ingest);
    const view = await stack.incidentWhen(tenant, id, (v) => v.incident.status === 'mitigated');
    const history = await stack.temporal.workflow.getHandle(view.incident.workflowId).fetchHistory();
    const inputs = await Promise.all(
      (history.events ?? []).flatMap((e) => e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []).map((p) => stack.decodePayload<unknown>(p)),
    );
    expect(inputs.length).toBeGreaterThan(0);
    expect(JSON.stringify(inputs)).not.toContain(SECRET);
    expect(JSON.stringify(inputs)).not.toContain('signingSecret');
  });
});
