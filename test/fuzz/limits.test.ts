import { Server } from 'node:http';
import { AddressInfo, Socket, connect } from 'node:net';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { SERVER_TIMEOUTS, createApiServer } from '../../src/api/server';
import { withTenant } from '../../src/db/pool';
import { insertRunbookVersion } from '../../src/db/runbooks';
import { selectRunbook, testTitle } from '../../src/domain/matching';
import { Runbook, RunbookSchema } from '../../src/domain/runbook';
import { Stack, TestTenant } from '../support/stack';
import { deepJsonText } from './arbitraries';

/**
 * Bounded time and memory under hostile sizes and speeds: oversized and deeply nested bodies,
 * slowloris clients that trickle headers or a body, and regexes that backtrack catastrophically.
 */
describe('limits', () => {
  let stack: Stack;
  let tenant: TestTenant;

  beforeAll(async () => {
    stack = await Stack.start('limits', { worker: false });
    tenant = await stack.tenant('limits');
  });
  afterAll(async () => stack?.stop());

  async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const started = Date.now();
    const value = await work();
    return { value, ms: Date.now() - started };
  }

  async function send(path: string, body: string | Buffer, headers: Record<string, string> = {}, key = tenant.keys.admin) {
    const res = await fetch(`${stack.baseUrl}${path}`, {
      method: path.includes('/runbooks/') && !path.endsWith('/test') ? 'PUT' : 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body,
    });
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: (await res.json()) as { errors?: { path: string; message: string }[]; detail?: string },
    };
  }

  async function incidents(): Promise<number> {
    const { rows } = await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE tenant_id = $1', [tenant.id]);
    return rows[0]!.n;
  }

  describe('oversized and deeply nested bodies', () => {
    test('a body over the limit is refused with 413, with or without a Content-Length, without reading it all', async () => {
      const big = Buffer.alloc(8 * 1024 * 1024, 'a');
      const declared = await timed(() => send('/api/incidents', big));
      expect(declared.value).toMatchObject({ status: 413, type: expect.stringMatching(/^application\/problem\+json/) });
      // A chunked body: no length to refuse up front, so the parser stops at the limit.
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 64; i++) controller.enqueue(new Uint8Array(128 * 1024).fill(0x20));
          controller.close();
        },
      });
      const chunked = await fetch(`${stack.baseUrl}/api/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.keys.admin}`, 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      });
      expect(chunked.status).toBe(413);
      expect(declared.ms).toBeLessThan(5_000);
    });

    test('10,000 levels of nesting inside an otherwise valid declaration: 400 naming where, nothing opened', async () => {
      const before = await incidents();
      for (const kind of ['object', 'array'] as const) {
        const text = `{"title":"deep","severity":"low","context":{"features":${deepJsonText(10_000, kind)}}}`;
        expect(text.length).toBeLessThan(256 * 1024);
        const { value, ms } = await timed(() => send('/api/incidents', text));
        expect(value.status).toBe(400);
        expect(value.body.errors).toEqual([
          { path: `context.features${kind === 'array' ? '[0]'.repeat(62) : '.a'.repeat(62)}`, message: 'nested more than 64 levels deep' },
        ]);
        expect(ms).toBeLessThan(2_000);
      }
      // 100,000 levels (200 kB): still a quick 400, no stack overflow anywhere.
      const deepest = await timed(() => send('/api/incidents', deepJsonText(100_000, 'array')));
      expect(deepest.value.status).toBe(400);
      expect(deepest.ms).toBeLessThan(2_000);
      expect(await incidents()).toBe(before);
    });

    test('nesting in a YAML runbook, and a YAML alias bomb, are refused in bounded time', async () => {
      const yaml = { 'content-type': 'application/yaml' };
      const deep = `name: deep\nsteps: [{id: s, name: s, action: http, params: {url: "http://127.0.0.1:9/", body: ${deepJsonText(5_000, 'array')}}}]\n`;
      const nested = await timed(() => send('/api/runbooks/deep-yaml', deep, yaml));
      expect(nested.value.status).toBe(400);
      expect(nested.ms).toBeLessThan(5_000);
      const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < 10; i++)
        laughs.push(
          `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(96 + i)}`)
            .join(',')}]`,
        );
      const bomb = await timed(() => send('/api/runbooks/laughs', `${laughs.join('\n')}\nname: x\nsteps: []\n`, yaml));
      expect(bomb.value.status).toBe(400);
      expect(bomb.ms).toBeLessThan(5_000);
      const { rows } = await stack.admin.query('SELECT 1 FROM runbooks WHERE tenant_id = $1', [tenant.id]);
      expect(rows).toEqual([]);
    });
  });

  describe('slow clients (slowloris)', () => {
    const timeouts = { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, checkIntervalMs: 200 };
    let server: Server;
    let port: number;

    beforeAll(async () => {
      // The same app and server factory as src/api/main.ts, with the timeouts scaled down.
      const app = createApp({ pool: stack.pool, temporal: stack.temporal, config: stack.config }, pino({ level: 'silent' }));
      server = createApiServer(app, timeouts);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    test('the production server is built with bounded header, request and keep-alive timeouts', () => {
      const production = createApiServer(() => undefined);
      expect(production.headersTimeout).toBe(SERVER_TIMEOUTS.headersTimeoutMs);
      expect(production.requestTimeout).toBe(SERVER_TIMEOUTS.requestTimeoutMs);
      expect(production.keepAliveTimeout).toBe(SERVER_TIMEOUTS.keepAliveTimeoutMs);
      expect(SERVER_TIMEOUTS).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, checkIntervalMs: 1_000 });
    });

    /** Opens a raw connection, writes `head`, then one byte of `drip` every `everyMs` until the server closes it. */
    function trickle(head: string, drip: string, everyMs: number): Promise<{ answer: string; ms: number; sent: number }> {
      return new Promise((resolve, reject) => {
        const socket: Socket = connect(port, '127.0.0.1');
        const started = Date.now();
        let answer = '';
        let sent = 0;
        let timer: NodeJS.Timeout | undefined;
        const giveUp = setTimeout(() => {
          socket.destroy();
          reject(new Error(`the server kept a slow connection open for 15 s (answer so far: ${answer})`));
        }, 15_000);
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (answer += chunk));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearInterval(timer);
          clearTimeout(giveUp);
          resolve({ answer, ms: Date.now() - started, sent });
        });
        socket.on('connect', () => {
          socket.write(head);
          if (drip === '') return;
          timer = setInterval(() => {
            if (!socket.writable) return;
            socket.write(drip[sent % drip.length]!);
            sent += 1;
          }, everyMs);
        });
      });
    }

    test('a body trickled one byte every 300 ms is cut off after the request timeout with a 408 problem', async () => {
      const head = [
        'POST /api/incidents HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        `Authorization: Bearer ${tenant.keys.ingest}`,
        'Content-Type: application/json',
        'Content-Length: 100000',
        '',
        '',
      ].join('\r\n');
      const { answer, ms, sent } = await trickle(head, '{"title":"slow","severity":"low","context":{"x":"' + 'y'.repeat(50), 300);
      expect(ms).toBeLessThan(timeouts.requestTimeoutMs + 2 * timeouts.checkIntervalMs + 1_500);
      expect(sent).toBeLessThan(20);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toMatch(/content-type: application\/problem\+json/i);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 408, title: 'Request Timeout' });
    });

    test('headers trickled one byte every 300 ms are cut off after the headers timeout', async () => {
      const { answer, ms } = await trickle('GET /api/incidents HTTP/1.1\r\n', `X-Slow: ${'z'.repeat(100)}`, 300);
      expect(ms).toBeLessThan(timeouts.headersTimeoutMs + 2 * timeouts.checkIntervalMs + 1_500);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    });

    test('fifty slow clients at once do not keep the API from answering others, and are all cut off', async () => {
      const head = ['POST /api/incidents HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Content-Type: application/json', 'Content-Length: 5000', '', ''].join('\r\n');
      const slow = Array.from({ length: 50 }, () => trickle(head, '{', 250));
      await new Promise((r) => setTimeout(r, 500));
      const { value, ms } = await timed(() => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status));
      expect(value).toBe(200);
      expect(ms).toBeLessThan(1_000);
      const results = await Promise.all(slow);
      for (const r of results) expect(r.ms).toBeLessThan(timeouts.requestTimeoutMs + 2 * timeouts.checkIntervalMs + 2_000);
    });

    test('a request line or headers the parser refuses get a problem, not a bare close', async () => {
      const { answer } = await trickle(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, '', 100_000);
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(answer).toMatch(/application\/problem\+json/);
      const garbage = await trickle('NOT HTTP AT ALL\r\n\r\n', '', 100_000);
      expect(garbage.answer).toMatch(/^HTTP\/1\.1 400 /);
    });
  });

  describe('regexes that backtrack catastrophically', () => {
    const base = RunbookSchema.parse({ id: 'rx', name: 'rx', steps: [{ id: 's', name: 's', action: 'wait', params: { duration: '1s' } }] });
    const withPattern = (id: string, titlePattern: string): Runbook => ({ ...base, id, triggers: { ...base.triggers, titlePattern } });
    const longTitle = `${'a'.repeat(290)}!`;

    test('(a+)+$ is refused when a runbook is saved, quickly', async () => {
      const { value, ms } = await timed(() =>
        send('/api/runbooks/bomb', JSON.stringify({ name: 'bomb', triggers: { titlePattern: '(a+)+$' }, steps: base.steps })),
      );
      expect(value.status).toBe(400);
      expect(value.body.errors).toEqual([{ path: 'triggers.titlePattern', message: expect.stringContaining('backtrack catastrophically') }]);
      expect(ms).toBeLessThan(1_000);
    });

    test('a stored runbook with (a+)+$, or with (a|aa)+$ which static checks pass, matches a long title in bounded time', async () => {
      // Written directly, as a runbook saved before patterns were checked would be.
      await withTenant(stack.pool, tenant.id, async (c) => {
        await insertRunbookVersion(c, tenant.id, withPattern('nested', '(a+)+$'), 'test');
        await insertRunbookVersion(c, tenant.id, withPattern('alternation', '(a|aa)+$'), 'test');
      });
      for (const id of ['nested', 'alternation']) {
        const { value, ms } = await timed(async () => {
          const res = await fetch(`${stack.baseUrl}/api/runbooks/${id}/test`, {
            method: 'POST',
            headers: { authorization: `Bearer ${tenant.keys.viewer}`, 'content-type': 'application/json' },
            body: JSON.stringify({ incident: { title: longTitle, severity: 'high' } }),
          });
          return { status: res.status, body: (await res.json()) as { matched: boolean; matchReasons: string[] } };
        });
        expect(value.status).toBe(200);
        expect(value.body.matched).toBe(false);
        expect(value.body.matchReasons.join(' ')).toMatch(id === 'nested' ? /backtrack catastrophically/ : /took longer than 1000 ms/);
        expect(ms).toBeLessThan(3_000);
      }
      // The list still loads: a stored unsafe pattern does not break reading runbooks.
      expect((await fetch(`${stack.baseUrl}/api/runbooks`, { headers: { authorization: `Bearer ${tenant.keys.viewer}` } })).status).toBe(200);
    });

    test('selecting a runbook for an incident (the worker activity) is bounded the same way', () => {
      const candidates = [
        { runbook: withPattern('nested', '(a+)+$'), version: 1 },
        { runbook: withPattern('alternation', '(a|aa)+$'), version: 1 },
        { runbook: withPattern('plain', '^a+!$'), version: 1 },
      ];
      const started = Date.now();
      const choice = selectRunbook(candidates, { ...draft(), title: longTitle });
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(choice.selected?.runbook.id).toBe('plain');
      expect(testTitle('(a|aa)+$', 'a'.repeat(10_000))).toBe(true); // titles are cut to 300 characters for matching
    });
  });
});

function draft() {
  return {
    source: 'manual' as const,
    dedupKey: 'manual:x',
    severity: 'high' as const,
    title: 'x',
    affectedServices: [],
    labels: {},
    context: {},
    requireApproval: false,
    severityReasons: [],
  };
}
