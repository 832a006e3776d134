/**
 * Shared pieces of the chaos suite (test/chaos/*.test.ts): the short/long parameters, a worker
 * fleet to kill, a Temporal dev server of its own to restart, a TCP proxy to cut PostgreSQL, and the
 * figures each scenario reports (stdout and test/chaos/results/last-run.json).
 *
 * Short parameters run inside `npm test`; `AIRE_CHAOS_LONG=1` (what `npm run chaos` sets) switches
 * to the long ones. docs/reliability.md has the command and the last long run's figures.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Server, Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerArgs } from '../../src/temporal/dev-server';
import { TEST_ENV_FILE, temporalBinary, testEnv } from '../support/env';
import { Spawned, freePort, startWorkerProcess } from '../support/processes';
import type { Received } from '../support/receiver';
import { HttpAnswer, Stack } from '../support/stack';

export const LONG = process.env.AIRE_CHAOS_LONG === '1';
export const MODE: 'short' | 'long' = LONG ? 'long' : 'short';

/** Every knob of the suite, short (npm test, ~2–3 min on 2 cores) and long (npm run chaos). */
export const PARAMS = LONG
  ? {
      workerKills: 100,
      workerFleet: 2,
      /** Incidents kept running at once while workers are killed. */
      concurrentIncidents: 20,
      /** Pause between two kills once the fleet is back at full strength, drawn uniformly from this range (ms). */
      killGapMs: [500, 2_500] as const,
      temporalRestarts: 5,
      temporalIncidents: 20,
      apiRequests: 600,
      apiKills: 4,
      pgOutageMs: 30_000,
      pgIncidents: 12,
      /** How long the "restarted" database refuses connections, and runbooks with the default retry policy in flight then. */
      pgRefuseMs: 15_000,
      pgDefaultPolicyIncidents: 6,
      slowIncidents: 20,
    }
  : {
      workerKills: 10,
      workerFleet: 2,
      concurrentIncidents: 20,
      killGapMs: [500, 2_500] as const,
      temporalRestarts: 2,
      temporalIncidents: 10,
      apiRequests: 150,
      apiKills: 1,
      pgOutageMs: 8_000,
      pgIncidents: 6,
      pgRefuseMs: 8_000,
      pgDefaultPolicyIncidents: 3,
      slowIncidents: 5,
    };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const randomBetween = (min: number, max: number): number => min + Math.random() * (max - min);

// ---------------------------------------------------------------------------------------------
// Figures

export const RESULTS_DIR = join(__dirname, 'results');
const LAST_RUN = join(RESULTS_DIR, 'last-run.json');
const LAST_LONG_RUN = join(RESULTS_DIR, 'last-long-run.json');

export interface ScenarioResult {
  /** What went wrong on purpose, how often, and what came out of it. */
  figures: Record<string, number | string | boolean>;
  passed: boolean;
  durationMs: number;
}

interface RunFile {
  /** The test run these figures belong to (when its global setup prepared it). */
  runId: string;
  mode: 'short' | 'long';
  finishedAt: string;
  scenarios: Record<string, ScenarioResult & { finishedAt: string }>;
}

/**
 * The global setup writes env.json at the start of every jest run: its time tells runs apart.
 * scripts/chaos.sh runs the suite as two jest runs and names the run itself (AIRE_CHAOS_RUN_ID).
 */
function runId(): string {
  return process.env.AIRE_CHAOS_RUN_ID || statSync(TEST_ENV_FILE).mtime.toISOString();
}

/** Scenario files of several jest workers are merged into one file under a lock (a directory: mkdir is atomic). */
async function withLock<T>(fn: () => T): Promise<T> {
  const lock = join(RESULTS_DIR, '.lock');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      await sleep(50);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function readRun(file: string): RunFile | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunFile;
  } catch {
    return undefined;
  }
}

/**
 * Prints a scenario's figures and merges them into results/last-run.json (and, for a long run,
 * results/last-long-run.json, the figures docs/reliability.md quotes). A file from an earlier run is replaced.
 */
export async function report(scenario: string, result: ScenarioResult): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const id = runId();
  const finishedAt = new Date().toISOString();
  const line = Object.entries(result.figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  process.stdout.write(`\n[chaos ${MODE}] ${scenario}: ${result.passed ? 'PASSED' : 'FAILED'} in ${(result.durationMs / 1000).toFixed(1)} s — ${line}\n`);
  await withLock(() => {
    for (const file of LONG ? [LAST_RUN, LAST_LONG_RUN] : [LAST_RUN]) {
      const previous = readRun(file);
      const run: RunFile = previous && previous.runId === id && previous.mode === MODE ? previous : { runId: id, mode: MODE, finishedAt, scenarios: {} };
      run.scenarios[scenario] = { ...result, finishedAt };
      run.finishedAt = finishedAt;
      writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
    }
  });
}

/** Runs a scenario body, timing it, and reports its figures whether it passed or not. */
export async function scenario(name: string, figures: Record<string, number | string | boolean>, body: () => Promise<void>): Promise<void> {
  const started = Date.now();
  let passed = false;
  try {
    await body();
    passed = true;
  } finally {
    await report(name, { figures, passed, durationMs: Date.now() - started });
  }
}

/** For scripts/chaos.sh: the figures of the last run as lines of text. */
export function summarize(file = LAST_RUN): string {
  const run = readRun(file);
  if (!run) return `no chaos results in ${file}`;
  const lines = [`chaos suite, ${run.mode} run, finished ${run.finishedAt}`];
  for (const [name, s] of Object.entries(run.scenarios)) {
    lines.push(`  ${name}: ${s.passed ? 'passed' : 'FAILED'} in ${(s.durationMs / 1000).toFixed(1)} s`);
    for (const [k, v] of Object.entries(s.figures)) lines.push(`    ${k}: ${v}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// HTTP

/**
 * Calls an API at `baseUrl` like Stack.call, with a deadline: a request that gets no answer within
 * `timeoutMs` rejects (a hanging API is a finding, not a reason for the test to hang too).
 */
export function apiCaller(baseUrl: () => string, timeoutMs = 30_000) {
  return async <T = Record<string, unknown>>(
    method: string,
    path: string,
    key: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer<T> & { ms: number }> => {
    const started = Date.now();
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { text };
    }
    return { status: res.status, headers: res.headers, body: parsed as T, ms: Date.now() - started };
  };
}

// ---------------------------------------------------------------------------------------------
// Effects at the receiver

/** How often each idempotency key was applied (an effect) and delivered (a request) at a receiver. */
export function effectCounts(received: Received[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of received) {
    const key = r.headers['idempotency-key'];
    if (typeof key !== 'string') continue;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Keys applied more than once: each one an effect that happened twice. */
export function duplicates(applied: Received[]): string[] {
  return [...effectCounts(applied).entries()].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
}

// ---------------------------------------------------------------------------------------------
// Worker processes

/**
 * A fleet of worker processes (test/support/worker-process.ts) on one task queue, kept at `size`:
 * `killOne()` SIGKILLs one that is polling and brings a new one up in its place.
 */
export class WorkerFleet {
  readonly ready: Spawned[] = [];
  private readonly starting = new Set<Promise<void>>();
  private readonly all: Spawned[] = [];
  private readonly killed = new Set<Spawned>();
  kills = 0;
  started = 0;
  startFailures: string[] = [];
  /** Workers that ended without being killed: the exit code or signal and the end of their stderr. */
  unexpectedExits: string[] = [];

  constructor(
    private readonly env: Record<string, string>,
    private readonly size: number,
  ) {}

  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.spawnOne()));
  }

  private spawnOne(): Promise<void> {
    const p = startWorkerProcess(this.env).then(
      (w) => {
        this.all.push(w);
        this.started += 1;
        this.ready.push(w);
        void w.exited.then((code) => {
          const i = this.ready.indexOf(w);
          if (i >= 0) this.ready.splice(i, 1);
          if (!this.killed.has(w)) this.unexpectedExits.push(`exited ${code}: ${w.stderr().slice(-1_000)}`);
        });
      },
      (err: Error) => {
        // A worker that could not start is a failure of the system under test, reported by the caller.
        this.startFailures.push(err.message.slice(0, 500));
      },
    );
    const tracked = p.finally(() => this.starting.delete(tracked));
    this.starting.add(tracked);
    return tracked;
  }

  /**
   * Waits until the fleet is back at full strength (the last replacement polls), then SIGKILLs a
   * random worker and starts its replacement. So there is always a survivor that has been up a
   * while: with every worker killed within seconds of starting, each would spend its short life
   * replaying the incidents' histories (its cache starts empty) and nothing would get done at all.
   */
  async killOne(): Promise<void> {
    while (this.ready.length < this.size) {
      if (this.starting.size === 0) await this.spawnOne();
      else await sleep(100);
    }
    const victim = this.ready[Math.floor(Math.random() * this.ready.length)]!;
    this.ready.splice(this.ready.indexOf(victim), 1);
    this.killed.add(victim);
    victim.child.kill('SIGKILL');
    await victim.exited;
    this.kills += 1;
    void this.spawnOne();
  }

  /** Brings the fleet back to `size` polling workers. */
  async settle(): Promise<void> {
    await Promise.all([...this.starting]);
    while (this.ready.length < this.size) await this.spawnOne();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.starting]);
    for (const w of this.all) this.killed.add(w);
    for (const w of this.all) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(this.all.map((w) => w.exited));
  }
}

// ---------------------------------------------------------------------------------------------
// A Temporal dev server of the scenario's own

async function temporalAnswers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/**
 * `temporal server start-dev` on a port and database file of its own (like the global setup's),
 * so a scenario can stop it and start it again on the same port with the same data.
 */
export class OwnTemporal {
  address = '';
  private port = 0;
  private child?: ChildProcess;
  private exited?: Promise<void>;
  readonly dbFile: string;
  readonly logFile: string;

  constructor(dir: string, name: string) {
    mkdirSync(dir, { recursive: true });
    this.dbFile = join(dir, `${name}.db`);
    this.logFile = join(dir, `${name}.log`);
    rmSync(this.dbFile, { force: true });
  }

  async start(): Promise<void> {
    if (!this.port) {
      this.port = await freePort();
      this.address = `127.0.0.1:${this.port}`;
    }
    const log = openSync(this.logFile, 'a');
    const child = spawn(temporalBinary(), devServerArgs(this.port, this.dbFile), { stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the Temporal dev server exited (${child.exitCode}); see ${this.logFile}`);
      if (await temporalAnswers(this.address)) return;
      await sleep(250);
    }
    throw new Error(`the Temporal dev server did not answer on ${this.address} within 90 s; see ${this.logFile}`);
  }

  /** Stops the server: SIGTERM (a clean shutdown) or SIGKILL (a crash). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  async restart(signal: NodeJS.Signals, downMs: number): Promise<void> {
    await this.stop(signal);
    await sleep(downMs);
    await this.start();
  }
}

/**
 * A Stack (API in-process, clients, the test database) on a Temporal dev server of its own, which
 * `stop()` stops too. Each scenario has its own server: what a scenario does to Temporal, or the
 * load it puts on it, stays there. (The dev server keeps its data in SQLite; under heavy load the
 * CLI's driver can get stuck answering "interrupted (9)" to every query until restarted — a known
 * upstream issue, temporalio/temporal#9198 — which on the shared server would fail unrelated tests.)
 */
export async function chaosStack(name: string, opts: { worker?: boolean } = {}): Promise<{ stack: Stack; temporal: OwnTemporal; stop(): Promise<void> }> {
  const temporal = new OwnTemporal(join(testEnv().stateDir, 'chaos'), name);
  await temporal.start();
  const stack = await Stack.start(name, { worker: opts.worker ?? false, env: { TEMPORAL_ADDRESS: temporal.address } });
  return {
    stack,
    temporal,
    async stop() {
      await stack.stop();
      await temporal.stop('SIGKILL');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL behind a proxy that can be cut

/**
 * A TCP proxy to PostgreSQL on 127.0.0.1:5432, for the processes under test only (the test itself
 * and every other test keep talking to PostgreSQL directly).
 * - `cut('partition')` (the default) is a network partition: open connections go silent, nothing
 *   passes either way and nobody is told (no RST); new connections are accepted and never answered.
 *   Only bounded waits (connect and query timeouts) notice.
 * - `cut('refuse')` is a stopped server: open connections are reset, new ones refused.
 * - `restore()` heals it: silent connections carry on where they were, held ones are put through.
 * - `failover()` replaces the server behind the address (see there).
 */
export class PgProxy {
  private server?: Server;
  private readonly pairs = new Map<Socket, Socket>();
  private readonly held = new Set<Socket>();
  /** Closes that happened during a partition reach the other side only when it heals. */
  private readonly deferred: (() => void)[] = [];
  /** Client ends whose server went with a failover: silent for ever, closed only by their client or `stop()`. */
  private readonly stranded = new Set<Socket>();
  private mode: 'open' | 'partition' | 'refuse' = 'open';
  port = 0;
  connections = 0;
  heldConnections = 0;

  constructor(private readonly target = { host: '127.0.0.1', port: 5432 }) {}

  async start(): Promise<this> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    if (this.mode === 'partition') {
      this.heldConnections += 1;
      this.held.add(client);
      client.pause();
      client.once('close', () => this.held.delete(client));
      return;
    }
    this.forward(client);
  }

  private forward(client: Socket): void {
    this.connections += 1;
    const upstream = new Socket();
    upstream.on('error', () => undefined);
    upstream.connect(this.target.port, this.target.host);
    // Written before the connection is up, data waits in the socket's buffer.
    client.pipe(upstream);
    upstream.pipe(client);
    this.pairs.set(client, upstream);
    const drop = (): void => {
      if (this.stranded.has(client)) return;
      const close = (): void => {
        this.pairs.delete(client);
        client.destroy();
        upstream.destroy();
      };
      if (this.mode === 'partition') this.deferred.push(close);
      else close();
    };
    client.once('close', drop);
    upstream.once('close', drop);
  }

  /** Cuts the database off (see the class comment). */
  cut(mode: 'partition' | 'refuse' = 'partition'): void {
    this.mode = mode;
    for (const [client, upstream] of [...this.pairs]) {
      if (mode === 'refuse') {
        client.resetAndDestroy();
        upstream.destroy();
        continue;
      }
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    if (mode === 'refuse') for (const s of [...this.held]) s.resetAndDestroy();
  }

  /** Heals the cut: silent connections resume (what was sent meanwhile arrives now), held ones go through. */
  restore(): void {
    // Not cut: nothing to heal. (Piping an open pair a second time would send every byte twice.)
    if (this.mode === 'open') return;
    this.mode = 'open';
    for (const close of this.deferred.splice(0)) close();
    for (const [client, upstream] of this.pairs) {
      if (client.destroyed || upstream.destroyed) continue;
      client.pipe(upstream);
      upstream.pipe(client);
    }
    for (const client of [...this.held]) {
      this.held.delete(client);
      if (!client.destroyed) this.forward(client);
    }
  }

  /**
   * The database fails over to a new server at the same address (a primary replaced, a host that
   * died): the server end of every open connection is gone, and no client is told (no FIN, no
   * RST): what a client sends goes nowhere and nothing comes back, for ever. New connections reach
   * the new server at once. Only a client's own timeouts get it off a stranded connection. Returns
   * how many connections were stranded.
   */
  failover(): number {
    this.restore();
    const stranded = [...this.pairs];
    for (const [client, upstream] of stranded) {
      this.pairs.delete(client);
      this.stranded.add(client);
      client.once('close', () => this.stranded.delete(client));
      client.unpipe(upstream);
      upstream.unpipe(client);
      // What the client sends is lost; reading it still shows when the client lets go (its FIN).
      client.on('data', () => undefined);
      client.resume();
      // The old server's sessions end with it, their open transactions rolled back.
      upstream.destroy();
    }
    return stranded.length;
  }

  /** Stranded connections (see `failover`) their client has not let go of. */
  get strandedOpen(): number {
    return this.stranded.size;
  }

  async stop(): Promise<void> {
    this.restore();
    for (const client of [...this.stranded]) client.destroy();
    for (const [client, upstream] of [...this.pairs]) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// Runbooks

export interface StepSpec {
  id: string;
  name: string;
  action: string;
  params: Record<string, unknown>;
  timeout: string;
  retry: Record<string, unknown>;
  [extra: string]: unknown;
}

/**
 * An `http` step against the receiver, with a compensating request. Retries are generous: the
 * runbook author's answer to infrastructure that may be away for a while.
 */
export function httpStep(base: string, rb: string, id: string, extra: Record<string, unknown> = {}): StepSpec {
  return {
    id,
    name: id,
    action: 'http',
    params: { method: 'POST', url: `${base}/${rb}/${id}`, compensate: { method: 'POST', url: `${base}/${rb}/undo-${id}` } },
    // Well above the target's 100–1200 ms, so that a busy machine (workers replaying histories after
    // a crash) does not time attempts out; a step whose worker was killed is retried after this.
    timeout: '8s',
    retry: { maximumAttempts: 20, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '3s' },
    ...extra,
  };
}
