/**
 * The workload of the chaos scenarios: a tenant with three kinds of runbook against one receiver,
 * a driver that keeps incidents coming and approves the gated ones from outside, as a person would,
 * and the checks run afterwards (final states, effects applied once, the database and the
 * workflows agreeing).
 */
import { stateQuery } from '../../src/workflows/definitions';
import type { Receiver } from '../support/receiver';
import type { HttpAnswer, Stack, TestTenant } from '../support/stack';
import { WorkerFleet, duplicates, effectCounts, httpStep, randomBetween, sleep } from './support';

export type Kind = 'automated' | 'gated' | 'failing';
export const KINDS: Kind[] = ['automated', 'gated', 'failing'];
/** Where each kind of runbook ends: automated resolves on completion, gated (once approved) is mitigated, failing compensates and fails. */
export const FINAL: Record<Kind, string> = { automated: 'resolved', gated: 'mitigated', failing: 'failed' };

/** The effects (idempotency keys, after `aire:<incident id>:`) each kind applies at the receiver, in order. */
const EFFECTS: Record<Kind, string[]> = {
  automated: ['one', 'scale', 'three'],
  gated: ['one', 'two', 'three'],
  // The last step is refused (4xx, final): the two before are undone, newest first.
  failing: ['one', 'scale', 'scale:compensate', 'one:compensate'],
};
/** The step rows each kind ends with. */
const STEPS: Record<Kind, string[]> = {
  automated: ['one:succeeded', 'scale:succeeded', 'three:succeeded'],
  gated: ['one:succeeded', 'two:succeeded', 'three:succeeded'],
  failing: ['one:compensated', 'scale:compensated', 'boom:failed'],
};

export interface Tracked {
  id: string;
  kind: Kind;
  workflowId: string;
  openedAt: number;
  approved: boolean;
  status: string;
  finishedAt?: number;
}

export type Caller = (method: string, path: string, key: string | undefined, body?: unknown, headers?: Record<string, string>) => Promise<HttpAnswer>;

export const done = (i: Tracked): boolean => i.status === FINAL[i.kind];

/** One tenant's three runbooks (ids `<rb>-<kind>`) on `target`; steps take 100–1200 ms there. */
export async function setUpMixed(stack: Stack, tenant: TestTenant, target: Receiver, rb: string): Promise<void> {
  // A notification channel too: deliveries carry an idempotency key as well and count as effects.
  const settings = await stack.call('PUT', '/api/settings', tenant.keys.admin, {
    channels: [{ name: 'watch', target: { url: `${target.url}/watch` }, events: ['incident.opened', 'incident.resolved'] }],
  });
  if (settings.status !== 200) throw new Error(`settings refused: ${JSON.stringify(settings.body)}`);
  const scale = {
    id: 'scale',
    name: 'scale',
    action: 'scale',
    params: { url: `${target.url}/${rb}/svc/{{incident.id}}/capacity`, replicas: 5 },
    timeout: '8s',
    retry: { maximumAttempts: 20, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '3s' },
  };
  const runbooks: Record<Kind, unknown[]> = {
    automated: [httpStep(target.url, rb, 'one'), scale, httpStep(target.url, rb, 'three')],
    gated: [httpStep(target.url, rb, 'one'), httpStep(target.url, rb, 'two', { requiresApproval: true }), httpStep(target.url, rb, 'three')],
    failing: [httpStep(target.url, rb, 'one'), scale, httpStep(target.url, rb, 'boom', { onFailure: 'abort' })],
  };
  for (const kind of KINDS) {
    const res = await stack.call('POST', '/api/runbooks', tenant.keys.admin, {
      id: `${rb}-${kind}`,
      name: `${kind} chaos runbook`,
      triggers: { titlePattern: `${rb}-${kind}` },
      steps: runbooks[kind],
      ...(kind === 'automated' ? { completion: { autoResolve: true } } : {}),
      // The brakes on runaway remediation would rightly stop a runbook that fails over and over
      // (and past 20 runs an hour): not what these scenarios are about, so they are set out of reach.
      limits: { maxRuns: { count: 10_000, window: '1h' }, breaker: { failures: 1_000, window: '1h' } },
    });
    if (res.status !== 201) throw new Error(`runbook ${kind} refused: ${JSON.stringify(res.body)}`);
  }
  // Each step takes a while at the target, so trouble lands in the middle of steps as well as between them.
  for (const step of ['one', 'two', 'three', 'undo-one']) target.respond('POST', `/${rb}/${step}`, () => ({ delayMs: Math.round(randomBetween(100, 1_200)) }));
  target.on('POST', `/${rb}/boom`, { status: 400, body: { error: 'refused' } });
}

/**
 * Opens incidents (kinds in turn), follows their status in the database, and approves gated ones
 * when they wait. `keepInFlight()` says how many unfinished incidents to keep open (0: open no more).
 */
export class Driver {
  readonly incidents: Tracked[] = [];
  private stopped = false;
  private opened = 0;
  private run?: Promise<boolean>;
  /** Answers the API gave a declaration or approval other than the expected one, e.g. 503 while Temporal was down. */
  readonly refusals: string[] = [];

  /** Calls the API; `via` picks another API than the stack's own (a process behind a cut database, say). */
  private readonly call: Caller;

  constructor(
    private readonly stack: Stack,
    private readonly tenant: TestTenant,
    private readonly rb: string,
    via?: Caller,
  ) {
    this.call = via ?? ((...args) => stack.call(...args));
  }

  async open(): Promise<void> {
    const kind = KINDS[this.opened % KINDS.length]!;
    this.opened += 1;
    const n = this.opened;
    // The same Idempotency-Key on every try: a declaration retried after a 5xx is one incident.
    const key = `${this.rb}-declaration-${n}`;
    for (;;) {
      const title = `${this.rb}-${kind} incident ${n}`;
      const res = await this.call('POST', '/api/incidents', this.tenant.keys.ingest, { title, severity: 'medium' }, { 'idempotency-key': key }).catch(
        (err: Error) => ({
          status: 0,
          body: { error: err.message },
        }),
      );
      if (res.status === 201 || res.status === 200) {
        const body = res.body as unknown as { id: string; workflowId: string };
        this.incidents.push({ id: body.id, kind, workflowId: body.workflowId, openedAt: Date.now(), approved: false, status: 'open' });
        return;
      }
      if (res.status !== 503 && res.status !== 0) throw new Error(`declaration refused with ${res.status}: ${JSON.stringify(res.body)}`);
      this.refusals.push(`declare ${res.status}`);
      await sleep(500);
    }
  }

  private async tick(keepInFlight: number): Promise<void> {
    const { rows } = await this.stack.admin.query<{ id: string; status: string }>('SELECT id, status FROM incidents WHERE tenant_id = $1', [this.tenant.id]);
    const status = new Map(rows.map((r) => [r.id, r.status]));
    for (const i of this.incidents) {
      i.status = status.get(i.id) ?? i.status;
      if (done(i) && i.finishedAt === undefined) i.finishedAt = Date.now();
      if (i.kind === 'gated' && !i.approved && i.status === 'awaiting_approval') {
        const res = await this.call('POST', `/api/incidents/${i.id}/approve`, this.tenant.keys.approver, { reason: 'chaos approves' }).catch((err: Error) => ({
          status: 0,
          body: { error: err.message },
        }));
        if (res.status === 200) i.approved = true;
        else this.refusals.push(`approve ${res.status}`);
      }
    }
    const inFlight = this.incidents.filter((i) => !done(i)).length;
    for (let n = inFlight; n < keepInFlight && !this.stopped; n += 1) await this.open();
  }

  /**
   * Runs until stopped or, once `keepInFlight()` is 0 and `hold()` false, until every incident is
   * done (then resolves true).
   */
  start(keepInFlight: () => number, hold: () => boolean = () => false): void {
    this.run = (async () => {
      while (!this.stopped) {
        const keep = keepInFlight();
        await this.tick(keep);
        if (keep === 0 && !hold() && this.incidents.every(done)) return true;
        await sleep(300);
      }
      return false;
    })();
    this.run.catch(() => undefined).finally(() => (this.stopped = true));
  }

  /** True once the driver ended: stopped, done, or failed (then `finish` rejects with why). */
  get ended(): boolean {
    return this.stopped;
  }

  /** Waits until every incident is done; false after `ms`. Rejects with the driver's own failure. */
  async finish(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([this.run ?? Promise.resolve(true), late]);
    } finally {
      clearTimeout(timer);
      this.stopped = true;
    }
  }

  stop(): void {
    this.stopped = true;
  }
}

/**
 * What every chaos scenario checks afterwards, adding its figures:
 * - every incident reached its runbook's end (none stuck);
 * - no idempotency key was applied twice at the receiver (steps, compensations, notifications);
 * - each incident applied exactly its effects, in order, and the capacity is where it should be;
 * - the database agrees (step rows, one `step.succeeded` per step, transitions numbered without gaps);
 * - each workflow's live state says the same status.
 */
export async function verifyMixed(
  stack: Stack,
  tenant: TestTenant,
  target: Receiver,
  rb: string,
  incidents: Tracked[],
  finished: boolean,
  figures: Record<string, number | string | boolean>,
): Promise<void> {
  const stuck = incidents.filter((i) => !done(i));
  figures.incidentsOpened = incidents.length;
  figures.incidentsCompleted = incidents.length - stuck.length;
  figures.stuck = stuck.length;
  for (const kind of KINDS) figures[`${kind}Completed`] = incidents.filter((i) => i.kind === kind && done(i)).length;
  figures.slowestIncidentSeconds = Math.round(Math.max(...incidents.map((i) => ((i.finishedAt ?? Date.now()) - i.openedAt) / 1000)));

  const dupes = duplicates(target.applied);
  const applied = effectCounts(target.applied);
  const delivered = effectCounts(target.requests.filter((r) => r.method !== 'GET'));
  figures.duplicateEffects = dupes.length;
  figures.effectsApplied = applied.size;
  // Deliveries of an effect already applied (a retry after a crash), which the key made harmless.
  figures.redeliveries = [...delivered.values()].reduce((a, n) => a + n, 0) - [...applied.values()].reduce((a, n) => a + n, 0);

  expect({ finished, stuck: stuck.map((i) => `${i.kind} ${i.id}: ${i.status}`) }).toEqual({ finished: true, stuck: [] });
  expect(dupes).toEqual([]);

  for (const i of incidents) {
    const keys = target.applied
      .map((r) => String(r.headers['idempotency-key']))
      .filter((k) => k.startsWith(`aire:${i.id}:`) && !k.startsWith(`aire:${i.id}:n:`))
      .map((k) => k.slice(`aire:${i.id}:`.length));
    expect({ id: i.id, kind: i.kind, keys }).toEqual({ id: i.id, kind: i.kind, keys: EFFECTS[i.kind] });
    const capacity = target.capacity.get(`/${rb}/svc/${i.id}/capacity`);
    expect({ id: i.id, capacity }).toEqual({ id: i.id, capacity: i.kind === 'failing' ? 0 : i.kind === 'automated' ? 5 : undefined });
  }

  const { rows: steps } = await stack.admin.query<{ incident_id: string; step_id: string; status: string }>(
    'SELECT incident_id, step_id, status FROM incident_steps WHERE tenant_id = $1 ORDER BY incident_id, position',
    [tenant.id],
  );
  const { rows: log } = await stack.admin.query<{ incident_id: string; kind: string; event_key: string; step_id: string | null }>(
    'SELECT incident_id, kind, event_key, step_id FROM action_log WHERE tenant_id = $1',
    [tenant.id],
  );
  const { rows: all } = await stack.admin.query<{ id: string }>('SELECT id FROM incidents WHERE tenant_id = $1', [tenant.id]);
  // Nothing more in the database than what was declared (no incident twice), nothing less.
  expect(all.map((r) => r.id).sort()).toEqual(incidents.map((i) => i.id).sort());
  for (const i of incidents) {
    expect({ id: i.id, steps: steps.filter((s) => s.incident_id === i.id).map((s) => `${s.step_id}:${s.status}`) }).toEqual({ id: i.id, steps: STEPS[i.kind] });
    const entries = log.filter((e) => e.incident_id === i.id);
    const succeeded = entries
      .filter((e) => e.kind === 'step.succeeded')
      .map((e) => e.step_id ?? '')
      .sort();
    const ran = STEPS[i.kind]
      .filter((s) => !s.endsWith(':failed'))
      .map((s) => s.split(':')[0])
      .sort();
    expect({ id: i.id, succeeded }).toEqual({ id: i.id, succeeded: ran });
    const seqs = entries
      .filter((e) => e.event_key.startsWith('t:'))
      .map((e) => Number(e.event_key.slice(2)))
      .sort((a, b) => a - b);
    expect({ id: i.id, gaps: seqs.some((s, n) => s !== n + 1) }).toEqual({ id: i.id, gaps: false });
  }
  for (const i of incidents) {
    const live = await stack.temporal.workflow.getHandle(i.workflowId).query(stateQuery);
    expect({ id: i.id, status: live.status }).toEqual({ id: i.id, status: FINAL[i.kind] });
  }
}

/** What restarts a Temporal server: `down(crash)` stops it (by SIGKILL when `crash`), `up()` starts it again. */
export interface TemporalControl {
  down(crash: boolean): Promise<void>;
  up(): Promise<void>;
}

/**
 * The Temporal-restart scenario, for the dev server and for the PostgreSQL-backed one: `incidents`
 * of the mixed runbooks run while the server goes away `restarts` times (a crash and a clean stop in
 * turn), with one declaration made while it is down each time; then everything must complete, the
 * workers must have ridden through (none died), and every workflow is still known and running.
 */
export async function restartTemporalWhileRunning(
  stack: Stack,
  tenant: TestTenant,
  target: Receiver,
  rb: string,
  fleet: WorkerFleet,
  temporal: TemporalControl,
  opts: { incidents: number; restarts: number; onDriver?: (d: Driver) => void },
  figures: Record<string, number | string | boolean>,
): Promise<Driver> {
  // All incidents opened up front (one more during each restart, below); the driver follows them and approves gates.
  let restarting = true;
  const d = new Driver(stack, tenant, rb);
  opts.onDriver?.(d);
  for (let n = 0; n < opts.incidents; n += 1) await d.open();
  d.start(
    () => 0,
    () => restarting,
  );

  let downSeconds = 0;
  const declaredWhileDown: Promise<void>[] = [];
  try {
    for (let r = 0; r < opts.restarts && !d.ended; r += 1) {
      // Somewhere in the middle of the runbooks: steps in flight, gates waiting, compensations running.
      await sleep(randomBetween(1_500, 4_000));
      const down = Date.now();
      await temporal.down(r % 2 === 0);
      // Declared while the server is down: the API answers 503 (or waits for the server), and the
      // declaration is retried with the same Idempotency-Key until it is taken, as one incident.
      declaredWhileDown.push(d.open());
      await sleep(randomBetween(1_000, 3_000));
      await temporal.up();
      downSeconds += (Date.now() - down) / 1000;
    }
    await Promise.all(declaredWhileDown);
  } finally {
    restarting = false;
  }
  figures.temporalDownSeconds = Math.round(downSeconds);
  figures.declarationsRetried = d.refusals.filter((r) => r.startsWith('declare')).length;

  const finished = await d.finish(240_000);
  figures.workerStartFailures = fleet.startFailures.length;
  figures.workerCrashes = fleet.unexpectedExits.length;
  // The workers rode through the restarts: none died, none had to be replaced.
  expect(fleet.unexpectedExits).toEqual([]);
  expect(fleet.ready.length).toBe(2);
  expect(d.incidents.length).toBe(opts.incidents + opts.restarts);
  await verifyMixed(stack, tenant, target, rb, d.incidents, finished, figures);
  // Every workflow is still known to the restarted server, running (incidents stay open until closed).
  for (const i of d.incidents) expect((await stack.temporal.workflow.getHandle(i.workflowId).describe()).status.name).toBe('RUNNING');
  return d;
}
