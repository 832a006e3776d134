import { appendFileSync } from 'node:fs';
import { parse as parseQuery } from 'node:querystring';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { notifySpec } from '../../src/domain/actions';
import { paramErrors, validateRunbook } from '../../src/domain/runbook-validation';
import { hostileInputErrors } from '../../src/api/hostile-input';
import { validateRule } from '../../src/api/routes/rules';
import { parseEvent } from '../../src/domain/events';
import { OperationSpec, ProblemSchema } from '../../src/api/openapi';
import { OPERATIONS } from '../../src/api/routes';
import { TenantSettingsSchema } from '../../src/domain/tenant-settings';
import { formatPath } from '../../src/domain/validation';
import { Stack, TestTenant } from '../support/stack';
import { FUZZ_SEED, JsonPath, PROTO_KEYS, hostileJson, malformedJson, mutations, nastyString, pathsOf, toJsonText, withValueAt } from './arbitraries';
import { pool, tenantFootprint } from './support';

/**
 * Every API body, query and path parameter, driven from OPERATIONS: generated bad inputs (wrong
 * types, missing and extra fields, huge strings, deep nesting, hostile unicode, numbers out of range,
 * prototype keys, malformed JSON, wrong media types) get only 4xx problem+json answers, the process
 * stays up, and nothing is written: no row in any tenant table, settings unchanged, no workflow.
 *
 * FUZZ_API_INPUTS (default 10,000) sets how many; FUZZ_SEED replays a run.
 */
const TOTAL = Number(process.env.FUZZ_API_INPUTS ?? 10_000);
const CONCURRENCY = 20;
/** FUZZ_LOG=<file>: every input is appended there before it is sent (to find what crashed a process). */
const LOG = process.env.FUZZ_LOG;

/**
 * Temporal's codec protocol carries arbitrary bytes: a mutated payload (a field dropped, a string
 * replaced by "xxx…") is often still a payload, and converting it is a 200. For these a 200 with
 * converted payloads is a right answer too; anything else is held to the same rules.
 */
const ANY_BYTES = new Set(['codecEncode', 'codecDecode']);
const CODEC_SAMPLE = { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'eyJ0aXRsZSI6ImZ1enoifQ==' }] };

/** A valid body per operation: the starting point of mutations. A new operation with a body needs one here. */
const SAMPLE_BODIES: Record<string, Record<string, unknown>> = {
  codecEncode: CODEC_SAMPLE,
  codecDecode: CODEC_SAMPLE,
  incidentFromForecast: {
    id: 'fc-1',
    riskType: 'capacity exhaustion',
    confidence: 65,
    recommendedAction: 'scale out',
    rawFeatures: { service: 'checkout', replicas: 6 },
    impact: { availability: 90 },
  },
  intakeAlertmanager: {
    version: '4',
    groupKey: '{}:{alertname="HighCPU"}',
    status: 'firing',
    receiver: 'aire',
    groupLabels: { alertname: 'HighCPU' },
    commonLabels: { severity: 'warning' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'HighCPU', service: 'api' },
        annotations: { summary: 'CPU high' },
        startsAt: '2024-01-01T00:00:00Z',
        fingerprint: 'abc123',
      },
    ],
  },
  incidentFromEvent: { id: 'ev-1', source: 'asrs', riskScore: 70, outcome: 'near miss', actionType: 'deploy', details: { host: 'db-1' } },
  declareIncident: {
    title: 'Checkout down',
    severity: 'high',
    summary: 's',
    labels: { env: 'prod' },
    context: { service: 'checkout' },
    impact: { affectedUsers: 10 },
    dedupKey: 'k-1',
  },
  approveIncident: { reason: 'ok', stepId: 'one' },
  rejectIncident: { reason: 'no', stepId: 'one' },
  acknowledgeIncident: { reason: 'looking' },
  rollbackIncident: { reason: 'undo' },
  resolveIncident: { reason: 'fixed' },
  closeIncident: { reason: 'done' },
  completeManualStep: { outcome: 'done', note: 'restarted' },
  decideFailedStep: { decision: 'retry', reason: 'flaky' },
  addActionItem: { title: 'Add an alert', owner: 'sre', dueDate: '2030-01-01', status: 'open' },
  // Only the required field: without `text` (or with any other shape) a note is refused.
  addNote: { text: 'checked the dashboards' },
  editIncident: { title: 'Checkout errors' },
  assignRole: { role: 'commander', person: 'key:responder-key' },
  postStatusUpdate: { message: 'Rolling back the deploy' },
  runRunbookOnIncident: { runbookId: 'fuzz-new' },
  updateActionItem: { title: 'Add an alert', owner: null, dueDate: null, status: 'done' },
  dryRunRunbook: { incident: { title: 'capacity low', severity: 'high', context: { service: 'a' } }, version: 1 },
  createRunbook: {
    id: 'fuzz-new',
    name: 'n',
    triggers: { titlePattern: 'x', minSeverity: 'low' },
    steps: [{ id: 's', name: 's', action: 'http', params: { url: 'http://127.0.0.1:9/x', method: 'POST' }, retry: { maximumAttempts: 2 }, timeout: '5s' }],
  },
  putRunbook: { name: 'n', steps: [{ id: 's', name: 's', action: 'wait', params: { duration: '1s' } }] },
  putSettings: {
    approval: { approvalRisk: 'medium', costThreshold: 5 },
    responseSla: { critical: '10m' },
    channels: [{ name: 'ops', target: { channel: 'webhook', url: 'http://127.0.0.1:9/h', message: 'x' }, minSeverity: 'high' }],
    intake: { flapWindow: '5m', silences: [{ matchers: { service: 'db' }, reason: 'maintenance' }] },
  },
  createKey: { name: 'ci', roles: ['viewer', 'ingest'] },
  ingestEvent: { id: 'evt-1', source: 'auth', time: '2024-01-01T00:00:00Z', type: 'login.failed', actor: { ip: '10.0.0.1', user: 'bob' } },
  putRule: {
    name: 'Brute force',
    match: [
      { field: 'type', op: 'equals', value: 'login.failed' },
      { field: 'actor.user', op: 'regex', value: '^b', flags: 'i' },
    ],
    threshold: { count: 5, window: '5m' },
    correlateBy: 'actor.ip',
    category: 'security',
    severity: 'high',
  },
  resetBreaker: { service: 'checkout', runbookId: 'fuzz-rb', reason: 'fixed' },
};

const MEDIA_TYPES = [
  'application/json',
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/merge-patch+json',
  'application/cloudevents+json',
  'application/yaml',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  '',
];

interface Input {
  op: string;
  method: string;
  path: string;
  contentType?: string;
  body?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

describe('fuzzing every API body, query and path parameter', () => {
  let stack: Stack;
  let tenant: TestTenant;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // No rate limit: the fuzz sends thousands of requests with one key.
    stack = await Stack.start('fuzz-api', { worker: false, env: { AIRE_RATE_LIMIT_INTAKE: '0', AIRE_RATE_LIMIT_APPROVALS: '0' } });
    tenant = await stack.tenant('fuzz');
    // Real resources for path parameters, so validation, not a missing resource, is what refuses.
    const incident = await stack.call<{ id: string }>('POST', '/api/incidents', tenant.keys.ingest, { title: 'fuzz target', severity: 'high' });
    expect(incident.status).toBe(201);
    ids.incident = incident.body.id;
    const runbook = await stack.call('POST', '/api/runbooks', tenant.keys.admin, { ...SAMPLE_BODIES.putRunbook, id: 'fuzz-rb' });
    expect(runbook.status).toBe(201);
    ids.runbook = 'fuzz-rb';
    const item = await stack.call<{ id: string }>('POST', `/api/incidents/${ids.incident}/action-items`, tenant.keys.responder, { title: 'follow up' });
    expect(item.status).toBe(201);
    ids.item = item.body.id;
    const keys = await stack.call<{ items: { id: string; name: string }[] }>('GET', '/api/keys', tenant.keys.admin);
    ids.key = keys.body.items.find((k) => k.name === 'viewer-key')?.id as string;
    ids.step = 'one';
  });
  afterAll(async () => stack?.stop());

  /** This tenant's resource for a path parameter of `op`. */
  function fixtureFor(op: OperationSpec, name: string): string {
    if (name === 'stepId') return ids.step!;
    if (name === 'itemId') return ids.item!;
    if (op.path.startsWith('/api/runbooks/')) return ids.runbook!;
    if (op.path.startsWith('/api/keys/')) return ids.key!;
    if (op.path.startsWith('/api/rules/')) return 'fuzz-rule';
    return ids.incident!;
  }

  /** The path with this tenant's resources filled in, one parameter possibly replaced (already encoded). */
  function pathOf(op: OperationSpec, override?: { name: string; value: string }): string {
    return op.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => (override?.name === name ? override.value : fixtureFor(op, name)));
  }

  /** Whether the API would accept this body (so it is not a bad input and must not be sent). */
  function bodyAccepted(op: OperationSpec, contentType: string, raw: string): boolean {
    const media = contentType.split(';')[0]!.trim();
    const charset = /charset=([^;]+)/.exec(contentType)?.[1]?.trim().toLowerCase() ?? 'utf-8';
    // Decoded as body-parser decodes it: any utf-* charset iconv knows (a byte-order mark dropped); others are refused.
    if (!charset.startsWith('utf-') || !iconv.encodingExists(charset)) return false;
    const text = iconv.decode(Buffer.from(raw, 'utf8'), charset).replace(/^\ufeff/, '');
    const json = media === 'application/json' || /^application\/[^/]+\+json$/.test(media);
    const yaml = media === 'application/yaml';
    if (!json && !yaml) return false;
    let parsed: unknown;
    try {
      if (json) {
        // body-parser reads an empty JSON body as {}; strict mode refuses anything but an object or array.
        if (text.length === 0) parsed = {};
        else if (!/^[\s]*[[{]/.test(text)) return false;
        else parsed = JSON.parse(text);
      } else {
        if (op.body?.yaml !== true) return false; // YAML elsewhere arrives as a string: no schema takes one
        parsed = parseYaml(text, { maxAliasCount: 50 });
      }
    } catch {
      return false;
    }
    if (hostileInputErrors(parsed).length > 0) return false;
    switch (op.operationId) {
      case 'createRunbook':
      case 'putRunbook': {
        const input = op.operationId === 'putRunbook' && isObject(parsed) ? { id: ids.runbook, ...parsed } : parsed;
        try {
          return validateRunbook(input).id === ids.runbook || op.operationId === 'createRunbook';
        } catch {
          return false;
        }
      }
      case 'putRule':
        try {
          validateRule(parsed, 'fuzz-rule');
          return true;
        } catch {
          return false;
        }
      case 'ingestEvent':
        try {
          parseEvent(parsed, media === 'application/cloudevents+json');
          return true;
        } catch {
          return false;
        }
      case 'putSettings': {
        const result = TenantSettingsSchema.safeParse(parsed);
        if (!result.success) return false;
        return result.data.channels.every((c, i) => paramErrors(notifySpec, { ...c.target, message: 'check' }, ['channels', i]).length === 0);
      }
      default: {
        const schema = op.body?.schema;
        if (!(schema instanceof z.ZodType)) throw new Error(`${op.operationId}: no way to tell a valid body from a bad one; add a case`);
        return schema.safeParse(parsed).success;
      }
    }
  }

  function bodyInputs(op: OperationSpec): fc.Arbitrary<Input> {
    const sample = SAMPLE_BODIES[op.operationId];
    if (!sample) throw new Error(`${op.operationId} takes a body: add a valid sample to SAMPLE_BODIES`);
    const text = fc.oneof(
      { weight: 8, arbitrary: mutations(sample) },
      { weight: 1, arbitrary: malformedJson },
      { weight: 1, arbitrary: hostileJson.map((v) => toJsonText(v)) },
    );
    return fc
      .tuple(text, fc.constantFrom(...MEDIA_TYPES))
      .filter(([body, contentType]) => !bodyAccepted(op, contentType, body))
      .map(([body, contentType]) => ({ op: op.operationId, method: op.method.toUpperCase(), path: pathOf(op), contentType, body }));
  }

  /** Query strings as a hostile client writes them: unknown and prototype keys, repeated keys, bad values, broken escapes. */
  function queryInputs(op: OperationSpec): fc.Arbitrary<Input> {
    const schema = op.query as z.ZodType & { shape?: Record<string, unknown> };
    const known = Object.keys(schema.shape ?? {});
    const key = fc.oneof(fc.constantFrom(...known), fc.constantFrom(...PROTO_KEYS, 'a[b]', 'status[]', ''), fc.string({ maxLength: 10 }));
    const value = fc.oneof(
      nastyString.map((s) => s.slice(0, 2_000)),
      fc.constantFrom('0', '-1', '201', '1e400', '1.5', 'NaN', 'true', 'open', 'critical', 'json', 'markdown', '7d', '367d', '0m', 'feature', 'x'.repeat(500)),
    );
    const encode = (s: string): string => {
      try {
        return encodeURIComponent(s);
      } catch {
        return s.replace(/[^\w.-]/g, '%zz');
      }
    };
    const pairs = fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 4 }).map((list) => list.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&'));
    const raw = fc.constantFrom(
      '%',
      '%zz',
      'status=%E0%A4%A',
      'owner=%00',
      'owner=%ED%A0%80',
      'limit=1&limit=2',
      '__proto__[x]=1',
      'a[__proto__][b]=1',
      '&&&=',
      'cursor=eyJ4IjoxfQ',
      'window=%F0%9F%98%80',
    );
    return fc
      .oneof({ weight: 4, arbitrary: pairs }, { weight: 1, arbitrary: raw })
      .filter((q) => {
        const parsed = parseQuery(q);
        return hostileInputErrors({ ...parsed }).length > 0 || !schema.safeParse({ ...parsed }).success;
      })
      .map((q) => ({ op: op.operationId, method: 'GET', path: `${pathOf(op)}?${q}` }));
  }

  /** Path parameters that are not ids: traversal, unicode, broken escapes, huge. */
  function paramInputs(op: OperationSpec): fc.Arbitrary<Input> {
    const schema = op.params as z.ZodType & { shape: Record<string, unknown> };
    const names = Object.keys(schema.shape);
    const value = fc.oneof(
      nastyString.map((s) => {
        try {
          return encodeURIComponent(s.slice(0, 3_000));
        } catch {
          return '%ED%A0%80';
        }
      }),
      fc.constantFrom(
        '%',
        '%zz',
        '%E0%A4%A',
        '%00',
        '..',
        '%2e%2e',
        '..%2F..%2Fetc%2Fpasswd',
        'null',
        'undefined',
        '__proto__',
        'constructor',
        '00000000-0000-0000-0000-00000000000g',
        'A'.repeat(65),
      ),
    );
    return (
      fc
        .tuple(fc.constantFrom(...names), value)
        // A value that is no segment at all ('', '.', '..', '%2e%2e' as URLs resolve them) names another route: not a bad parameter.
        .filter(([, v]) => v !== '' && !/^(\.|%2e){1,2}$/i.test(v))
        .filter(([name, v]) => {
          let decoded: string;
          try {
            decoded = decodeURIComponent(v);
          } catch {
            return true; // not valid percent-encoding: refused by the router
          }
          const values = Object.fromEntries(names.map((n) => [n, n === name ? decoded : fixtureFor(op, n)]));
          return !schema.safeParse(values).success;
        })
        .map(([name, v]) => ({ op: op.operationId, method: op.method.toUpperCase(), path: pathOf(op, { name, value: v }) }))
    );
  }

  test(`${TOTAL} generated bad inputs: only 4xx problem+json, no crash, nothing written`, async () => {
    const protectedOps = OPERATIONS.filter((op) => op.roles !== null);
    const generators: { op: OperationSpec; kind: string; weight: number; arb: () => fc.Arbitrary<Input> }[] = [];
    for (const op of protectedOps) {
      if (op.body) generators.push({ op, kind: 'body', weight: 3, arb: () => bodyInputs(op) });
      if (op.query) generators.push({ op, kind: 'query', weight: 2, arb: () => queryInputs(op) });
      if (op.params) generators.push({ op, kind: 'path', weight: 1, arb: () => paramInputs(op) });
    }
    const weights = generators.reduce((sum, g) => sum + g.weight, 0);
    const counts = generators.map((g) => Math.round((TOTAL * g.weight) / weights));
    counts[counts.length - 1]! += TOTAL - counts.reduce((sum, n) => sum + n, 0);
    process.stdout.write(`fuzz seed ${FUZZ_SEED}: ${TOTAL} inputs over ${generators.length} generators (${protectedOps.length} operations)\n`);

    const before = await tenantFootprint(stack.admin, tenant.id);
    const workflowsBefore = (await stack.temporal.workflow.count(`AireTenant = "${tenant.slug}"`)).count;

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let sent = 0;
    const started = Date.now();
    // One generator's inputs at a time, so the hostile bodies (some of 300 kB) are not all held at once.
    for (const [i, g] of generators.entries()) {
      const inputs = fc.sample(g.arb(), { numRuns: counts[i], seed: FUZZ_SEED + i });
      sent += inputs.length;
      await pool(
        inputs.map((input) => async () => {
          if (LOG) appendFileSync(LOG, `${JSON.stringify({ ...input, body: input.body?.slice(0, 2_000) })}\n`);
          const res = await fetch(`${stack.baseUrl}${input.path}`, {
            method: input.method,
            headers: { authorization: `Bearer ${tenant.keys.admin}`, ...(input.contentType ? { 'content-type': input.contentType } : {}) },
            body: input.body,
          }).catch((err: Error) => err);
          if (res instanceof Error) {
            failures.push(`${input.op} ${input.method} ${input.path.slice(0, 200)}: no answer (${res.message})`);
            return;
          }
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          let problem = false;
          try {
            problem = ProblemSchema.safeParse(JSON.parse(text)).success;
          } catch {
            // not JSON
          }
          const contentType = res.headers.get('content-type') ?? '';
          if (res.status === 200 && ANY_BYTES.has(input.op) && /^\{"payloads":\[/.test(text)) return;
          if (res.status < 400 || res.status >= 500 || !contentType.startsWith('application/problem+json') || !problem) {
            failures.push(
              `${input.op} ${input.method} ${input.path.slice(0, 200)} [${input.contentType ?? ''}] ${JSON.stringify(input.body?.slice(0, 300) ?? '')} → ${res.status} ${contentType} ${text.slice(0, 300)}`,
            );
          }
        }),
        CONCURRENCY,
      );
    }
    expect(sent).toBe(TOTAL);
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `fuzz: ${sent} requests in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}\n`,
    );

    expect(failures.slice(0, 20)).toEqual([]);
    // The process is up and answering.
    expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
    // Nothing written: no row in any tenant table, the settings as they were, no workflow started.
    expect(await tenantFootprint(stack.admin, tenant.id)).toEqual(before);
    expect((await stack.temporal.workflow.count(`AireTenant = "${tenant.slug}"`)).count).toBe(workflowsBefore);
    // Every kind of refusal was exercised.
    for (const status of [400, 413, 415]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    // About a minute on 2 idle cores; the bound is generous for machines shared with other runs.
  }, 600_000);

  test('NUL, lone surrogates and __proto__ keys in every body are refused with the path named', async () => {
    const send = (op: OperationSpec, body: string) =>
      fetch(`${stack.baseUrl}${pathOf(op)}`, {
        method: op.method.toUpperCase(),
        headers: { authorization: `Bearer ${tenant.keys.admin}`, 'content-type': 'application/json' },
        body,
      });
    for (const op of OPERATIONS.filter((o) => o.body && o.roles !== null)) {
      const sample = SAMPLE_BODIES[op.operationId];
      const stringLeaf = pathsOf(sample).find(
        (p) => typeof p.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], sample) === 'string',
      ) as JsonPath;
      for (const nasty of ['x\u0000y', '\ud800', 'a\udc00b']) {
        const res = await send(op, toJsonText(withValueAt(sample, stringLeaf, nasty)));
        const body = (await res.json()) as { errors?: { path: string }[] };
        expect([op.operationId, res.status, body.errors?.map((e) => e.path)]).toEqual([op.operationId, 400, [formatPath(stringLeaf)]]);
      }
      const res = await send(op, JSON.stringify(sample).replace(/^\{/, '{"__proto__":{"polluted":true},'));
      const body = (await res.json()) as { errors?: { path: string; message: string }[] };
      expect([op.operationId, res.status, body.errors]).toEqual([op.operationId, 400, [{ path: '__proto__', message: 'the key "__proto__" is not allowed' }]]);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
