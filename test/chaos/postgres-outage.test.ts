import { Receiver } from '../support/receiver';
import { Spawned, freePort, startApiProcess, stopProcess } from '../support/processes';
import { Stack, TestTenant, eventually, uniqueId } from '../support/stack';
import { Driver, Tracked, setUpMixed, verifyMixed } from './mixed';
import { PARAMS, PgProxy, WorkerFleet, apiCaller, chaosStack, scenario, sleep } from './support';

/** Rows a retried attempt adds (one per attempt, so their number depends on timing); everything else is exact. */
const PER_ATTEMPT = new Set(['step.started', 'step.attempt_failed', 'step.compensating', 'step.compensation_attempt_failed']);
/** Notifications are delivered beside the runbook and recorded as sent or failed: not part of the runbook's own trail. */
const isNotification = (kind: string): boolean => kind.startsWith('notification.');
/** The steps of the runbook left at the default timeout (30 s) and retry policy (3 attempts, 1 s apart, doubling). */
const DEFAULT_POLICY_STEPS = ['d1', 'd2', 'd3'];
/** How long each of them takes at the target: long enough to be in flight when the database restarts. */
const DEFAULT_POLICY_STEP_MS = 4_000;

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
 *
 * The database then "restarts" (a short partition ending in every connection reset, then refused
 * for PARAMS.pgRefuseMs) while runbooks left at the default retry policy have a step in flight at
 * the target: that step completes in the attempt it was in (its own records wait for the database,
 * src/activities/steps.ts), is sent once, and the runbook resolves as it would have without it.
 *
 * Last, the database fails over (PgProxy.failover): every open connection is stranded, silent for
 * ever; the runbooks under way complete once the processes' query timeouts have let go of them.
 */
describe('chaos: PostgreSQL unavailable mid-runbook', () => {
  let stack: Stack;
  let own: Awaited<ReturnType<typeof chaosStack>> | undefined;
  let target: Receiver;
  let tenant: TestTenant;
  let probes: TestTenant;
  let plain: TestTenant;
  let proxy: PgProxy;
  let api: (Spawned & { url: string }) | undefined;
  let fleet: WorkerFleet;
  let driver: Driver | undefined;
  const call = apiCaller(() => api?.url ?? '', 30_000);

  beforeAll(async () => {
    own = await chaosStack('chaos-pg');
    stack = own.stack;
    target = await new Receiver().start();
    [tenant, probes, plain] = [await stack.tenant('chaos-pg'), await stack.tenant('chaos-pg-probe'), await stack.tenant('chaos-pg-default')];
    proxy = await new PgProxy().start();
    const env = {
      DATABASE_URL: proxy.url(stack.config.DATABASE_URL),
      TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS,
      AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE,
    };
    fleet = new WorkerFleet(env, 1);
    [api] = await Promise.all([startApiProcess(await freePort(), env), fleet.start()]);
  }, 120_000);
  afterAll(async () => {
    driver?.stop();
    if (api) await stopProcess(api, 'SIGKILL');
    await fleet?.stop();
    await proxy?.stop();
    await own?.stop();
    await target?.stop();
  });

  async function auditKinds(incidentId: string): Promise<string[]> {
    const { rows } = await stack.admin.query<{ kind: string; step_id: string | null }>(
      'SELECT kind, step_id FROM action_log WHERE incident_id = $1 ORDER BY id',
      [incidentId],
    );
    return rows.filter((r) => !PER_ATTEMPT.has(r.kind) && !isNotification(r.kind)).map((r) => (r.step_id ? `${r.kind}:${r.step_id}` : r.kind));
  }

  /** A runbook of three slow `http` steps with no timeout or retry of their own (the defaults), for the tenant `plain`. */
  async function setUpDefaultPolicy(rb: string): Promise<{ arrivals: number[]; declare(n: number): Promise<string>; resolved(ids: string[]): Promise<void> }> {
    const steps = DEFAULT_POLICY_STEPS.map((id) => ({ id, name: id, action: 'http', params: { method: 'POST', url: `${target.url}/${rb}/default/${id}` } }));
    const created = await stack.call('POST', '/api/runbooks', plain.keys.admin, {
      id: `${rb}-default`,
      name: 'default policy',
      triggers: { titlePattern: `${rb}-default` },
      steps,
      completion: { autoResolve: true },
    });
    expect(created.status).toBe(201);
    const arrivals: number[] = [];
    for (const id of DEFAULT_POLICY_STEPS) {
      target.respond('POST', `/${rb}/default/${id}`, (req) => {
        arrivals.push(req.at);
        return { delayMs: DEFAULT_POLICY_STEP_MS };
      });
    }
    return {
      arrivals,
      async declare(n) {
        const res = await call(
          'POST',
          '/api/incidents',
          plain.keys.ingest,
          { title: `${rb}-default incident ${n}`, severity: 'medium' },
          { 'idempotency-key': `${rb}-default-${n}` },
        );
        expect(res.status).toBe(201);
        return (res.body as { id: string }).id;
      },
      async resolved(ids) {
        await eventually(
          async () => {
            const { rows } = await stack.admin.query<{ id: string; status: string }>('SELECT id, status FROM incidents WHERE id = ANY($1)', [ids]);
            return rows.length === ids.length && rows.every((r) => ['resolved', 'failed'].includes(r.status)) ? true : undefined;
          },
          240_000,
          500,
        );
      },
    };
  }

  test(`PostgreSQL cut for ${PARAMS.pgOutageMs / 1000} s: 503 + Retry-After meanwhile, everything completes after, nothing half-written`, async () => {
    const rb = uniqueId('pg');
    const figures: Record<string, number | string | boolean> = { outageSeconds: PARAMS.pgOutageMs / 1000, incidents: PARAMS.pgIncidents };
    await scenario('postgres-outage', figures, async () => {
      await setUpMixed(stack, tenant, target, rb);
      const plainRunbook = await setUpDefaultPolicy(rb);
      const d = new Driver(stack, tenant, rb, call);
      driver = d;

      // Control: one incident of each kind, without an outage, gives each kind's exact audit trail.
      for (let n = 0; n < 3; n += 1) await d.open();
      const plainControl = await plainRunbook.declare(0);
      let cutting = true;
      d.start(
        () => 0,
        () => cutting,
      );
      await eventually(async () => (d.incidents.every((i) => i.finishedAt !== undefined) ? true : undefined), 120_000, 300);
      await plainRunbook.resolved([plainControl]);
      const control = new Map<string, string[]>();
      for (const i of d.incidents) control.set(i.kind, await auditKinds(i.id));
      control.set('default', await auditKinds(plainControl));
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
      const probeId = d.incidents[0]!.id;
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
            probe(
              'declare',
              call(
                'POST',
                '/api/incidents',
                probes.keys.ingest,
                { title: `declared while the database is away ${round}`, severity: 'low' },
                { 'idempotency-key': key },
              ),
            ),
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
            if (r.status !== 503 || !r.headers.get('retry-after'))
              problems.push(`${what} ${r.status} retry-after=${r.headers.get('retry-after')}: ${JSON.stringify(r.body)}`);
            else if (what === 'declare') refusedKeys.push(key);
          }
        }
        await sleep(1_000);
      }
      // The partition heals: silent connections carry on where they were (late answers to abandoned attempts included).
      proxy.restore();
      const restoredAt = Date.now();
      figures.outageProbes = round;
      figures.answersWhileCut = Object.entries(answers)
        .map(([k, n]) => `${k}×${n}`)
        .join(', ');
      figures.slowestAnswerWhileCutMs = slowest.ms;
      figures.connectionsHeldWhileCut = proxy.heldConnections;
      expect(problems).toEqual([]);
      // Answered within the API's bounded waits (query timeout 10 s by default), not hung until the database came back.
      expect(slowest.ms).toBeLessThan(15_000);
      await eventually(async () => ((await call('GET', '/readyz', undefined)).status === 200 ? true : undefined), 60_000, 500);
      figures.outageActualSeconds = Math.round((restoredAt - cutAt) / 1000);
      figures.secondsUntilReady = Math.round((Date.now() - restoredAt) / 1000);

      // Then the database "restarts": more runbooks under way, a short partition catches their
      // transactions mid-flight, then every connection is reset and new ones refused for a while.
      // A reset in the middle of a transaction must fail that attempt, not the process. Runbooks at
      // the default retry policy are under way too, a step of theirs waiting at the target.
      for (let n = 0; n < 3; n += 1) await d.open();
      const plainIds = await Promise.all(Array.from({ length: PARAMS.pgDefaultPolicyIncidents }, (_, n) => plainRunbook.declare(n + 1)));
      const arrived = plainRunbook.arrivals.length;
      await eventually(async () => (plainRunbook.arrivals.length > arrived ? true : undefined), 60_000, 50);
      proxy.cut('partition');
      await sleep(2_000);
      proxy.cut('refuse');
      const refusedAt = Date.now();
      // Sent before the restart, answered after it: in flight when every connection was reset.
      const inFlightAtRestart = plainRunbook.arrivals.filter((at) => at <= refusedAt && at + DEFAULT_POLICY_STEP_MS > refusedAt).length;
      figures.defaultPolicyStepsInFlightAtRestart = inFlightAtRestart;
      expect(inFlightAtRestart).toBeGreaterThan(0);
      const refused = await Promise.all([
        call('GET', '/readyz', undefined),
        call(
          'POST',
          '/api/incidents',
          probes.keys.ingest,
          { title: 'declared while the database refuses', severity: 'low' },
          { 'idempotency-key': `${rb}-probe-refused` },
        ),
      ]);
      figures.answersWhileRefused = refused.map((r) => `${r.status} in ${r.ms} ms`).join(', ');
      expect(refused.map((r) => [r.status, !!r.headers.get('retry-after')])).toEqual([
        [503, true],
        [503, true],
      ]);
      refusedKeys.push(`${rb}-probe-refused`);
      await sleep(Math.max(0, refusedAt + PARAMS.pgRefuseMs - Date.now()));
      proxy.restore();
      figures.refusedSeconds = Math.round((Date.now() - refusedAt) / 1000);
      const backAt = Date.now();
      figures.connectionsThroughProxy = proxy.connections;

      // Back: the refused declarations go through on retry (one incident each), the runbooks finish.
      await eventually(async () => ((await call('GET', '/readyz', undefined)).status === 200 ? true : undefined), 60_000, 500);
      for (const key of refusedKeys) {
        const res = await call(
          'POST',
          '/api/incidents',
          probes.keys.ingest,
          { title: `declared again after the outage`, severity: 'low' },
          { 'idempotency-key': key },
        );
        expect(res.status).toBe(201);
      }
      const { rows: probeRows } = await stack.admin.query<{ dedup_key: string }>('SELECT dedup_key FROM incidents WHERE tenant_id = $1', [probes.id]);
      expect(probeRows.map((r) => r.dedup_key).sort()).toEqual(refusedKeys.map((k) => `manual:${k}`).sort());
      figures.declarationsRefusedThenAccepted = refusedKeys.length;

      // Last, the database fails over: the server behind every open connection is gone and no
      // client is told, new connections reach the new one at once. The processes get off their
      // stranded connections only by their own query timeouts (DATABASE_QUERY_TIMEOUT): without
      // them the worker would wait on those for as long as TCP takes, or for ever, and every
      // runbook with it. The default-policy runbooks finish first: what is checked of them below is
      // what the restart alone did to them.
      await plainRunbook.resolved(plainIds);
      for (let n = 0; n < 3; n += 1) await d.open();
      await sleep(1_500);
      const runningAtFailover = d.incidents.filter((i) => i.finishedAt === undefined);
      figures.incidentsInFlightAtFailover = runningAtFailover.length;
      expect(runningAtFailover.length).toBeGreaterThan(0);
      figures.connectionsStrandedByFailover = proxy.failover();
      const failedOverAt = Date.now();
      await eventually(async () => (runningAtFailover.every((i) => i.finishedAt !== undefined) ? true : undefined), 120_000, 300);
      figures.secondsToCompleteAfterFailover = Math.round((Date.now() - failedOverAt) / 1000);
      // And no process is left waiting on a stranded connection (each would hold a pool slot for ever):
      // every one is let go of, by a query timeout if it was in use, by the pool's idle timeout if not.
      await eventually(async () => (proxy.strandedOpen === 0 ? true : undefined), 60_000, 250).catch(() => undefined);
      figures.strandedConnectionsStillHeld = proxy.strandedOpen;
      expect(proxy.strandedOpen).toBe(0);
      figures.secondsUntilStrandedLetGo = Math.round((Date.now() - failedOverAt) / 1000);

      cutting = false;
      const finished = await d.finish(240_000);
      // Neither process under test died of it.
      figures.processesCrashed = fleet.unexpectedExits.length + (api?.child.exitCode === null ? 0 : 1);
      expect(fleet.unexpectedExits).toEqual([]);
      expect(api?.child.exitCode).toBeNull();
      figures.secondsToCompleteAfterRestore = Math.round((Date.now() - backAt) / 1000);
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

      // The runbooks at the default retry policy: resolved, as without the restart; each step sent
      // once and applied once; the steps in flight at the restart completed in the attempt they
      // were in (their bookkeeping waited for the database instead of failing the attempt).
      const { rows: plainRows } = await stack.admin.query<{ id: string; status: string }>('SELECT id, status FROM incidents WHERE id = ANY($1)', [plainIds]);
      figures.defaultPolicyIncidentsResolved = plainRows.filter((r) => r.status === 'resolved').length;
      expect(plainRows.map((r) => `${r.id}:${r.status}`).sort()).toEqual(plainIds.map((id) => `${id}:resolved`).sort());
      const { rows: plainSteps } = await stack.admin.query<{ incident_id: string; step_id: string; status: string; attempts: number }>(
        'SELECT incident_id, step_id, status, attempts FROM incident_steps WHERE incident_id = ANY($1) ORDER BY incident_id, position',
        [plainIds],
      );
      const plainDifferent: string[] = [];
      for (const id of plainIds) {
        const sent = target.requests.filter((r) => String(r.headers['idempotency-key']).startsWith(`aire:${id}:`) && r.path.includes('/default/'));
        const applied = target.applied.filter((r) => String(r.headers['idempotency-key']).startsWith(`aire:${id}:`) && r.path.includes('/default/'));
        expect({ id, sent: sent.map((r) => r.path.split('/').pop()), applied: applied.map((r) => r.path.split('/').pop()) }).toEqual({
          id,
          sent: DEFAULT_POLICY_STEPS,
          applied: DEFAULT_POLICY_STEPS,
        });
        expect({ id, steps: plainSteps.filter((s) => s.incident_id === id).map((s) => `${s.step_id}:${s.status}:${s.attempts}`) }).toEqual({
          id,
          steps: DEFAULT_POLICY_STEPS.map((s) => `${s}:succeeded:1`),
        });
        const kinds = await auditKinds(id);
        if (JSON.stringify(kinds) !== JSON.stringify(control.get('default'))) plainDifferent.push(`${id}: ${kinds.join(' ')}`);
      }
      figures.defaultPolicyIncidentsWithUnexpectedAuditTrail = plainDifferent.length;
      expect(plainDifferent).toEqual([]);
      // No orphans: approvals only where a gate was approved, once; no row of an incident that was never declared.
      const { rows: approvals } = await stack.admin.query<{ incident_id: string; decision: string }>(
        'SELECT incident_id, decision FROM approvals WHERE tenant_id = $1',
        [tenant.id],
      );
      expect(approvals.map((a) => a.incident_id).sort()).toEqual(
        d.incidents
          .filter((i) => i.kind === 'gated')
          .map((i) => i.id)
          .sort(),
      );
      const { rows: orphans } = await stack.admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM incident_steps s WHERE tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = s.incident_id)`,
        [tenant.id],
      );
      expect(orphans[0]!.n).toBe(0);
      // Notifications: delivered at most once each; those whose record could not be written while the database was away are recorded as failed.
      const { rows: notes } = await stack.admin.query<{ kind: string; n: number }>(
        `SELECT kind, count(*)::int AS n FROM action_log WHERE tenant_id = $1 AND kind LIKE 'notification.%' GROUP BY kind`,
        [tenant.id],
      );
      for (const r of notes) figures[r.kind] = r.n;
    });
  }, 900_000);
});
