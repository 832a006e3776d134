import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { SMTPServer } from 'smtp-server';
import { notifyExecutor } from '../../src/activities/actions/notify';
import { transportOptions } from '../../src/activities/actions/notify/email';
import { ActionContext } from '../../src/activities/actions/types';
import { actionPorts } from '../../src/activities/ports';
import { type NotifyOutput, notifySpec } from '../../src/domain/actions/notify';
import { signBody } from '../../src/domain/signing';
import { Config, ConfigSchema } from '../../src/config';
import { Pool, createPool } from '../../src/db/pool';
import { Receiver } from '../support/receiver';

/** Never queried: notify does not touch PostgreSQL, and a pg pool connects only on first use. */
const pool: Pool = createPool('postgres://aire_app@127.0.0.1:5432/unused', 1);
const SECRET = 'webhook-signing-secret';

let target: Receiver;
let smtp: SmtpSink;
let config: Config;

interface Mail {
  from: string;
  to: string[];
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/** A real SMTP server on 127.0.0.1 that keeps every message; `nobody@…` is refused with 550. */
class SmtpSink {
  readonly mails: Mail[] = [];
  connections = 0;
  port = 0;
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onConnect: (_session, callback) => {
      this.connections += 1;
      callback();
    },
    onRcptTo: (address, _session, callback) => {
      callback(address.address.startsWith('nobody@') ? Object.assign(new Error('no such mailbox'), { responseCode: 550 }) : null);
    },
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        this.mails.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw, ...parseMail(raw) });
        callback();
      });
    },
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as { port: number }).port;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Headers (unfolded, lower-case names) and the text body, quoted-printable decoded. */
function parseMail(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.slice(split + 4);
  if (headers['content-transfer-encoding'] === 'quoted-printable') {
    body = Buffer.from(
      body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
  }
  return { headers, body: body.replace(/\r\n/g, '\n') };
}

beforeAll(async () => {
  target = await new Receiver().start();
  smtp = await new SmtpSink().start();
  config = ConfigSchema.parse({ AIRE_WEBHOOK_SECRET: SECRET, AIRE_SENSITIVE_KEYS: 'session_id', AIRE_SMTP_PORT: String(smtp.port) });
});

afterAll(async () => {
  await target?.stop();
  await smtp?.stop();
  await pool.end();
});

afterEach(() => {
  jest.restoreAllMocks();
});

function context(overrides: Partial<ActionContext> = {}): ActionContext {
  const incidentId = randomUUID();
  const stepId = `step-${randomUUID().slice(0, 8)}`;
  const tenantId = randomUUID();
  return {
    tenantId,
    incidentId,
    stepId,
    incident: { id: incidentId, title: 'Checkout is down', severity: 'high', source: 'manual' },
    idempotencyKey: `aire:${incidentId}:${stepId}`,
    ...actionPorts({ pool, config }, tenantId),
    remember: (_key, produce) => produce(),
    ...overrides,
  };
}

function mockEnv(): MockActivityEnvironment {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
}

/** Parses the parameters as steps.ts does, runs `execute`, then `compensate` if asked, each as a real activity. */
async function execute(ctx: ActionContext, raw: unknown): Promise<Record<string, unknown>> {
  const params = notifySpec.params.parse(raw);
  const output: NotifyOutput = await mockEnv().run(() => notifyExecutor.execute(ctx, params));
  // Exactly what the catalogue's output schema describes: nothing stripped, nothing refused.
  expect(notifySpec.output.parse(output)).toEqual(output);
  return output;
}

async function compensate(ctx: ActionContext, raw: unknown, output: Record<string, unknown>): Promise<unknown> {
  const params = notifySpec.params.parse(raw);
  const undo = notifyExecutor.compensate;
  if (!undo) throw new Error('notify has no compensate');
  return mockEnv().run(() => undo(ctx, params, output as NotifyOutput));
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected a failure, but it succeeded');
}

function posts(path: string): Array<{ body: unknown; raw: string; headers: Record<string, string | string[] | undefined> }> {
  return target.requests.filter((r) => r.method === 'POST' && r.path === path);
}

describe('parameters', () => {
  test('a step without channel is a webhook, as before channels existed', () => {
    expect(notifySpec.params.parse({ url: `${target.url}/h`, message: 'hi' })).toEqual({ channel: 'webhook', url: `${target.url}/h`, message: 'hi' });
  });

  test('each channel has its own schema, and an unknown channel is named', () => {
    const ok = (raw: unknown): boolean => notifySpec.params.safeParse(raw).success;
    expect(ok({ channel: 'slack', url: 'https://hooks.slack.com/services/T/B/X', message: 'hi' })).toBe(true);
    expect(ok({ channel: 'slack', url: 'https://hooks.slack.com/services/T/B/X', message: 'hi', headers: {} })).toBe(false);
    expect(notifySpec.params.parse({ channel: 'pagerduty', routingKey: 'R0UT1NG', message: 'hi' })).toMatchObject({
      url: 'https://events.pagerduty.com/v2/enqueue',
    });
    expect(ok({ channel: 'pagerduty', message: 'hi' })).toBe(false);
    expect(ok({ channel: 'email', to: ['oncall@example.com'], message: 'hi', smtp: { host: 'smtp.example.com', port: 587 } })).toBe(true);
    expect(ok({ channel: 'email', to: [], message: 'hi' })).toBe(false);
    expect(ok({ channel: 'email', to: ['not an address'], message: 'hi' })).toBe(false);
    const unknown = notifySpec.params.safeParse({ channel: 'sms', url: `${target.url}/h`, message: 'hi' });
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues).toEqual([expect.objectContaining({ path: ['channel'], message: 'channel must be one of webhook, slack, pagerduty, email' })]);
  });

  test('describeCompensation says what each channel would undo, without the Slack webhook secret', () => {
    const describe = (raw: unknown): string => notifySpec.describeCompensation(notifySpec.params.parse(raw));
    expect(describe({ url: 'http://127.0.0.1:9/h', message: 'hi' })).toBe('send a retraction of "hi" to http://127.0.0.1:9/h');
    expect(describe({ channel: 'slack', url: 'https://hooks.slack.com/services/T0/B0/SECRETPATH', message: 'hi' })).toBe(
      'post a retraction of "hi" to the Slack webhook on hooks.slack.com',
    );
    expect(describe({ channel: 'pagerduty', routingKey: 'k', message: 'hi' })).toBe(
      'resolve the PagerDuty alert it triggered (dedup key aire-<incident id>) via events.pagerduty.com',
    );
    expect(describe({ channel: 'email', to: ['a@example.com', 'b@example.com'], message: 'hi' })).toBe(
      'email a retraction of "hi" to a@example.com, b@example.com',
    );
  });
});

describe('webhook', () => {
  test('posts signed JSON, and compensation posts a signed retraction', async () => {
    const ctx = context();
    const params = { url: `${target.url}/hooks/a`, message: 'Scaling checkout; session_id=abc123', headers: { 'x-team': 'payments' } };
    const output = await execute(ctx, params);
    expect(output).toEqual({ delivered: true, channel: 'webhook', status: 200 });
    expect(await compensate(ctx, params, output)).toEqual({ retracted: true, channel: 'webhook', status: 200 });

    const [sent, retraction] = posts('/hooks/a');
    if (!sent || !retraction) throw new Error('expected the post and its retraction');
    expect(sent.body).toMatchObject({
      type: 'aire.notification',
      id: ctx.idempotencyKey,
      stepId: ctx.stepId,
      incident: ctx.incident,
      message: 'Scaling checkout; session_id=[REDACTED]',
    });
    expect(retraction.body).toMatchObject({
      type: 'aire.notification.retracted',
      message: 'Retracted after rollback: Scaling checkout; session_id=[REDACTED]',
    });
    expect([sent.headers['idempotency-key'], retraction.headers['idempotency-key']]).toEqual([ctx.idempotencyKey, `${ctx.idempotencyKey}:compensate`]);
    expect(sent.headers['x-team']).toBe('payments');
    for (const r of [sent, retraction]) {
      const signature = String(r.headers['x-aire-signature']);
      const t = Number(/^t=(\d+),v1=[0-9a-f]{64}$/.exec(signature)?.[1]);
      expect(signature).toBe(signBody(SECRET, r.raw, t));
      expect(Math.abs(Date.now() / 1000 - t)).toBeLessThan(60);
    }
  });

  test('is not signed without AIRE_WEBHOOK_SECRET', async () => {
    await execute(context({ webhookSecret: undefined }), { url: `${target.url}/hooks/unsigned`, message: 'hi' });
    expect(posts('/hooks/unsigned')[0]!.headers['x-aire-signature']).toBeUndefined();
  });
});

describe('slack', () => {
  test('posts a Block Kit message, and compensation posts a retraction', async () => {
    const ctx = context({ incident: { id: randomUUID(), title: 'Checkout <is> down', severity: 'critical', source: 'upewe' } });
    const params = { channel: 'slack', url: `${target.url}/services/T0/B0/xyz`, message: 'Scaling checkout & cache; token=hunter2' };
    const output = await execute(ctx, params);
    expect(output).toEqual({ delivered: true, channel: 'slack', status: 200 });
    await compensate(ctx, params, output);

    const [sent, retraction] = posts('/services/T0/B0/xyz');
    if (!sent || !retraction) throw new Error('expected the post and its retraction');
    expect(sent.body).toEqual({
      text: '[CRITICAL] Checkout &lt;is&gt; down: Scaling checkout &amp; cache; token=[REDACTED]',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '[CRITICAL] Checkout <is> down' } },
        { type: 'section', text: { type: 'mrkdwn', text: 'Scaling checkout &amp; cache; token=[REDACTED]' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `Incident ${ctx.incident.id} · source upewe · step ${ctx.stepId}` }] },
      ],
    });
    expect(retraction.body).toMatchObject({
      blocks: [
        { type: 'header', text: { text: 'Retracted: [CRITICAL] Checkout <is> down' } },
        { type: 'section', text: { text: 'Retracted after rollback: Scaling checkout &amp; cache; token=[REDACTED]' } },
        { type: 'context' },
      ],
    });
    expect(retraction.headers['idempotency-key']).toBe(`${ctx.idempotencyKey}:compensate`);
    expect(sent.headers['x-aire-signature']).toBeUndefined();
  });

  test("AIRE's approval requests get Approve and Reject buttons naming the incident and the gate; nothing else does", async () => {
    const blocks = async (ctx: ActionContext, path: string, message: string): Promise<unknown[]> => {
      await execute(ctx, { channel: 'slack', url: `${target.url}${path}`, message });
      return (posts(path)[0]?.body as { blocks: unknown[] }).blocks;
    };
    const buttons = (value: string) => ({
      type: 'actions',
      block_id: 'aire_approval',
      elements: [
        { type: 'button', action_id: 'aire_approve', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value },
        { type: 'button', action_id: 'aire_reject', text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value },
      ],
    });
    // The notification activity's step id is notify:<event>; the workflow names the gate in the message.
    const step = context({ stepId: 'notify:approval.needed' });
    const forStep = await blocks(step, '/services/T0/B0/step', 'Approval needed for step "scale-out" of "Checkout is down": risk high (approve: …)');
    expect(forStep[3]).toEqual(buttons(`${step.incidentId}/scale-out`));
    const gate = context({ stepId: 'notify:approval.needed' });
    const forRunbook = await blocks(gate, '/services/T0/B0/runbook', 'Approval needed for the runbook of "Checkout is down": critical incident');
    expect(forRunbook[3]).toEqual(buttons(gate.incidentId));
    // A runbook's own notify step, or another event, saying the same words gets none.
    expect(await blocks(context(), '/services/T0/B0/own', 'Approval needed for the runbook of "x": y')).toHaveLength(3);
    expect(await blocks(context({ stepId: 'notify:incident.opened' }), '/services/T0/B0/opened', 'Approval needed for the runbook of "x": y')).toHaveLength(3);
  });
});

describe('pagerduty', () => {
  test('triggers an alert, and compensation resolves it with the same dedup key', async () => {
    target.on('POST', '/v2/enqueue', { status: 202, body: { status: 'success', message: 'Event processed' } });
    const ctx = context();
    const params = { channel: 'pagerduty', url: `${target.url}/v2/enqueue`, routingKey: 'R0UTINGKEY0123456789', message: 'Checkout error rate 12%' };
    const output = await execute(ctx, params);
    expect(output).toEqual({ delivered: true, channel: 'pagerduty', status: 202, dedupKey: `aire-${ctx.incidentId}` });
    expect(await compensate(ctx, params, output)).toEqual({ retracted: true, channel: 'pagerduty', status: 202, dedupKey: `aire-${ctx.incidentId}` });

    const [trigger, resolve] = posts('/v2/enqueue').slice(-2);
    if (!trigger || !resolve) throw new Error('expected the trigger and its resolve');
    expect(trigger.body).toEqual({
      routing_key: 'R0UTINGKEY0123456789',
      event_action: 'trigger',
      dedup_key: `aire-${ctx.incidentId}`,
      client: 'AIRE',
      payload: {
        summary: '[HIGH] Checkout is down: Checkout error rate 12%',
        source: 'aire/manual',
        severity: 'error',
        custom_details: { message: 'Checkout error rate 12%', incident_id: ctx.incidentId, title: 'Checkout is down', severity: 'high', step_id: ctx.stepId },
      },
    });
    expect(resolve.body).toEqual({ routing_key: 'R0UTINGKEY0123456789', event_action: 'resolve', dedup_key: `aire-${ctx.incidentId}` });
  });

  test.each([
    ['critical', 'critical'],
    ['high', 'error'],
    ['medium', 'warning'],
    ['low', 'info'],
    ['info', 'info'],
  ])('maps severity %s to %s', async (severity, expected) => {
    target.on('POST', '/v2/enqueue', { status: 202 });
    const ctx = context();
    await execute(
      { ...ctx, incident: { ...ctx.incident, severity } },
      { channel: 'pagerduty', url: `${target.url}/v2/enqueue`, routingKey: 'k', message: 'm' },
    );
    expect((posts('/v2/enqueue').at(-1)?.body as { payload: { severity: string } }).payload.severity).toBe(expected);
  });

  test('keeps the routing key even when it is configured as sensitive', async () => {
    target.on('POST', '/v2/enqueue', { status: 202 });
    const ctx = context({ sensitiveKeys: ['routing_key', 'routingKey'] });
    await execute(ctx, { channel: 'pagerduty', url: `${target.url}/v2/enqueue`, routingKey: 'still-sent', message: 'm' });
    expect(posts('/v2/enqueue').at(-1)?.body).toMatchObject({ routing_key: 'still-sent' });
  });

  test('a 400 from the Events API fails for good', async () => {
    target.on('POST', '/v2/bad', { status: 400, body: { status: 'invalid event' } });
    const err = await failure(execute(context(), { channel: 'pagerduty', url: `${target.url}/v2/bad`, routingKey: 'k', message: 'm' }));
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('RejectedByTarget');
  });
});

describe('email', () => {
  test('sends a plain-text email through SMTP, and compensation sends a retraction in the same thread', async () => {
    const ctx = context();
    const params = {
      channel: 'email',
      to: ['oncall@example.com', 'sre@example.com'],
      subject: 'Checkout is down',
      message: 'Scaling checkout. password=hunter2 session_id=s-42',
    };
    const before = smtp.mails.length;
    const output = await execute(ctx, params);
    expect(output).toMatchObject({ delivered: true, channel: 'email', accepted: ['oncall@example.com', 'sre@example.com'] });
    await compensate(ctx, params, output);

    const [sent, retraction] = smtp.mails.slice(before);
    if (!sent || !retraction) throw new Error('expected the email and its retraction');
    expect(sent.from).toBe('aire@localhost');
    expect(sent.to).toEqual(['oncall@example.com', 'sre@example.com']);
    expect(sent.headers.to).toBe('oncall@example.com, sre@example.com');
    expect(sent.headers.subject).toBe('Checkout is down');
    expect(sent.headers['content-type']).toMatch(/^text\/plain/);
    expect(sent.body).toContain('Scaling checkout. password=[REDACTED] session_id=[REDACTED]');
    expect(sent.body).toContain(`Incident id: ${ctx.incidentId}`);
    expect(sent.body).toContain('Severity: high');
    expect(sent.raw).not.toContain('hunter2');
    expect(sent.raw).not.toContain('s-42');
    expect(sent.headers['x-aire-idempotency-key']).toBe(ctx.idempotencyKey);
    expect(sent.headers['message-id']).toMatch(/^<[0-9a-f]{32}@localhost>$/);
    expect(output.messageId).toBe(sent.headers['message-id']);

    expect(retraction.to).toEqual(['oncall@example.com', 'sre@example.com']);
    expect(retraction.headers.subject).toBe('Retracted: Checkout is down');
    expect(retraction.body).toContain('Retracted after rollback: Scaling checkout. password=[REDACTED]');
    expect(retraction.headers['x-aire-idempotency-key']).toBe(`${ctx.idempotencyKey}:compensate`);
    expect(retraction.headers['in-reply-to']).toBe(sent.headers['message-id']);
    expect(retraction.headers['message-id']).not.toBe(sent.headers['message-id']);
  });

  test('a retry sends the same Message-ID; the subject defaults to severity and title; smtp params override the config', async () => {
    const ctx = context({ smtp: { host: config.AIRE_SMTP_HOST, port: 1, from: config.AIRE_SMTP_FROM } });
    const params = { channel: 'email', to: ['oncall@example.com'], message: 'hi', smtp: { host: '127.0.0.1', port: smtp.port } };
    const before = smtp.mails.length;
    await execute(ctx, params);
    await execute(ctx, params);
    const [first, retry] = smtp.mails.slice(before);
    if (!first || !retry) throw new Error('expected the email and its retry');
    expect(first.headers.subject).toBe('[HIGH] Checkout is down');
    expect(retry.headers['message-id']).toBe(first.headers['message-id']);
  });

  test('a recipient the server refuses (550) fails for good', async () => {
    const err = await failure(execute(context(), { channel: 'email', to: ['nobody@example.com'], message: 'hi' }));
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('RejectedByTarget');
    expect(err.message).toContain(`SMTP 127.0.0.1:${smtp.port} refused the message`);
  });

  test('TLS is skipped on loopback only', () => {
    expect(transportOptions('127.0.0.1', 25)).toMatchObject({ ignoreTLS: true, requireTLS: false, secure: false });
    expect(transportOptions('localhost', 25)).toMatchObject({ ignoreTLS: true, requireTLS: false });
    expect(transportOptions('smtp.example.com', 587)).toMatchObject({ ignoreTLS: false, requireTLS: true, secure: false });
    expect(transportOptions('smtp.example.com', 465)).toMatchObject({ ignoreTLS: false, secure: true });
    expect(transportOptions('127.0.0.1.example.com', 25)).toMatchObject({ ignoreTLS: false, requireTLS: true });
  });
});

describe('egress', () => {
  test('an SMTP host off the allowlist is refused without connecting', async () => {
    const before = { connections: smtp.connections, mails: smtp.mails.length };
    const localhostOnly = context({ egress: { allowlist: ['localhost'] } });
    for (const [ctx, smtpParams] of [
      [localhostOnly, undefined],
      [context(), { host: 'smtp.example.com', port: 25 }],
      [context(), { host: '169.254.169.254', port: smtp.port }],
    ] as const) {
      const err = await failure(execute(ctx, { channel: 'email', to: ['oncall@example.com'], message: 'hi', ...(smtpParams ? { smtp: smtpParams } : {}) }));
      expect(err.nonRetryable).toBe(true);
      expect(err.type).toBe('EgressDenied');
      expect(err.message).toContain('not on the egress allowlist');
    }
    expect(smtp.connections).toBe(before.connections);
    expect(smtp.mails.length).toBe(before.mails);
  });

  test('webhook, Slack and PagerDuty URLs off the allowlist are refused without connecting', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    const before = target.requests.length;
    const localhostOnly = context({ egress: { allowlist: ['localhost'] } });
    const cases: Array<[ActionContext, unknown]> = [
      [localhostOnly, { url: `${target.url}/hooks/denied`, message: 'hi' }],
      [context(), { channel: 'slack', url: 'https://hooks.slack.com/services/T0/B0/xyz', message: 'hi' }],
      [context(), { channel: 'pagerduty', routingKey: 'k', message: 'hi' }],
    ];
    for (const [ctx, params] of cases) {
      const err = await failure(execute(ctx, params));
      expect(err.type).toBe('EgressDenied');
      expect(err.nonRetryable).toBe(true);
    }
    const pdDenied = await failure(execute(context(), { channel: 'pagerduty', routingKey: 'k', message: 'hi' }));
    expect(pdDenied.message).toContain('host "events.pagerduty.com" is not on the egress allowlist');
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(target.requests.length).toBe(before);
  });
});
