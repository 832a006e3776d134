import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Server as HttpServer, createServer as createHttpServer } from 'node:http';
import { AddressInfo, Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAllowed } from '../../src/activities/egress';
import { ipBytes } from '../../src/domain/egress';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';
import { Tripwire, installTripwire } from './tripwire';

/**
 * Hostile values in every templated field of http, notify, scale, verify, command, rollback_deploy,
 * restart and block steps, run by a real worker: shell metacharacters, path traversal, and SSRF targets
 * (cloud metadata addresses in every spelling, hosts off the allowlist, a redirect to one, a name
 * that resolves to a disallowed address). Nothing executes or connects: a listener standing in for
 * each target sees nothing, a tripwire refuses (and records) any connection leaving loopback, and
 * each step fails with a clear error that is not retried.
 */

type Expect = 'egress' | 'refused' | 'template' | 'invalid' | 'command' | 'redirect';
const ERRORS: Record<Expect, RegExp> = {
  egress: /egress denied/,
  /** Not http(s): the URL schema or the egress check refuses it, whichever sees it first. */
  refused: /egress denied|invalid parameters/,
  template: /would change (where the URL points|the URL's path)/,
  invalid: /invalid (parameters|request header)/,
  command: /command denied/,
  redirect: /redirects are not followed/,
};

interface Case {
  name: string;
  action: string;
  params: Record<string, unknown>;
  context: Record<string, unknown>;
  expect: Expect;
}

/** A TCP listener standing in for a target: it counts every connection it gets. */
class StandIn {
  connections = 0;
  private server: Server = createServer((socket) => {
    this.connections += 1;
    socket.destroy();
  });
  port = 0;
  constructor(readonly host: string) {}
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, this.host, resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A name from /etc/hosts, other than localhost, that resolves to a loopback address (e.g. the machine's own name). */
function loopbackAlias(): { name: string; address: string } | undefined {
  let hosts: string;
  try {
    hosts = readFileSync('/etc/hosts', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of hosts.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address) continue;
    const bytes = ipBytes(address);
    if (!bytes || bytes.length !== 4 || bytes[0] !== 127) continue;
    const name = names.find((n) => n !== 'localhost' && !n.startsWith('localhost.') && /^[a-z0-9.-]+$/i.test(n));
    if (name) return { name, address };
  }
  return undefined;
}

const MARK = join(tmpdir(), `aire-injection-${process.pid}`);

describe('injection through templated step parameters', () => {
  let stack: Stack;
  let tenant: TestTenant;
  let ok: Receiver;
  let standIn: StandIn;
  let redirector: HttpServer;
  let redirected = 0;
  let tripwire: Tripwire;
  const cases: Case[] = [];
  const results = new Map<string, { status: string; error: string; attempts: number; output: unknown }>();

  /** How one step ended: status, error in the action log, failed attempts (retries show up as more than one). */
  interface StepResult {
    status: string;
    error: string;
    attempts: number;
    output: unknown;
  }

  /**
   * Runs cases as the steps of one runbook (each step `onFailure: continue`, its values under
   * `incident.context.c<i>`), by a real worker, and reads how each step ended.
   */
  async function runGroup(target: Stack, who: TestTenant, group: Case[], index: number): Promise<StepResult[]> {
    const id = `inj-${index}-${uniqueId('r').slice(2)}`;
    const scoped = (params: unknown, i: number): unknown => JSON.parse(JSON.stringify(params).replace(/\{\{incident\.context\./g, `{{incident.context.c${i}.`));
    const runbook = {
      id,
      name: `injection ${index}`,
      steps: group.map((c, i) => ({
        id: `s${i}`,
        name: c.name.slice(0, 200),
        action: c.action,
        params: scoped(c.params, i),
        onFailure: 'continue',
        timeout: '15s',
        // Room for retries: a failure that is retried shows up as more than one attempt.
        retry: { maximumAttempts: 3, initialInterval: '200ms', maximumInterval: '200ms' },
      })),
    };
    const created = await target.call('POST', '/api/runbooks', who.keys.admin, runbook);
    if (created.status !== 201) throw new Error(`group ${index}: runbook refused: ${JSON.stringify(created.body)}`);
    const context = Object.fromEntries(group.map((c, i) => [`c${i}`, c.context]));
    const opened = await target.call<{ id: string }>('POST', '/api/incidents', who.keys.ingest, {
      title: `injection ${index}`,
      severity: 'low',
      runbookId: id,
      context,
    });
    if (opened.status !== 201) throw new Error(`group ${index}: incident refused: ${JSON.stringify(opened.body)}`);
    // Wait on the audit trail in SQL (cheap), then read the incident once through the API.
    await eventually(
      async () => {
        const { rows } = await target.admin.query<{ n: number }>(
          `SELECT count(DISTINCT step_id)::int AS n FROM action_log WHERE incident_id = $1 AND kind IN ('step.failed', 'step.succeeded')`,
          [opened.body.id],
        );
        return rows[0]!.n === group.length ? true : undefined;
      },
      180_000,
      300,
    );
    const view = await target.incidentWhen(who, opened.body.id, (v) => v.steps.every((st) => ['failed', 'succeeded'].includes(st.status)), 30_000);
    return group.map((_c, i) => {
      const stepId = `s${i}`;
      const step = view.steps.find((st) => st.stepId === stepId);
      const log = view.actionLog.filter((e) => e.stepId === stepId);
      return {
        status: step?.status ?? 'missing',
        error: String(log.find((e) => e.kind === 'step.failed')?.detail.error ?? ''),
        attempts: log.filter((e) => e.kind === 'step.attempt_failed').length,
        output: step?.output,
      };
    });
  }

  async function run(target: Stack, who: TestTenant, c: Case, index: number): Promise<StepResult> {
    return (await runGroup(target, who, [c], index))[0]!;
  }

  beforeAll(async () => {
    tripwire = installTripwire();
    rmSync(MARK, { force: true });
    ok = await new Receiver().start();
    ok.on('GET', '/deploys', {
      body: {
        releases: [
          { version: 1, status: 'good' },
          { version: 2, status: 'bad', current: true },
        ],
      },
    });
    standIn = await new StandIn('127.0.0.2').start();
    redirector = createHttpServer((req, res) => {
      redirected += 1;
      req.resume();
      res.writeHead(302, { location: `http://127.0.0.2:${standIn.port}/landing` }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    const redirectUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/go`;

    // Only 127.0.0.1 is allowed: not localhost by name, not the rest of 127/8.
    stack = await Stack.start('injection', { env: { AIRE_EGRESS_ALLOWLIST: '127.0.0.1', AIRE_COMMAND_ALLOWLIST: '/bin/echo' } });
    tenant = await stack.tenant('inj');

    const P2 = standIn.port;
    const OK = ok.url;
    const whole = '{{incident.context.url}}';
    const SSRF: string[] = [
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://metadata.google.internal/computeMetadata/v1/instance/',
      'http://[::ffff:169.254.169.254]/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://0xa9fea9fe/latest/',
      'http://2852039166/latest/',
      'http://169.254.43518/latest/',
      `http://0x7f000002:${P2}/x`,
      `http://2130706434:${P2}/x`,
      `http://0177.0.0.2:${P2}/x`,
      `http://127.0.0.2:${P2}/x`,
      `http://[::ffff:127.0.0.2]:${P2}/x`,
      'http://example.com/',
      `http://localhost:${new URL(OK).port}/by-name`,
      `http://127.0.0.1.nip.io:${new URL(OK).port}/`,
      'file:///etc/passwd',
      `gopher://127.0.0.1:${new URL(OK).port}/_x`,
    ];
    const fewSsrf = [SSRF[0]!, SSRF[7]!, SSRF[11]!];

    /** Every URL field of every action that calls out, as a function of the URL. */
    const urlFields: { name: string; action: string; params: (url: string, n: number) => Record<string, unknown>; ssrf: string[] }[] = [
      { name: 'http.url', action: 'http', params: (url) => ({ method: 'POST', url, body: { a: 1 } }), ssrf: SSRF },
      {
        name: 'http.compensate.url',
        action: 'http',
        params: (url) => ({ method: 'POST', url: `${OK}/http-main`, compensate: { method: 'POST', url } }),
        ssrf: fewSsrf,
      },
      { name: 'notify(webhook).url', action: 'notify', params: (url) => ({ url, message: 'hello' }), ssrf: fewSsrf },
      { name: 'notify(slack).url', action: 'notify', params: (url) => ({ channel: 'slack', url, message: 'hello' }), ssrf: fewSsrf },
      { name: 'scale.url', action: 'scale', params: (url) => ({ url, replicas: 2 }), ssrf: fewSsrf },
      { name: 'verify.url', action: 'verify', params: (url) => ({ url, interval: '100ms', timeout: '3s' }), ssrf: fewSsrf },
      { name: 'rollback_deploy.deploymentsUrl', action: 'rollback_deploy', params: (url) => ({ deploymentsUrl: url, service: 'api' }), ssrf: fewSsrf },
      {
        name: 'rollback_deploy.healthUrl',
        action: 'rollback_deploy',
        params: (url) => ({ deploymentsUrl: `${OK}/deploys`, service: 'api', healthUrl: url }),
        ssrf: fewSsrf,
      },
      { name: 'block.pushUrl', action: 'block', params: (url, n) => ({ target: `inj-target-${n}`, pushUrl: url }), ssrf: fewSsrf },
      { name: 'restart.url', action: 'restart', params: (url) => ({ url, healthUrl: `${OK}/health` }), ssrf: fewSsrf },
      { name: 'restart.healthUrl', action: 'restart', params: (url) => ({ url: `${OK}/services/api`, healthUrl: url }), ssrf: fewSsrf },
      {
        name: 'restart(kubernetes).apiUrl',
        action: 'restart',
        params: (url) => ({ kind: 'kubernetes', apiUrl: url, namespace: 'shop', name: 'api' }),
        ssrf: fewSsrf,
      },
    ];
    for (const field of urlFields) {
      for (const url of field.ssrf) {
        cases.push({
          name: `${field.name} = ${url}`,
          action: field.action,
          params: field.params(whole, cases.length),
          context: { url },
          expect: /^https?:/.test(url) ? 'egress' : 'refused',
        });
      }
      // Path traversal into an allowed host: refused before anything is sent.
      cases.push({
        name: `${field.name} path ../../etc/passwd`,
        action: field.action,
        params: field.params(`${OK}/t/{{incident.context.v}}/x`, cases.length),
        context: { v: '../../etc/passwd' },
        expect: 'template',
      });
    }
    cases.push({ name: 'http.url path ..', action: 'http', params: { url: `${OK}/t/{{incident.context.v}}/x` }, context: { v: '..' }, expect: 'template' });
    cases.push({
      name: 'http.url path ..\\..',
      action: 'http',
      params: { url: `${OK}/t/{{incident.context.v}}/x` },
      context: { v: '..\\..\\windows\\win.ini' },
      expect: 'template',
    });
    // Host part of a URL template.
    cases.push({
      name: 'http.url host 127.0.0.2',
      action: 'http',
      params: { url: `http://{{incident.context.v}}:${P2}/x` },
      context: { v: '127.0.0.2' },
      expect: 'egress',
    });
    cases.push({
      name: 'http.url host with userinfo',
      action: 'http',
      params: { url: `http://{{incident.context.v}}:${P2}/x` },
      context: { v: '127.0.0.1@127.0.0.2' },
      expect: 'template',
    });
    cases.push({
      name: 'http.url host with a path',
      action: 'http',
      params: { url: 'http://{{incident.context.v}}/x' },
      context: { v: `127.0.0.2:${P2}/y?` },
      expect: 'template',
    });
    // CR/LF in header values: no header injection, refused for good.
    const crlf = { v: 'a\r\nX-Injected: 1' };
    const headers = { 'x-trace': '{{incident.context.v}}' };
    cases.push({ name: 'http.headers CRLF', action: 'http', params: { url: `${OK}/h`, headers }, context: crlf, expect: 'invalid' });
    cases.push({ name: 'notify.headers CRLF', action: 'notify', params: { url: `${OK}/h`, message: 'x', headers }, context: crlf, expect: 'invalid' });
    cases.push({ name: 'scale.headers CRLF', action: 'scale', params: { url: `${OK}/h/capacity`, replicas: 1, headers }, context: crlf, expect: 'invalid' });
    cases.push({
      name: 'verify.headers CRLF',
      action: 'verify',
      params: { url: `${OK}/h`, headers, interval: '100ms', timeout: '3s' },
      context: crlf,
      expect: 'invalid',
    });
    cases.push({
      name: 'rollback_deploy.headers CRLF',
      action: 'rollback_deploy',
      params: { deploymentsUrl: `${OK}/deploys`, service: 'api', headers },
      context: crlf,
      expect: 'invalid',
    });
    cases.push({
      name: 'restart.headers CRLF',
      action: 'restart',
      params: { url: `${OK}/services/api`, healthUrl: `${OK}/health`, headers },
      context: crlf,
      expect: 'invalid',
    });
    // A Deployment name is not a URL template: a traversal in it is refused as a name, nothing is sent.
    cases.push({
      name: 'restart(kubernetes).namespace ../..',
      action: 'restart',
      params: { kind: 'kubernetes', apiUrl: OK, namespace: '{{incident.context.v}}', name: 'api' },
      context: { v: '../../api/v1/secrets' },
      expect: 'invalid',
    });
    // An allowed target answering with a redirect to a disallowed one: not followed.
    cases.push({ name: 'http redirect to 127.0.0.2', action: 'http', params: { method: 'GET', url: redirectUrl }, context: {}, expect: 'redirect' });
    // Commands: only the allowlisted executable, never a shell.
    for (const v of ['/bin/sh', `/bin/echo; touch ${MARK}`, '/bin/../bin/echo', '/usr/bin/env']) {
      cases.push({
        name: `command.command = ${v}`,
        action: 'command',
        params: { command: '{{incident.context.v}}', args: ['-c', `touch ${MARK}`] },
        context: { v },
        expect: 'command',
      });
    }
    // block: a target is an identifier, not a command line.
    cases.push({
      name: 'block.target with metacharacters',
      action: 'block',
      params: { target: '{{incident.context.v}}' },
      context: { v: `1.2.3.4; touch ${MARK}` },
      expect: 'invalid',
    });
    // email: the relay is checked like any host; recipients cannot smuggle headers.
    cases.push({
      name: 'notify(email).smtp.host 127.0.0.2',
      action: 'notify',
      params: { channel: 'email', to: ['a@example.com'], message: 'x', smtp: { host: '{{incident.context.v}}', port: P2 } },
      context: { v: '127.0.0.2' },
      expect: 'egress',
    });
    cases.push({
      name: 'notify(email).smtp.host metadata',
      action: 'notify',
      params: { channel: 'email', to: ['a@example.com'], message: 'x', smtp: { host: '{{incident.context.v}}', port: 25 } },
      context: { v: '169.254.169.254' },
      expect: 'egress',
    });
    cases.push({
      name: 'notify(email).to CRLF',
      action: 'notify',
      params: { channel: 'email', to: ['{{incident.context.v}}'], message: 'x' },
      context: { v: 'a@example.com\r\nBcc: victim@example.com' },
      expect: 'invalid',
    });

    // Eight cases to an incident: fewer workflows for the worker, the same number of steps.
    const groups = Array.from({ length: Math.ceil(cases.length / 8) }, (_g, i) => cases.slice(i * 8, i * 8 + 8));
    const outcomes = await Promise.all(groups.map((group, i) => runGroup(stack, tenant, group, i)));
    outcomes.flat().forEach((outcome, i) => results.set(cases[i]!.name, outcome));
  }, 300_000);

  afterAll(async () => {
    tripwire?.restore();
    await stack?.stop();
    await ok?.stop();
    await standIn?.stop();
    await new Promise<void>((resolve) => (redirector ? redirector.close(() => resolve()) : resolve()));
    rmSync(MARK, { force: true });
  });

  test('every hostile value fails its step with a clear error that is not retried', () => {
    const wrong: string[] = [];
    for (const c of cases) {
      const { status, error, attempts } = results.get(c.name) as StepResult;
      if (status !== 'failed' || !ERRORS[c.expect].test(error) || attempts > 1) {
        wrong.push(`${c.name}: step ${status} after ${attempts} failed attempt(s), error "${error}", expected ${c.expect}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(cases.length).toBeGreaterThan(50);
  });

  test('nothing connected: the stand-in targets saw nothing, nothing left loopback, the allowed host saw only the redirect', () => {
    expect(tripwire.attempts).toEqual([]);
    expect(standIn.connections).toBe(0);
    expect(redirected).toBe(1);
    expect(ok.requests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  test('nothing executed, and no block or switch was put in force', async () => {
    expect(existsSync(MARK)).toBe(false);
    const { rows } = await stack.admin.query('SELECT key FROM controls WHERE tenant_id = $1', [tenant.id]);
    expect(rows).toEqual([]);
  });

  test('shell metacharacters reach an allowlisted command as literal arguments, with no shell', async () => {
    const args = [
      `; touch ${MARK}`,
      `$(touch ${MARK})`,
      `\`touch ${MARK}\``,
      `| touch ${MARK}`,
      `&& touch ${MARK}`,
      `\ntouch ${MARK}`,
      '../../etc/passwd',
      "' OR '1'='1",
    ];
    const context = Object.fromEntries(args.map((a, i) => [`a${i}`, a]));
    const result = await run(
      stack,
      tenant,
      {
        name: 'echo',
        action: 'command',
        params: { command: '/bin/echo', args: args.map((_a, i) => `{{incident.context.a${i}}}`) },
        context,
        expect: 'command',
      },
      1_000,
    );
    expect(result.status).toBe('succeeded');
    expect((result.output as { stdout: string }).stdout).toBe(`${args.join(' ')}\n`);
    expect(existsSync(MARK)).toBe(false);
  });

  test('an encoded traversal stays one path segment of the allowed host', async () => {
    const result = await run(
      stack,
      tenant,
      {
        name: 'encoded',
        action: 'http',
        params: { url: `${ok.url}/t/{{incident.context.v}}/x` },
        context: { v: '..%2F..%2Fetc%2Fpasswd' },
        expect: 'template',
      },
      1_001,
    );
    expect(result.status).toBe('succeeded');
    expect(ok.requests.map((r) => r.path)).toEqual(['/t/..%252F..%252Fetc%252Fpasswd/x']);
  });

  test('an allowlisted name that resolves to an address off the list is refused, and nothing connects', async () => {
    const alias = loopbackAlias();
    if (!alias) {
      // Covered with an injected resolver in test/unit/egress-addresses.test.ts.
      process.stdout.write('no loopback alias in /etc/hosts: the DNS case runs only as a unit test here\n');
      return;
    }
    const target = await new StandIn(alias.address).start();
    // Only the name is allowed, not the address it resolves to.
    const dnsStack = await Stack.start('injection-dns', { env: { AIRE_EGRESS_ALLOWLIST: alias.name } });
    try {
      const who = await dnsStack.tenant('inj-dns');
      const result = await run(
        dnsStack,
        who,
        {
          name: 'dns',
          action: 'http',
          params: { url: '{{incident.context.url}}' },
          context: { url: `http://${alias.name}:${target.port}/x` },
          expect: 'egress',
        },
        1_002,
      );
      expect(result.status).toBe('failed');
      expect(result.error).toContain(`host "${alias.name}" resolves to ${alias.address}`);
      expect(result.attempts).toBe(1);
      expect(target.connections).toBe(0);
      // The name does resolve, and with its address on the list it would be allowed: the refusal was the address check.
      await expect(resolveAllowed(alias.name, [alias.name, alias.address])).resolves.toEqual(
        expect.arrayContaining([expect.objectContaining({ address: alias.address })]),
      );
    } finally {
      await dnsStack.stop();
      await target.stop();
    }
    expect(tripwire.attempts).toEqual([]);
  });

  test('the tripwire itself refuses a connection that would leave loopback (TEST-NET-1, never routed)', async () => {
    const { connect } = await import('node:net');
    const error = await new Promise<Error>((resolve) => connect(9, '192.0.2.1').on('error', resolve));
    expect(error.message).toContain('tripwire');
    expect(tripwire.attempts).toEqual(['192.0.2.1:9']);
    tripwire.attempts.length = 0;
  });
});
