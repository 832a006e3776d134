/**
 * The AIRE benchmark: `npm run bench` (full, under 15 minutes on 2 cores) or `npm run bench -- --quick`.
 * Starts its own stack (bench/stack.ts), runs the scenarios of bench/scenarios, and writes
 * bench/results/<date>.json and .md. Options:
 *   --quick               smaller counts, about 2 minutes
 *   --only 1,2,5          run these scenarios only
 *   --concurrency N       in-flight limit of the closed loops (default 16)
 *   --env KEY=VALUE       environment for the API and worker (tuning), repeatable
 *   --cpu-prof api|worker run that child under node --cpu-prof and summarise the profile
 *   --label TEXT          a note kept with the results (e.g. "before", "after: pool 20")
 *   --before FILE         a previous results JSON: adds a before/after table
 *   --sqlite-pragma P=V   passed to the Temporal dev server (journal_mode, synchronous), repeatable
 *   --temporal-in-memory  no SQLite file for Temporal (comparison only; the default is a fresh file)
 *   --bundle-at-start     the worker runs webpack when it starts (default: a bundle built ahead, as
 *                         `npm run bundle:workflows` does, handed over in AIRE_WORKFLOW_BUNDLE)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { summarizeProfile } from './cpuprofile';
import { RunReport, readReport, writeReport } from './report';
import { BenchReceiver } from './receiver';
import { approval } from './scenarios/approval';
import { backlog } from './scenarios/backlog';
import { baseline } from './scenarios/baseline';
import { detection } from './scenarios/detection';
import { intake } from './scenarios/intake';
import { latency } from './scenarios/latency';
import { storm } from './scenarios/storm';
import { BenchStack, ROOT, loadAverage, rssMb } from './stack';
import { BenchContext, Scenario, ScenarioResult, Skip } from './types';

/** In the order they run: the long backlog last, so a busy machine cuts nothing else short. */
const SCENARIOS: Scenario[] = [baseline, intake, latency, approval, storm, detection, backlog];

/**
 * The dev server's SQLite file in WAL mode without fsync: on this machine's shared virtual disk the
 * default (rollback journal, fsync per commit) holds the dev server to ~6 no-op workflows/s and
 * times out its own persistence calls under load. A throwaway bench database needs no durability.
 * `--sqlite-pragma` replaces these (e.g. `--sqlite-pragma journal_mode=delete`).
 */
const DEFAULT_PRAGMAS = ['journal_mode=wal', 'synchronous=off'];

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      concurrency: { type: 'string', default: '16' },
      env: { type: 'string', multiple: true, default: [] },
      'sqlite-pragma': { type: 'string', multiple: true, default: [...DEFAULT_PRAGMAS] },
      'temporal-in-memory': { type: 'boolean', default: false },
      'bundle-at-start': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      label: { type: 'string', default: '' },
      before: { type: 'string' },
    },
    allowPositionals: false,
  });
  const prof = values['cpu-prof'];
  if (prof !== undefined && prof !== 'api' && prof !== 'worker') throw new Error('--cpu-prof takes api or worker');
  const cpuProf: 'api' | 'worker' | undefined = prof;
  const only = values.only ? new Set(values.only.split(',').map((s) => Number(s.trim()))) : undefined;
  const tuning: Record<string, string> = {};
  for (const pair of values.env) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--env takes KEY=VALUE, not ${pair}`);
    tuning[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new Error('--concurrency takes 1..256');
  return {
    bundleAtStart: values['bundle-at-start'],
    temporalInMemory: values['temporal-in-memory'],
    sqlitePragmas: values['sqlite-pragma'],
    quick: values.quick,
    only,
    concurrency,
    tuning,
    cpuProf,
    label: values.label,
    before: values.before,
  };
}

function git(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT }).toString().trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

/** Samples VmRSS of the API, worker and Temporal every 250 ms and keeps the peaks. */
function sampleRss(stack: BenchStack): () => ScenarioResult['rssPeakMb'] {
  const peak = { api: 0, worker: 0, temporal: 0 };
  const take = (): void => {
    for (const c of ['api', 'worker', 'temporal'] as const) {
      const v = rssMb(stack.pid(c));
      if (Number.isFinite(v)) peak[c] = Math.max(peak[c], v);
    }
  };
  take();
  const timer = setInterval(take, 250);
  return () => {
    clearInterval(timer);
    take();
    return peak;
  };
}

async function main(): Promise<void> {
  const opts = options();
  const startedAt = new Date();
  const t0 = performance.now();
  const loadavgStart = loadAverage();
  const log = (line: string): void => console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}`);
  log(`mode ${opts.quick ? 'quick' : 'full'}; load average ${loadavgStart}`);
  Runtime.install({ logger: new DefaultLogger('ERROR') });

  const receiver = await new BenchReceiver().start();
  const stateDir = join(ROOT, '.aire', 'bench');
  const stack = await BenchStack.start({
    stateDir,
    cpuProf: opts.cpuProf,
    env: opts.tuning,
    sqlitePragmas: opts.sqlitePragmas,
    temporalInMemory: opts.temporalInMemory,
    bundleAtStart: opts.bundleAtStart,
    log,
  });
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    await receiver.stop();
  };
  const interrupt = (): void => {
    log('interrupted: stopping the stack');
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const ctx: BenchContext = { stack, receiver, quick: opts.quick, concurrency: opts.concurrency, log, results: new Map(), interim: {} };
  const results: ScenarioResult[] = [];
  const stamp = `${startedAt.toISOString().slice(0, 16).replace(':', '')}${opts.quick ? '-quick' : ''}${opts.only ? `-only${[...opts.only].join('')}` : ''}`;

  /** Writes the results so far; `unfinished` names the scenario the watchdog cut short. */
  const finish = async (unfinished?: Scenario): Promise<void> => {
    await stopAll();
    const all = [...results];
    if (unfinished) {
      all.push({
        id: unfinished.id,
        name: unfinished.name,
        status: 'failed',
        reason: 'cut short by the watchdog (the run went past its time budget); details hold what it measured by then',
        throughput: null,
        latency: null,
        aims: [],
        details: { ...ctx.interim },
        rssPeakMb: { api: Number.NaN, worker: Number.NaN, temporal: Number.NaN },
        cpuSeconds: {},
        durationS: 0,
      });
    }
    const report: RunReport = {
      meta: {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        durationS: Math.round((performance.now() - t0) / 1000),
        mode: opts.quick ? 'quick' : 'full',
        label: opts.label,
        git: git(),
        node: process.version,
        cpus: cpus().length,
        memGiB: Math.round(totalmem() / 2 ** 30),
        loadavgStart,
        loadavgEnd: loadAverage(),
        concurrency: opts.concurrency,
        tuning: opts.tuning,
        cpuProf: opts.cpuProf ?? null,
        workflowBundle: opts.bundleAtStart ? 'webpack in the worker at start' : 'built ahead (npm run bundle:workflows), AIRE_WORKFLOW_BUNDLE',
        temporalStore: opts.temporalInMemory ? 'in memory' : `fresh SQLite file, pragmas ${opts.sqlitePragmas.join(', ') || 'none'}`,
      },
      scenarios: all.sort((a, b) => a.id - b.id),
    };
    if (opts.cpuProf) {
      const dir = join(stateDir, 'profiles');
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
      report.profiles = files.map((f) => summarizeProfile(join(dir, f), `${opts.cpuProf} ${f}`, ROOT)).sort((a, b) => b.busyMs - a.busyMs);
      if (files.length === 0) log(`no CPU profile in ${dir}`);
    }
    if (opts.before) {
      const before = readReport(opts.before);
      report.before = { file: opts.before, label: before.meta.label, scenarios: before.scenarios };
    }
    const written = writeReport(join(ROOT, 'bench', 'results'), stamp, report);
    log(`wrote ${written.json} and ${written.md}`);
    log(`load average at end ${report.meta.loadavgEnd}`);
  };

  let current: Scenario | undefined;
  // A hard stop before the 15-minute budget, in case the machine is too busy: results so far are written.
  const watchdog = setTimeout(
    () => {
      log('watchdog: the run went past its time budget; stopping the stack and writing what was measured');
      void finish(current).then(() => process.exit(2));
    },
    (opts.quick ? 5 : 14.75) * 60_000,
  );
  watchdog.unref();

  for (const scenario of SCENARIOS) {
    if (opts.only && !opts.only.has(scenario.id)) continue;
    current = scenario;
    ctx.interim = {};
    log(`scenario ${scenario.id}: ${scenario.name}`);
    const started = performance.now();
    const stopSampling = sampleRss(stack);
    if (stopping) return;
    const cpuBefore = await stack.cpu();
    let result: ScenarioResult;
    try {
      const outcome = await scenario.run(ctx);
      result = { id: scenario.id, name: scenario.name, status: 'ok', ...outcome, rssPeakMb: stopSampling(), cpuSeconds: {}, durationS: 0 };
    } catch (err) {
      const skipped = err instanceof Skip;
      const reason = err instanceof Error ? err.message : String(err);
      result = {
        id: scenario.id,
        name: scenario.name,
        status: skipped ? 'skipped' : 'failed',
        reason,
        throughput: null,
        latency: null,
        aims: [],
        details: {},
        rssPeakMb: stopSampling(),
        cpuSeconds: {},
        durationS: 0,
      };
    }
    if (stopping) return; // the watchdog stopped the stack and writes the report
    const cpuAfter = await stack.cpu();
    let postgres = 0;
    for (const [k, v] of Object.entries(cpuAfter)) {
      const used = v - (cpuBefore[k] ?? 0);
      if (!Number.isFinite(used)) continue;
      if (k.startsWith('pg:')) postgres += used;
      else result.cpuSeconds[k] = Math.round(used * 10) / 10;
    }
    result.cpuSeconds.postgres = Math.round(postgres * 10) / 10;
    result.durationS = Math.round((performance.now() - started) / 100) / 10;
    results.push(result);
    ctx.results.set(scenario.id, result);
    const t = result.throughput ? `${result.throughput.value} ${result.throughput.unit}` : result.status;
    const l = result.latency ? `, p50/p95/p99 ${result.latency.p50}/${result.latency.p95}/${result.latency.p99} ms` : '';
    log(
      `scenario ${scenario.id}: ${t}${l}; RSS peak api ${result.rssPeakMb.api} MB, worker ${result.rssPeakMb.worker} MB; CPU s ${JSON.stringify(result.cpuSeconds)}${result.reason ? `; ${result.reason}` : ''}`,
    );
  }
  current = undefined;
  clearTimeout(watchdog);
  await finish();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
