import { createHash, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { OperationSpec, ProblemSchema } from '../../src/api/openapi';
import { OPERATIONS } from '../../src/api/routes';
import { authenticate, hashKey } from '../../src/db/tenants';
import { ROLES, Role } from '../../src/domain/access';
import { HttpAnswer, Stack, TestTenant, uniqueId } from '../support/stack';

/**
 * Every route in OPERATIONS × every role × own tenant / other tenant. A key may do exactly what its
 * role allows (admin everything): a well-formed request from a permitted key of the owning tenant
 * succeeds (2xx, or the 4xx the route documents for that state); a key without the role gets 403,
 * whoever owns the resource; a permitted key of another tenant gets 404 for the first tenant's
 * resources, and acting on its own data never sees the first tenant's. Then: API keys at rest,
 * revocation, and per-key rate limits on intake and approvals.
 */

interface Probe {
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Fixture {
  /** A well-formed request naming tenant A's resources; called once per key, so it may make what it uses up. */
  request(): Promise<Probe>;
  /** What a permitted key of A gets. */
  own: number[];
  /**
   * `resource`: the path names A's resource, so B's permitted keys get 404.
   * `own-data`: no resource in the path: B acts on its own data (same statuses as A), never seeing A's.
   * `upsert`: PUT creates B's own resource of that id (201); A's stays as it was.
   */
  other: 'resource' | 'own-data' | 'upsert';
}

const RUNBOOK = { name: 'matrix', steps: [{ id: 's', name: 's', action: 'wait', params: { duration: '1s' } }] };
const RULE = { name: 'matrix rule', match: [{ field: 'type', op: 'equals', value: 'x' }], category: 'security' };

describe('access matrix: every route × every role × own and other tenant', () => {
  let stack: Stack;
  let a: TestTenant;
  let b: TestTenant;
  const A: Record<string, string> = {};
  /** Identifiers of A that must never appear in an answer to B. */
  const secretsOfA = new Set<string>();

  async function adminQuery(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return (await stack.admin.query(sql, params)).rows as Record<string, unknown>[];
  }

  beforeAll(async () => {
    // No worker: routes the workflow answers (approve, reject, rollback, step reports) get past the
    // role and tenant checks and then find nobody to answer; AIRE_WORKFLOW_ANSWER_TIMEOUT keeps that short.
    stack = await Stack.start('matrix', { worker: false, env: { AIRE_WORKFLOW_ANSWER_TIMEOUT: '300ms' } });
    a = await stack.tenant('matrix-a');
    b = await stack.tenant('matrix-b');
    const incident = await stack.call<{ id: string }>('POST', '/api/incidents', a.keys.ingest, { title: 'matrix incident', severity: 'high' });
    A.incident = incident.body.id;
    // An incident waiting for a person (set directly: no worker runs here), with a manual step running and a failed step.
    const gated = await stack.call<{ id: string }>('POST', '/api/incidents', a.keys.ingest, { title: 'matrix gated', severity: 'high' });
    A.gated = gated.body.id;
    await adminQuery(`UPDATE incidents SET status = 'awaiting_approval' WHERE id = $1`, [A.gated]);
    await adminQuery(
      `INSERT INTO incident_steps (tenant_id, incident_id, step_id, position, name, action, status)
       VALUES ($1, $2, 'manual-step', 0, 'by hand', 'manual', 'running'), ($1, $2, 'failed-step', 1, 'failed', 'http', 'failed')`,
      [a.id, A.gated],
    );
    expect((await stack.call('POST', '/api/runbooks', a.keys.admin, { ...RUNBOOK, id: 'matrix-rb' })).status).toBe(201);
    A.runbook = 'matrix-rb';
    const item = await stack.call<{ id: string }>('POST', `/api/incidents/${A.incident}/action-items`, a.keys.responder, { title: 'matrix follow-up' });
    A.item = item.body.id;
    expect((await stack.call('PUT', '/api/rules/matrix-rule', a.keys.admin, RULE)).status).toBe(201);
    A.rule = 'matrix-rule';
    // What the PUT (create-or-replace) rows aim at: B's PUTs create B's own of these ids, so they get their own.
    expect((await stack.call('POST', '/api/runbooks', a.keys.admin, { ...RUNBOOK, id: 'matrix-rb-put' })).status).toBe(201);
    A.putRunbook = 'matrix-rb-put';
    expect((await stack.call('PUT', '/api/rules/matrix-rule-put', a.keys.admin, RULE)).status).toBe(201);
    A.putRule = 'matrix-rule-put';
    const keys = await stack.call<{ items: { id: string }[] }>('GET', '/api/keys', a.keys.admin);
    for (const value of [A.incident, A.gated, A.item, a.id, a.slug, 'matrix incident', 'matrix gated', 'matrix follow-up', ...keys.body.items.map((k) => k.id)])
      secretsOfA.add(value);
  });
  afterAll(async () => stack?.stop());

  /** A fresh key of A to revoke. */
  async function throwawayKey(): Promise<string> {
    const res = await stack.call<{ id: string }>('POST', '/api/keys', a.keys.admin, { name: uniqueId('throwaway'), roles: ['viewer'] });
    return res.body.id;
  }

  const FIXTURES: Record<string, Fixture> = {
    incidentFromForecast: {
      own: [201],
      other: 'own-data',
      request: async () => ({
        path: '/api/incident/from-forecast',
        body: { id: uniqueId('fc'), riskType: 'disk', confidence: 30, recommendedAction: 'clean' },
      }),
    },
    intakeAlertmanager: {
      own: [202],
      other: 'own-data',
      request: async () => ({
        path: '/api/intake/alertmanager',
        body: {
          version: '4',
          groupKey: 'g',
          status: 'firing',
          receiver: 'aire',
          alerts: [{ status: 'firing', labels: { alertname: 'X', severity: 'info' }, startsAt: new Date().toISOString(), fingerprint: uniqueId('fp') }],
        },
      }),
    },
    incidentFromEvent: {
      own: [201],
      other: 'own-data',
      request: async () => ({ path: '/api/incident/from-event', body: { id: uniqueId('ev'), source: 'asrs', riskScore: 10, outcome: 'o', actionType: 'a' } }),
    },
    declareIncident: {
      own: [201],
      other: 'own-data',
      request: async () => ({ path: '/api/incidents', body: { title: 'declared', severity: 'low' }, headers: { 'idempotency-key': uniqueId('idem') } }),
    },
    listIncidents: { own: [200], other: 'own-data', request: async () => ({ path: '/api/incidents?limit=200' }) },
    getIncident: { own: [200], other: 'resource', request: async () => ({ path: `/api/incidents/${A.incident}` }) },
    approveIncident: { own: [503], other: 'resource', request: async () => ({ path: `/api/incidents/${A.gated}/approve`, body: { reason: 'ok' } }) },
    rejectIncident: { own: [503], other: 'resource', request: async () => ({ path: `/api/incidents/${A.gated}/reject`, body: { reason: 'no' } }) },
    acknowledgeIncident: { own: [503], other: 'resource', request: async () => ({ path: `/api/incidents/${A.incident}/acknowledge`, body: {} }) },
    rollbackIncident: { own: [503], other: 'resource', request: async () => ({ path: `/api/incidents/${A.incident}/rollback`, body: {} }) },
    resolveIncident: { own: [503], other: 'resource', request: async () => ({ path: `/api/incidents/${A.incident}/resolve`, body: {} }) },
    closeIncident: { own: [503], other: 'resource', request: async () => ({ path: `/api/incidents/${A.incident}/close`, body: {} }) },
    completeManualStep: {
      own: [503],
      other: 'resource',
      request: async () => ({ path: `/api/incidents/${A.gated}/steps/manual-step/complete`, body: { outcome: 'done' } }),
    },
    decideFailedStep: {
      own: [503],
      other: 'resource',
      request: async () => ({ path: `/api/incidents/${A.gated}/steps/failed-step/decision`, body: { decision: 'skip' } }),
    },
    incidentReport: { own: [200], other: 'resource', request: async () => ({ path: `/api/incidents/${A.incident}/report` }) },
    addNote: { own: [201], other: 'resource', request: async () => ({ path: `/api/incidents/${A.incident}/notes`, body: { text: 'matrix note' } }) },
    editIncident: { own: [503], other: 'resource', request: async () => ({ path: `/api/incidents/${A.incident}`, body: { title: 'matrix edited' } }) },
    assignRole: {
      own: [503],
      other: 'resource',
      request: async () => ({ path: `/api/incidents/${A.incident}/roles`, body: { role: 'commander', person: 'key:responder-key' } }),
    },
    postStatusUpdate: {
      own: [503],
      other: 'resource',
      request: async () => ({ path: `/api/incidents/${A.incident}/status-updates`, body: { message: 'matrix' } }),
    },
    runRunbookOnIncident: {
      own: [503],
      other: 'resource',
      request: async () => ({ path: `/api/incidents/${A.incident}/runbooks`, body: { runbookId: 'matrix-rb' } }),
    },
    incidentTimeline: { own: [200], other: 'resource', request: async () => ({ path: `/api/incidents/${A.incident}/timeline` }) },
    savePostmortem: {
      own: [200],
      other: 'resource',
      request: async () => ({ path: `/api/incidents/${A.incident}/postmortem`, body: { lessons: ['matrix lesson'] } }),
    },
    addActionItem: {
      own: [201],
      other: 'resource',
      request: async () => ({ path: `/api/incidents/${A.incident}/action-items`, body: { title: 'another follow-up' } }),
    },
    listIncidentActionItems: { own: [200], other: 'resource', request: async () => ({ path: `/api/incidents/${A.incident}/action-items` }) },
    listActionItems: { own: [200], other: 'own-data', request: async () => ({ path: '/api/action-items' }) },
    getActionItem: { own: [200], other: 'resource', request: async () => ({ path: `/api/action-items/${A.item}` }) },
    updateActionItem: { own: [200], other: 'resource', request: async () => ({ path: `/api/action-items/${A.item}`, body: { owner: 'sre' } }) },
    listRunbooks: { own: [200], other: 'own-data', request: async () => ({ path: '/api/runbooks' }) },
    getRunbook: { own: [200], other: 'resource', request: async () => ({ path: `/api/runbooks/${A.runbook}` }) },
    listRunbookVersions: { own: [200], other: 'resource', request: async () => ({ path: `/api/runbooks/${A.runbook}/versions` }) },
    dryRunRunbook: {
      own: [200],
      other: 'resource',
      request: async () => ({ path: `/api/runbooks/${A.runbook}/test`, body: { incident: { title: 'x', severity: 'low' } } }),
    },
    createRunbook: { own: [201], other: 'own-data', request: async () => ({ path: '/api/runbooks', body: { ...RUNBOOK, id: uniqueId('new-rb') } }) },
    putRunbook: { own: [200], other: 'upsert', request: async () => ({ path: `/api/runbooks/${A.putRunbook}`, body: RUNBOOK }) },
    listControls: { own: [200], other: 'own-data', request: async () => ({ path: '/api/controls' }) },
    getSettings: { own: [200], other: 'own-data', request: async () => ({ path: '/api/settings' }) },
    putSettings: { own: [200], other: 'own-data', request: async () => ({ path: '/api/settings', body: { approvalTimeout: '2h' } }) },
    // Not tenant data: payloads carry no tenant, and decoding needs Temporal access anyway (docs/security.md).
    codecEncode: {
      own: [200],
      other: 'own-data',
      request: async () => ({ path: '/api/codec/encode', body: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'e30=' }] } }),
    },
    codecDecode: { own: [200], other: 'own-data', request: async () => ({ path: '/api/codec/decode', body: { payloads: [] } }) },
    createKey: { own: [201], other: 'own-data', request: async () => ({ path: '/api/keys', body: { name: uniqueId('k'), roles: ['viewer'] } }) },
    listKeys: { own: [200], other: 'own-data', request: async () => ({ path: '/api/keys' }) },
    revokeKey: { own: [200], other: 'resource', request: async () => ({ path: `/api/keys/${await throwawayKey()}` }) },
    metricsSummary: { own: [200], other: 'own-data', request: async () => ({ path: '/api/metrics/summary?window=1d' }) },
    ingestEvent: { own: [202], other: 'own-data', request: async () => ({ path: '/api/events', body: { id: uniqueId('evt'), type: 'y' } }) },
    listRules: { own: [200], other: 'own-data', request: async () => ({ path: '/api/rules' }) },
    getRule: { own: [200], other: 'resource', request: async () => ({ path: `/api/rules/${A.rule}` }) },
    putRule: { own: [200], other: 'upsert', request: async () => ({ path: `/api/rules/${A.putRule}`, body: RULE }) },
    disableRule: { own: [200], other: 'resource', request: async () => ({ path: `/api/rules/${A.rule}` }) },
    listBreakers: { own: [200], other: 'own-data', request: async () => ({ path: '/api/breakers?all=true' }) },
    resetBreaker: {
      own: [200],
      other: 'resource',
      request: async () => {
        // An open breaker of A's, for the call to reset.
        await adminQuery(`INSERT INTO breakers (tenant_id, runbook_id, target, reason) VALUES ($1, 'matrix-rb', 'matrix-svc', 'test') ON CONFLICT DO NOTHING`, [
          a.id,
        ]);
        return { path: '/api/breakers/reset', body: { service: 'matrix-svc' } };
      },
    },
  };

  async function call(op: OperationSpec, probe: Probe, key: string | undefined): Promise<HttpAnswer<unknown> & { text: string }> {
    const res = await fetch(`${stack.baseUrl}${probe.path}`, {
      method: op.method.toUpperCase(),
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(probe.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...probe.headers,
      },
      body: probe.body === undefined ? undefined : JSON.stringify(probe.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, headers: res.headers, body, text };
  }

  test('every operation has a fixture (a route added to OPERATIONS must get one here)', () => {
    const missing = OPERATIONS.filter((op) => op.roles !== null && !FIXTURES[op.operationId]).map((op) => op.operationId);
    expect(missing).toEqual([]);
  });

  test('exactly the permitted role × tenant combinations succeed; the rest get 403, or 404 for another tenant', async () => {
    const wrong: string[] = [];
    let cells = 0;
    for (const op of OPERATIONS.filter((o) => o.roles !== null)) {
      const fixture = FIXTURES[op.operationId];
      if (!fixture) continue;
      const name = `${op.method.toUpperCase()} ${op.path}`;
      // No key, or a key nobody has: 401 whatever the route.
      for (const key of [undefined, `aire_${randomUUID()}`]) {
        const answer = await call(op, await fixture.request(), key);
        if (answer.status !== 401) wrong.push(`${name} with ${key ? 'an unknown' : 'no'} key: ${answer.status}`);
      }
      for (const [tenantName, tenant] of [
        ['own', a],
        ['other', b],
      ] as const) {
        for (const role of ROLES) {
          cells += 1;
          const permitted = role === 'admin' || (op.roles as readonly Role[]).includes(role);
          const probe = await fixture.request();
          const answer = await call(op, probe, tenant.keys[role]);
          const expected = !permitted
            ? [403]
            : tenantName === 'own'
              ? fixture.own
              : fixture.other === 'resource'
                ? [404]
                : fixture.other === 'upsert'
                  ? [200, 201]
                  : fixture.own;
          if (!expected.includes(answer.status))
            wrong.push(`${name} as ${tenantName} ${role}: ${answer.status} (expected ${expected.join(' or ')}) ${answer.text.slice(0, 200)}`);
          if (answer.status >= 400 && !(answer.headers.get('content-type') ?? '').startsWith('application/problem+json'))
            wrong.push(`${name} as ${tenantName} ${role}: ${answer.status} is not problem+json`);
          if (answer.status >= 400 && !ProblemSchema.safeParse(answer.body).success) wrong.push(`${name} as ${tenantName} ${role}: not a problem document`);
          if (tenantName === 'other') {
            // What B itself sent (an id of A's in the path) may come back in the 404; nothing else of A's may.
            const sent = `${probe.path} ${JSON.stringify(probe.body ?? '')}`;
            const leaked = [...secretsOfA].filter((s) => answer.text.includes(s) && !sent.includes(s));
            if (leaked.length > 0) wrong.push(`${name} as other ${role}: the answer names A's ${leaked.join(', ')}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(cells).toBe(OPERATIONS.filter((o) => o.roles !== null).length * ROLES.length * 2);
  });

  test("another tenant's permitted calls changed nothing of A's", async () => {
    // B's PUTs made B's own runbook and rule of the same ids; A's are as A left them.
    const runbooks = await adminQuery('SELECT tenant_id, count(*)::int AS versions FROM runbooks WHERE id = $1 GROUP BY tenant_id', [A.putRunbook]);
    expect(runbooks.map((r) => r.tenant_id).sort()).toEqual([a.id, b.id].sort());
    const ofA = await stack.call<{ items: unknown[] }>('GET', `/api/runbooks/${A.putRunbook}/versions`, a.keys.viewer);
    expect(ofA.body.items.length).toBe(1 + 1); // created, then PUT once by A's admin (the only permitted role)
    const ofB = await stack.call<{ items: unknown[] }>('GET', `/api/runbooks/${A.putRunbook}/versions`, b.keys.viewer);
    expect(ofB.body.items.length).toBe(1); // B's own, made by B's admin's PUT
    expect((await stack.call('GET', `/api/runbooks/${A.runbook}`, b.keys.viewer)).status).toBe(404);
    const rules = await adminQuery('SELECT tenant_id, enabled FROM rules WHERE id = $1', [A.rule]);
    expect(rules).toEqual([{ tenant_id: a.id, enabled: false }]); // disabled by A's admin only
    // A's breaker stays open after B's resets; A's key revocations were A's alone.
    const breakers = await adminQuery(`SELECT reset_by FROM breakers WHERE tenant_id = $1 ORDER BY id`, [a.id]);
    expect(breakers.map((r) => r.reset_by)).toEqual(['key:approver-key', 'key:admin-key', null]);
    const revokedByB = await adminQuery(`SELECT count(*)::int AS n FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NOT NULL AND name LIKE 'throwaway-%'`, [
      a.id,
    ]);
    expect(revokedByB[0]!.n).toBe(1); // A's admin revoked one throwaway key; B's admin, given another, revoked none
    // A's items and settings were changed only by A's permitted keys.
    const item = await adminQuery('SELECT tenant_id FROM action_items WHERE id = $1', [A.item]);
    expect(item[0]!.tenant_id).toBe(a.id);
    // A's post-mortem was written by A's permitted keys only, once (the same lessons again change nothing).
    const postmortems = await adminQuery('SELECT tenant_id, lessons FROM postmortems WHERE incident_id = $1', [A.incident]);
    expect(postmortems).toEqual([{ tenant_id: a.id, lessons: ['matrix lesson'] }]);
    const saves = await adminQuery(`SELECT actor FROM action_log WHERE incident_id = $1 AND kind = 'postmortem.saved'`, [A.incident]);
    expect(saves.map((s) => s.actor)).toEqual(['key:responder-key']);
  });

  test('public routes answer without a key and with any key', async () => {
    const reads = OPERATIONS.filter((o) => o.roles === null && o.method === 'get');
    for (const op of reads) {
      for (const key of [undefined, a.keys.ingest, `aire_${randomUUID()}`]) {
        const res = await fetch(`${stack.baseUrl}${op.path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
        expect([op.path, [200, 503].includes(res.status)]).toEqual([op.path, true]);
      }
    }
    // The one public write is Slack's: authenticated by Slack's signature alone, which no API key replaces (test/integration/slack.test.ts).
    expect(OPERATIONS.filter((o) => o.roles === null && !reads.includes(o)).map((o) => o.operationId)).toEqual(['slackInteraction']);
    for (const key of [undefined, a.keys.admin]) {
      const res = await fetch(`${stack.baseUrl}/api/slack/interactions/${a.slug}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: 'payload=%7B%7D',
      });
      expect(res.status).toBe(404); // tenant A has no Slack app set up: nothing to verify a signature with
    }
  });

  describe('API keys', () => {
    test('are stored only as a SHA-256 hash (and a short prefix): no plaintext key appears in any column', async () => {
      const created = await stack.call<{ key: string; id: string }>('POST', '/api/keys', a.keys.admin, { name: uniqueId('at-rest'), roles: ['viewer'] });
      const plaintexts = [...Object.values(a.keys), ...Object.values(b.keys), created.body.key];
      const rows = await adminQuery('SELECT to_jsonb(k) AS row, key_hash, key_prefix FROM api_keys k');
      const dump = JSON.stringify(rows.map((r) => r.row));
      for (const key of plaintexts) {
        expect(dump).not.toContain(key);
        expect(dump).not.toContain(key.slice(5)); // not even the random part without the prefix
        expect(rows.some((r) => r.key_hash === hashKey(key))).toBe(true);
      }
      for (const r of rows) {
        expect(r.key_hash).toMatch(/^[0-9a-f]{64}$/);
        expect(String(r.key_prefix).length).toBeLessThanOrEqual(12); // 'aire_' + 7 characters of 43: not enough to use
      }
      // The API never answers a key again after creating it.
      const list = await stack.call('GET', '/api/keys', a.keys.admin);
      expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    });

    test('are compared without ever comparing plaintext: the lookup is by SHA-256 digest, an indexed equality in SQL', async () => {
      // What authenticate sends to PostgreSQL is the digest, never the key: no comparison of secret
      // bytes happens anywhere (so there is no early-exit timing on the key), and the hash index
      // lookup's timing depends on the digest, which an attacker cannot steer byte by byte.
      const seen: unknown[][] = [];
      const spy = { query: async (_sql: string, params: unknown[]) => (seen.push(params), { rows: [] }) } as unknown as Pool;
      const key = `aire_${randomUUID()}`;
      expect(await authenticate(spy, key)).toBeNull();
      expect(seen).toEqual([[createHash('sha256').update(key).digest('hex')]]);
      const { rows } = await stack.admin.query<{ prosrc: string }>(`SELECT prosrc FROM pg_proc WHERE proname = 'aire_authenticate'`);
      expect(rows[0]!.prosrc).toMatch(/key_hash = p_key_hash/);
      const indexes = await adminQuery(`SELECT indexdef FROM pg_indexes WHERE tablename = 'api_keys'`);
      expect(indexes.some((i) => /\(key_hash\)/.test(String(i.indexdef)))).toBe(true);
      // One character off is simply another digest: refused.
      const near = a.keys.viewer.slice(0, -1) + (a.keys.viewer.endsWith('A') ? 'B' : 'A');
      expect((await stack.call('GET', '/api/incidents', near)).status).toBe(401);
    });

    test('revocation takes effect on the very next request', async () => {
      const created = await stack.call<{ key: string; id: string }>('POST', '/api/keys', a.keys.admin, { name: uniqueId('revoke-me'), roles: ['viewer'] });
      expect((await stack.call('GET', '/api/incidents', created.body.key)).status).toBe(200);
      expect((await stack.call('DELETE', `/api/keys/${created.body.id}`, a.keys.admin)).status).toBe(200);
      const after = await stack.call('GET', '/api/incidents', created.body.key);
      expect(after.status).toBe(401);
      expect(after.headers.get('www-authenticate')).toBe('Bearer');
    });
  });

  describe('rate limits per key on intake and approvals', () => {
    let limited: Stack;
    let t: TestTenant;
    beforeAll(async () => {
      limited = await Stack.start('ratelimit', { worker: false, env: { AIRE_RATE_LIMIT_INTAKE: '5', AIRE_RATE_LIMIT_APPROVALS: '3' } });
      t = await limited.tenant('rl');
    });
    afterAll(async () => limited?.stop());

    const forecast = () => ({ id: uniqueId('rl'), riskType: 'disk', confidence: 30, recommendedAction: 'clean' });

    test('intake: a key over its limit gets 429 problem+json with Retry-After, and nothing is opened; other keys go on', async () => {
      for (let i = 0; i < 5; i++) expect((await limited.call('POST', '/api/incident/from-forecast', t.keys.ingest, forecast())).status).toBe(201);
      const over = await limited.call<{ status: number; detail: string }>('POST', '/api/incident/from-forecast', t.keys.ingest, forecast());
      expect(over.status).toBe(429);
      expect(over.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(ProblemSchema.safeParse(over.body).success).toBe(true);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(over.body.detail).toContain('AIRE_RATE_LIMIT_INTAKE');
      // The same bucket covers every intake route of the key.
      expect(
        (
          await limited.call('POST', '/api/incident/from-event', t.keys.ingest, {
            id: uniqueId('e'),
            source: 'asrs',
            riskScore: 1,
            outcome: 'o',
            actionType: 'a',
          })
        ).status,
      ).toBe(429);
      expect(
        (
          await limited.call('POST', '/api/intake/alertmanager', t.keys.ingest, {
            version: '4',
            groupKey: 'g',
            status: 'firing',
            receiver: 'r',
            alerts: [{ status: 'firing', labels: {}, startsAt: 'now', fingerprint: 'f' }],
          })
        ).status,
      ).toBe(429);
      const { rows } = await limited.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE tenant_id = $1', [t.id]);
      expect(rows[0]!.n).toBe(5);
      // Per key: another key of the same tenant is not limited by the first one's use.
      expect((await limited.call('POST', '/api/incidents', t.keys.responder, { title: 'still fine', severity: 'low' })).status).toBe(201);
      // Reading is not rate limited.
      expect((await limited.call('GET', '/api/controls', t.keys.ingest)).status).toBe(200);
    });

    test('approvals: approve and reject share a per-key limit; other signals and other keys are not limited', async () => {
      const id = randomUUID();
      for (let i = 0; i < 3; i++)
        expect((await limited.call('POST', `/api/incidents/${id}/${i % 2 ? 'reject' : 'approve'}`, t.keys.approver, {})).status).toBe(404);
      const over = await limited.call('POST', `/api/incidents/${id}/approve`, t.keys.approver, {});
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await limited.call('POST', `/api/incidents/${id}/reject`, t.keys.approver, {})).status).toBe(429);
      expect((await limited.call('POST', `/api/incidents/${id}/acknowledge`, t.keys.approver, {})).status).toBe(404);
      expect((await limited.call('POST', `/api/incidents/${id}/approve`, t.keys.admin, {})).status).toBe(404);
    });

    test('the OpenAPI document lists 429 with Retry-After exactly for the limited operations', async () => {
      const doc = (await (await fetch(`${limited.baseUrl}/api/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { operationId: string; responses: Record<string, { headers?: Record<string, unknown> }> }>>;
      };
      const limitedOps = Object.values(doc.paths)
        .flatMap((ops) => Object.values(ops))
        .filter((op) => op.responses['429'])
        .map((op) => op.operationId)
        .sort();
      expect(limitedOps).toEqual(
        expect.arrayContaining(['approveIncident', 'declareIncident', 'incidentFromEvent', 'incidentFromForecast', 'intakeAlertmanager', 'rejectIncident']),
      );
      for (const ops of Object.values(doc.paths))
        for (const op of Object.values(ops)) if (op.responses['429']) expect(op.responses['429'].headers?.['Retry-After']).toBeDefined();
    });
  });
});
