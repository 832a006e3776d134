import { Receiver } from '../support/receiver';
import { Spawned, freePort, startApiProcess, stopProcess } from '../support/processes';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';
import { Driver, Tracked, setUpMixed, verifyMixed } from './mixed';
import { PARAMS, PgProxy, WorkerFleet, apiCaller, scenario, sleep } from './support';

/** Rows a retried attempt adds (one per attempt, so their number depends on timing); everything else is exact. */
const PER_ATTEMPT = new Set(['step.started', 'step.attempt_failed', 'step.compensating', 'step.compensation_attempt_failed']);
/** Notifications are delivered beside the runbook and recorded as sent or failed: not part of the runbook's own trail. */
const isNotification = (kind: string): boolean => kind.startsWith('notification.');

/**
 * PostgreSQL goes away for PARAMS.pgOutageMs (30 s long, 8 s short) while runbooks run. The API
 * and the worker reach it through a TCP proxy the test partitions (open connections go silent, new
 * ones are never answered: nobody is told, only timeouts notice) and heals; the test itself and
 * every other test keep talking to PostgreSQL directly. While it is cut, the API answers 503 with
 * Retry-After for what needs the database, within its bounded waits (DATABASE_CONNECT_TIMEOUT,
 * DATABASE_QUERY_TIMEOUT), and /readyz says postgres is not ok; /healthz stays up. Then, briefly,
 * connections are refused (a stopped server): 503 at once. When it returns, the activities that
 * failed or hung meanwhile retry and complete (attempts abandoned during the partition may land
 * late), and each incident has exactly the audit trail and rows of the same runbook run without an
 * outage: nothing half-written, nothing twice.
 */
describe('chaos: PostgreSQL unavailable mid-runbook', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let probes: TestTenant;
  let proxy: PgProxy;
  let api: (Spawned & { url: string }) | undefined;
  let fleet: WorkerFleet;
  let driver: Driver | undefined;
  const call = apiCaller(() => api?.url ?? '', 30_000);

  beforeAll(async () => {
    stack = await Stack.start('chaos-pg', { worker: false });
    target = await new Receiver().start();
    [tenant, probes] = [await stack.tenant('chaos-pg'), await stack.tenant('chaos-pg-probe')];
    proxy = await new PgProxy().start();
    const env = { DATABASE_URL: proxy.url(stack.config.DATABASE_URL), TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS, AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE };
    fleet = new WorkerFleet(env, 1);
    [api] = await Promise.all([startApiProcess(await freePort(), env), fleet.start()]);
  }, 120_000);
  afterAll(async () => {
    driver?.stop();
    if (api) await stopProcess(api, 'SIGKILL');
    await fleet?.stop();
    await proxy?.stop();
    await stack?.stop();
    await target?.stop();
  });

  async function auditKinds(incidentId: string): Promise<string[]> {
    const { rows } = await stack.admin.query<{ kind: string; step_id: string | null }>('SELECT kind, step_id FROM action_log WHERE incident_id = $1 ORDER BY id', [incidentId]);
    return rows.filter((r) => !PER_ATTEMPT.has(r.kind) && !isNotification(r.kind)).map((r) => (r.step_id ? `${r.kind}:${r.step_id}` : r.kind));
  }

  test(`PostgreSQL cut for ${PARAMS.pgOutageMs / 1000} s: 503 + Retry-After meanwhile, everything completes after, nothing half-written`, async () => {
    const rb = uniqueId('pg');
    const figures: Record<string, number | string | boolean> = { outageSeconds: PARAMS.pgOutageMs / 1000, incidents: PARAMS.pgIncidents };
    await scenario('postgres-outage', figures, async () => {
      await setUpMixed(stack, tenant, target, rb);
      const d = new Driver(stack, tenant, rb, call);
      driver = d;

      // Control: one incident of each kind, without an outage, gives each kind's exact audit trail.
      for (let n = 0; n < 3; n += 1) await d.open();
      let cutting = true;
      d.start(() => 0, () => cutting);
      await eventually(async () => (d.incidents.every((i) => i.finishedAt !== undefined) ? true : undefined), 120_000, 300);
      const control = new Map<string, string[]>();
      for (const i of d.incidents) control.set(i.kind, await auditKinds(i.id));
      const controlIds = new Set(d.incidents.map((i) => i.id));

      // The runbooks under test, mid-flight when the database goes.
      for (let n = 0; n < PARAMS.pgIncidents; n += 1) await d.open();
      await sleep(1_500);
      const inFlight = d.incidents.filter((i) => i.finishedAt === undefined).length;
      figures.incidentsInFlightAtCut = inFlight;
      expect(inFlight).toBeGreaterThan(0);

      proxy.cut();
      const cutAt = Date.now();
      // While cut: probe the API every second or so. Declarations carry an Idempotency-Key, to be retried after.
      const answers: Record<string, number> = {};
      const slowest = { ms: 0, what: '' };
      const refusedKeys: string[] = [];
      const problems: string[] = [];
      const probeId = d.incidents[0].id;
      let round = 0;
      while (Date.now() - cutAt < PARAMS.pgOutageMs) {
        round += 1;
        const key = `${rb}-probe-${round}`;
        const probe = (what: string, answer: Promise<Awaited<ReturnType<typeof call>>>) =>
          answer.then(
            (r) => [[what, r] as const],
            (err: Error) => {
              problems.push(`${what}: no answer (${err.message})`);
              answers[`${what} none`] = (answers[`${what} none`] ?? 0) + 1;
              return [];
            },
          );
        const results = (
          await Promise.all([
            probe('healthz', call('GET', '/healthz', undefined)),
            probe('readyz', call('GET', '/readyz', undefined)),
            probe('declare', call('POST', '/api/incidents', probes.keys.ingest, { title: `declared while the database is away ${round}`, severity: 'low' }, { 'idempotency-key': key })),
            probe('read', call('GET', `/api/incidents/${probeId}`, tenant.keys.viewer)),
          ])
        ).flat();
        for (const [what, r] of results) {
          answers[`${what} ${r.status}`] = (answers[`${what} ${r.status}`] ?? 0) + 1;
          if (r.ms > slowest.ms) Object.assign(slowest, { ms: r.ms, what });
          if (what === 'healthz' && r.status !== 200) problems.push(`healthz ${r.status}`);
          if (what === 'readyz') {
            const checks = (r.body as { checks?: Record<string, string> }).checks ?? {};
            if (r.status !== 503 || checks.postgres === 'ok' || checks.temporal !== 'ok') problems.push(`readyz ${r.status} ${JSON.stringify(checks)}`);
          }
          if (what === 'declare' || what === 'read') {
            if (r.status !== 503 || !r.headers.get('retry-after')) problems.push(`${what} ${r.status} retry-after=${r.headers.get('retry-after')}: ${JSON.stringify(r.body)}`);
            else if (what === 'declare') refusedKeys.push(key);
          }
        }
        await sleep(1_000);
      }
      // The other way a database is away: connections refused (a stopped server). Answered as fast, as 503.
      proxy.cut('refuse');
      const refused = await Promise.all([
        call('GET', '/readyz', undefined),
        call('POST', '/api/incidents', probes.keys.ingest, { title: 'declared while the database refuses', severity: 'low' }, { 'idempotency-key': `${rb}-probe-refused` }),
      ]);
      figures.answersWhileRefused = refused.map((r) => `${r.status} in ${r.ms} ms`).join(', ');
      expect(refused.map((r) => [r.status, !!r.headers.get('retry-after')])).toEqual([
        [503, true],
        [503, true],
      ]);
      refusedKeys.push(`${rb}-probe-refused`);
      proxy.restore();
      const restoredAt = Date.now();
      figures.outageProbes = round;
      figures.answersWhileCut = Object.entries(answers)
        .map(([k, n]) => `${k}×${n}`)
        .join(', ');
      figures.slowestAnswerWhileCutMs = slowest.ms;
      figures.connectionsHeldWhileCut = proxy.heldConnections;
      figures.connectionsThroughProxy = proxy.connections;
      expect(problems).toEqual([]);
      // Answered within the API's bounded waits (query timeout 10 s by default), not hung until the database came back.
      expect(slowest.ms).toBeLessThan(15_000);

      // Back: ready again, the refused declarations go through on retry (one incident each), runbooks finish.
      await eventually(async () => ((await call('GET', '/readyz', undefined)).status === 200 ? true : undefined), 60_000, 500);
      figures.outageActualSeconds = Math.round((restoredAt - cutAt) / 1000);
      figures.secondsUntilReady = Math.round((Date.now() - restoredAt) / 1000);
      for (const key of refusedKeys) {
        const res = await call('POST', '/api/incidents', probes.keys.ingest, { title: `declared again after the outage`, severity: 'low' }, { 'idempotency-key': key });
        expect(res.status).toBe(201);
      }
      const { rows: probeRows } = await stack.admin.query<{ dedup_key: string }>('SELECT dedup_key FROM incidents WHERE tenant_id = $1', [probes.id]);
      expect(probeRows.map((r) => r.dedup_key).sort()).toEqual(refusedKeys.map((k) => `manual:${k}`).sort());
      figures.declarationsRefusedThenAccepted = refusedKeys.length;

      cutting = false;
      await sleep(20_000);
      {
        const { rows } = await stack.admin.query(`SELECT pid, application_name, usename, state, wait_event_type, wait_event, now() - state_change AS since, left(query, 80) AS q FROM pg_stat_activity WHERE datname = current_database()`);
        const px = proxy as unknown as { pairs: Map<import('node:net').Socket, import('node:net').Socket>; held: Set<unknown>; deferred: unknown[] };
        const pairs = [...px.pairs.entries()].map(([c, u]) => ({ cd: c.destroyed, ud: u.destroyed, cflow: c.readableFlowing, uflow: u.readableFlowing, cread: c.bytesRead, uread: u.bytesRead, cw: c.bytesWritten, uw: u.bytesWritten }));
        require('fs').writeFileSync('/tmp/pg-debug.json', JSON.stringify({ exits: fleet.unexpectedExits, apiExit: api?.child.exitCode, apiErr: api?.stderr().slice(-2000), rows, pairs, held: px.held.size, deferred: px.deferred.length }, null, 1));
      }
      const finished = await d.finish(30_000);
      figures.secondsToCompleteAfterRestore = Math.round((Date.now() - restoredAt) / 1000);
      await verifyMixed(stack, tenant, target, rb, d.incidents, finished, figures);

      // Nothing half-written: each incident's audit trail is exactly its kind's trail without an outage.
      const differing: string[] = [];
      const outageIncidents: Tracked[] = d.incidents.filter((i) => !controlIds.has(i.id));
      for (const i of outageIncidents) {
        const kinds = await auditKinds(i.id);
        if (JSON.stringify(kinds) !== JSON.stringify(control.get(i.kind))) differing.push(`${i.kind} ${i.id}: ${kinds.join(' ')}`);
      }
      figures.incidentsWithUnexpectedAuditTrail = differing.length;
      expect(differing).toEqual([]);
      // No orphans: approvals only where a gate was approved, once; no row of an incident that was never declared.
      const { rows: approvals } = await stack.admin.query<{ incident_id: string; decision: string }>('SELECT incident_id, decision FROM approvals WHERE tenant_id = $1', [tenant.id]);
      expect(approvals.map((a) => a.incident_id).sort()).toEqual(d.incidents.filter((i) => i.kind === 'gated').map((i) => i.id).sort());
      const { rows: orphans } = await stack.admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM incident_steps s WHERE tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = s.incident_id)`,
        [tenant.id],
      );
      expect(orphans[0].n).toBe(0);
      // Notifications: delivered at most once each; those whose record could not be written while the database was away are recorded as failed.
      const { rows: notes } = await stack.admin.query<{ kind: string; n: number }>(
        `SELECT kind, count(*)::int AS n FROM action_log WHERE tenant_id = $1 AND kind LIKE 'notification.%' GROUP BY kind`,
        [tenant.id],
      );
      for (const r of notes) figures[r.kind] = r.n;
    });
  }, 900_000);
});
