import { withTenant } from '../../src/db/pool';
import { Stack, TestTenant, uniqueId } from '../support/stack';

/** Tenants never see each other, enforced by PostgreSQL row-level security underneath the API. */
describe('tenant isolation', () => {
  let stack: Stack;
  let a: TestTenant;
  let b: TestTenant;
  let incidentOfA: string;

  beforeAll(async () => {
    stack = await Stack.start('isolation');
    a = await stack.tenant('a');
    b = await stack.tenant('b');
    const rb = uniqueId('iso');
    await stack.call('POST', '/api/runbooks', a.keys.admin, {
      id: rb,
      name: rb,
      requiresApproval: true,
      triggers: { titlePattern: rb },
      steps: [{ id: 'one', name: 'one', action: 'http', params: { url: 'http://127.0.0.1:9/never' } }],
    });
    const res = await stack.call<{ id: string }>('POST', '/api/incidents', a.keys.ingest, { title: `${rb} at A`, severity: 'high' });
    incidentOfA = res.body.id;
    await stack.incidentWhen(a, incidentOfA, (v) => v.incident.status === 'awaiting_approval');
  });
  afterAll(async () => stack?.stop());

  test("tenant B's key cannot read tenant A's incident: 404, as if it did not exist", async () => {
    const res = await stack.call('GET', `/api/incidents/${incidentOfA}`, b.keys.admin);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const list = await stack.call<{ items: { id: string }[] }>('GET', '/api/incidents?limit=200', b.keys.admin);
    expect(list.status).toBe(200);
    expect(list.body.items.map((i) => i.id)).not.toContain(incidentOfA);
    expect((await stack.call('GET', `/api/incidents/${incidentOfA}`, a.keys.viewer)).status).toBe(200);
  });

  test("tenant B's key cannot signal tenant A's incident", async () => {
    for (const action of ['approve', 'reject', 'acknowledge', 'rollback', 'resolve', 'close']) {
      const res = await stack.call('POST', `/api/incidents/${incidentOfA}/${action}`, b.keys.admin, { reason: 'hostile' });
      expect([action, res.status]).toEqual([action, 404]);
    }
    const view = await stack.incidentWhen(a, incidentOfA, () => true);
    expect(view.incident.status).toBe('awaiting_approval');
    expect(view.actionLog.some((e) => e.actor.includes('admin-key') && e.kind.startsWith('approval'))).toBe(false);
  });

  test("runbooks are per tenant: B neither sees nor can version A's runbooks", async () => {
    const listA = await stack.call<{ items: { id: string }[] }>('GET', '/api/runbooks', a.keys.viewer);
    const listB = await stack.call<{ items: { id: string }[] }>('GET', '/api/runbooks', b.keys.viewer);
    expect(listA.body.items.length).toBeGreaterThan(0);
    expect(listB.body.items).toEqual([]);
    expect((await stack.call('GET', `/api/runbooks/${listA.body.items[0]!.id}`, b.keys.viewer)).status).toBe(404);
  });

  test("in SQL, the application role acting for B sees none of A's rows, and without a tenant sees nothing", async () => {
    const asB = await withTenant(stack.pool, b.id, async (c) => ({
      incidents: (await c.query('SELECT id FROM incidents WHERE id = $1', [incidentOfA])).rowCount,
      all: (await c.query('SELECT tenant_id FROM incidents')).rows.filter((r: { tenant_id: string }) => r.tenant_id !== b.id).length,
      log: (await c.query('SELECT 1 FROM action_log WHERE incident_id = $1', [incidentOfA])).rowCount,
      steps: (await c.query('SELECT 1 FROM incident_steps WHERE incident_id = $1', [incidentOfA])).rowCount,
      runbooks: (await c.query('SELECT 1 FROM runbooks WHERE tenant_id = $1', [a.id])).rowCount,
      keys: (await c.query('SELECT 1 FROM api_keys WHERE tenant_id = $1', [a.id])).rowCount,
      updated: (await c.query(`UPDATE incidents SET title = 'pwned' WHERE id = $1`, [incidentOfA])).rowCount,
    }));
    expect(asB).toEqual({ incidents: 0, all: 0, log: 0, steps: 0, runbooks: 0, keys: 0, updated: 0 });
    const noTenant = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents');
    expect(noTenant.rows[0]!.n).toBe(0);
    // Writing a row for another tenant is refused by the policy's WITH CHECK.
    await expect(
      withTenant(stack.pool, b.id, (c) => c.query(`INSERT INTO controls (tenant_id, kind, key, active) VALUES ($1, 'feature', 'x', true)`, [a.id])),
    ).rejects.toThrow(/row-level security/);
    const asA = await withTenant(stack.pool, a.id, (c) => c.query<{ title: string }>('SELECT title FROM incidents WHERE id = $1', [incidentOfA]));
    expect(asA.rows[0]!.title).not.toBe('pwned');
  });

  test('the action log is append-only for the application role', async () => {
    await expect(
      withTenant(stack.pool, a.id, (c) => c.query(`UPDATE action_log SET actor = 'someone else' WHERE incident_id = $1`, [incidentOfA])),
    ).rejects.toThrow(/permission denied/);
    await expect(withTenant(stack.pool, a.id, (c) => c.query('DELETE FROM action_log WHERE incident_id = $1', [incidentOfA]))).rejects.toThrow(
      /permission denied/,
    );
    // Even the schema owner cannot rewrite history.
    await expect(stack.admin.query(`UPDATE action_log SET actor = 'x' WHERE incident_id = $1`, [incidentOfA])).rejects.toThrow(/append-only/);
  });

  test('the application role is not a superuser and cannot bypass row-level security', async () => {
    const { rows } = await stack.pool.query(`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`);
    expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false });
  });

  test('every route needs a valid key, and roles are checked', async () => {
    expect((await stack.call('GET', '/api/incidents', undefined)).status).toBe(401);
    expect((await stack.call('GET', '/api/incidents', 'aire_not-a-real-key')).status).toBe(401);
    expect((await stack.call('GET', '/api/incidents', a.keys.ingest)).status).toBe(403);
    expect((await stack.call('POST', '/api/incident/from-forecast', a.keys.viewer, {})).status).toBe(403);
    expect((await stack.call('POST', '/api/runbooks', a.keys.approver, {})).status).toBe(403);
    expect((await stack.call('POST', `/api/incidents/${incidentOfA}/approve`, a.keys.responder, {})).status).toBe(403);
    const revoked = await stack.admin.query(`UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND name = 'viewer-key'`, [b.id]);
    expect(revoked.rowCount).toBe(1);
    expect((await stack.call('GET', '/api/incidents', b.keys.viewer)).status).toBe(401);
  });
});
