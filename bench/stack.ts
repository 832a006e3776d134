import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { validateRunbook } from '../src/domain/runbook-validation';
import { migrate } from '../src/db/migrate';
import { Pool, createPool, withTenant } from '../src/db/pool';
import { insertRunbookVersion } from '../src/db/runbooks';
import { createApiKey, ensureTenant } from '../src/db/tenants';
import { closeSignal } from '../src/workflows/definitions';
import { devServerArgs } from '../src/temporal/dev-server';
import { freePort } from '../test/support/processes';
import { sleep, until } from './load';

/**
 * The stack a bench run owns: a Temporal dev server on a free port with a fresh SQLite file, a fresh
 * PostgreSQL database `aire_bench`, and the API and worker as separate node processes (so each has
 * its own RSS in /proc/<pid>/status).
 */

export const ROOT = join(__dirname, '..');
const DATABASE = 'aire_bench';

export type Component = 'api' | 'worker' | 'temporal';

export interface StackOptions {
  stateDir: string;
  /** Start this child under `node --cpu-prof`; the profile is written to `<stateDir>/profiles` when it stops. */
  cpuProf?: 'api' | 'worker';
  /** Extra environment for the API and worker (tuning: DATABASE_POOL_SIZE, AIRE_WORKER_*). */
  env: Record<string, string>;
  /** `--sqlite-pragma` values for the dev server, e.g. journal_mode=wal. */
  sqlitePragmas: string[];
  /** Keep Temporal's state in memory instead of a fresh SQLite file (for comparison only). */
  temporalInMemory: boolean;
  /** Let the worker bundle its workflows with webpack at start instead of loading a bundle built ahead. */
  bundleAtStart: boolean;
  log: (line: string) => void;
}

export interface BenchTenant {
  id: string;
  slug: string;
  ingestKey: string;
  approverKey: string;
  adminKey: string;
}

function temporalBinary(): string {
  const candidates = [process.env.AIRE_TEMPORAL_BIN, join(homedir(), 'go', 'bin', 'temporal')].filter((p): p is string => !!p);
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  try {
    return execFileSync('which', ['temporal']).toString().trim();
  } catch {
    throw new Error('no temporal binary: run `npm run bench` (scripts/bench.sh installs it) or set AIRE_TEMPORAL_BIN');
  }
}

/** Resident set size of a process in MiB, from /proc/<pid>/status (VmRSS); NaN when it is gone. */
export function rssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds (user + system) a process used so far, from /proc/<pid>/stat; NaN when it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after "(comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function adminUrl(): string {
  const url = new URL(process.env.AIRE_BENCH_DATABASE_ADMIN_URL ?? `postgres://postgres@127.0.0.1:5432/${DATABASE}`);
  // The bench drops and recreates its database: never anything but aire_bench.
  if (url.pathname !== `/${DATABASE}`) throw new Error(`the bench only uses the database ${DATABASE}, not ${url.pathname.slice(1)}`);
  return url.toString();
}

async function freshDatabase(admin: string): Promise<void> {
  const url = new URL(admin);
  url.pathname = '/postgres';
  const client = new PgClient({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  await migrate(admin);
}

export class BenchStack {
  temporal!: Client;
  admin!: Pool;
  apiUrl = '';
  temporalAddress = '';
  workerMetricsUrl = '';
  readonly children = new Map<Component, ChildProcess>();
  private connection!: Connection;
  private readonly appUrl: string;
  private readonly adminUrl: string;

  private constructor(private readonly options: StackOptions) {
    this.adminUrl = adminUrl();
    const app = new URL(this.adminUrl);
    app.username = 'aire_app';
    app.password = '';
    this.appUrl = app.toString();
  }

  static async start(options: StackOptions): Promise<BenchStack> {
    const stack = new BenchStack(options);
    try {
      await stack.boot();
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  pid(component: Component): number | undefined {
    return this.children.get(component)?.pid;
  }

  rss(): Record<Component, number> {
    return { api: rssMb(this.pid('api')), worker: rssMb(this.pid('worker')), temporal: rssMb(this.pid('temporal')) };
  }

  /**
   * CPU seconds used so far by the API, worker, Temporal and this process, and by each PostgreSQL
   * backend connected to aire_bench (`pg:<pid>`; a backend that closed in between is not counted).
   */
  async cpu(): Promise<Record<string, number>> {
    const { rows } = await this.admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = 'aire_bench'");
    const own = process.cpuUsage();
    const out: Record<string, number> = {
      api: cpuSeconds(this.pid('api')),
      worker: cpuSeconds(this.pid('worker')),
      temporal: cpuSeconds(this.pid('temporal')),
      bench: (own.user + own.system) / 1e6,
    };
    for (const r of rows) out[`pg:${r.pid}`] = cpuSeconds(r.pid);
    return out;
  }

  private async boot(): Promise<void> {
    const { stateDir, log } = this.options;
    rmSync(stateDir, { recursive: true, force: true });
    mkdirSync(join(stateDir, 'profiles'), { recursive: true });

    const port = await freePort();
    this.temporalAddress = `127.0.0.1:${port}`;
    log(`temporal dev server on ${this.temporalAddress}, database ${DATABASE}`);
    const temporalLog = createWriteStream(join(stateDir, 'temporal.log'));
    const dbFile = this.options.temporalInMemory ? null : join(stateDir, 'temporal.db');
    const pragmas = this.options.sqlitePragmas.flatMap((p) => ['--sqlite-pragma', p]);
    const temporal = spawn(temporalBinary(), devServerArgs(port, dbFile, pragmas), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    temporal.stdout?.pipe(temporalLog);
    temporal.stderr?.pipe(temporalLog);
    this.children.set('temporal', temporal);

    await Promise.all([freshDatabase(this.adminUrl), this.waitForTemporal(temporal)]);
    this.admin = createPool(this.adminUrl, 4);
    this.connection = await Connection.connect({ address: this.temporalAddress });
    this.temporal = new Client({ connection: this.connection });

    const apiPort = await freePort();
    const metricsPort = await freePort();
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    this.workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const env: Record<string, string> = {
      DATABASE_URL: this.appUrl,
      DATABASE_ADMIN_URL: this.adminUrl,
      TEMPORAL_ADDRESS: this.temporalAddress,
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      AIRE_WORKER_METRICS_PORT: String(metricsPort),
      AIRE_WORKER_SHUTDOWN_GRACE: '2s',
      AIRE_LOG_LEVEL: 'info',
      // A load test must not be throttled by the per-key request limits meant for real clients.
      AIRE_RATE_LIMIT_INTAKE: '0',
      AIRE_RATE_LIMIT_APPROVALS: '0',
      ...this.options.env,
    };
    if (!this.options.bundleAtStart) {
      // As in production: the bundle is built once, in a short-lived process (npm run bundle:workflows).
      const bundle = join(stateDir, 'workflow-bundle.js');
      execFileSync(process.execPath, ['--import', 'tsx', 'src/worker/bundle.ts', bundle], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      env.AIRE_WORKFLOW_BUNDLE = bundle;
    }
    const worker = this.spawnNode('worker', 'src/worker/main.ts', env);
    const api = this.spawnNode('api', 'src/api/main.ts', env);
    const [workerUp, apiUp] = await Promise.all([
      until(() => this.output('worker').includes('worker started') || worker.exitCode !== null, 180_000, 200),
      until(
        async () =>
          api.exitCode !== null ||
          (await fetch(`${this.apiUrl}/readyz`).then(
            (r) => r.ok,
            () => false,
          )),
        60_000,
        200,
      ),
    ]);
    if (!workerUp || worker.exitCode !== null) throw new Error(`the worker did not start; see ${join(stateDir, 'worker.log')}`);
    if (!apiUp || api.exitCode !== null) throw new Error(`the API did not start; see ${join(stateDir, 'api.log')}`);
    log(`api ${this.apiUrl} (pid ${api.pid}), worker pid ${worker.pid}, temporal pid ${temporal.pid}`);
  }

  private readonly outputs = new Map<Component, string>();

  private output(component: Component): string {
    return this.outputs.get(component) ?? '';
  }

  private spawnNode(component: 'api' | 'worker', script: string, env: Record<string, string>): ChildProcess {
    const { stateDir, cpuProf } = this.options;
    // One file per thread (the worker runs workflow code in a worker thread): node's default names.
    const prof = cpuProf === component ? ['--cpu-prof', `--cpu-prof-dir=${join(stateDir, 'profiles')}`] : [];
    // The worker's main heap bounded as it is shipped (deploy/docker/entrypoint.sh, package.json, scripts/dev.sh).
    const heap = component === 'worker' ? ['--max-old-space-size=256'] : [];
    const child = spawn(process.execPath, [...prof, ...heap, '--import', 'tsx', script], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = createWriteStream(join(stateDir, `${component}.log`));
    const keep = (chunk: Buffer): void => {
      file.write(chunk);
      const seen = this.output(component);
      // Only the start of the output matters (readiness); keep it bounded.
      if (seen.length < 64_000) this.outputs.set(component, seen + chunk.toString('utf8'));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.children.set(component, child);
    return child;
  }

  private async waitForTemporal(temporal: ChildProcess): Promise<void> {
    const ok = await until(
      async () => {
        if (temporal.exitCode !== null) throw new Error(`the Temporal dev server exited; see ${join(this.options.stateDir, 'temporal.log')}`);
        try {
          const connection = await Connection.connect({ address: this.temporalAddress, connectTimeout: 1_000 });
          await connection.workflowService.getSystemInfo({});
          await connection.close();
          return true;
        } catch {
          return false;
        }
      },
      90_000,
      300,
    );
    if (!ok) throw new Error(`the Temporal dev server did not answer within 90 s`);
  }

  /** A tenant with an ingest+viewer key, an approver key and an admin key, and these runbooks. */
  async tenant(slug: string, runbooks: unknown[]): Promise<BenchTenant> {
    const tenant = await ensureTenant(this.admin, slug, slug);
    const ingest = await createApiKey(this.admin, tenant.id, 'bench-ingest', ['ingest', 'viewer']);
    const approver = await createApiKey(this.admin, tenant.id, 'bench-approver', ['approver', 'viewer']);
    const admin = await createApiKey(this.admin, tenant.id, 'bench-admin', ['admin']);
    for (const input of runbooks) {
      const runbook = validateRunbook(input);
      await withTenant(this.admin, tenant.id, (c) => insertRunbookVersion(c, tenant.id, runbook, 'bench'));
    }
    return { id: tenant.id, slug, ingestKey: ingest.key, approverKey: approver.key, adminKey: admin.key };
  }

  /** Incident rows of a tenant by status. */
  async statusCounts(tenantId: string): Promise<Record<string, number>> {
    const { rows } = await this.admin.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM incidents WHERE tenant_id = $1 GROUP BY status',
      [tenantId],
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** Closes a tenant's open incidents (signals, not measured) and waits up to `timeoutMs` until their workflows ended. */
  async closeAll(tenantId: string, timeoutMs = 120_000): Promise<boolean> {
    const { rows } = await this.admin.query<{ id: string; workflow_id: string }>(
      "SELECT id, workflow_id FROM incidents WHERE tenant_id = $1 AND status <> 'closed'",
      [tenantId],
    );
    for (let i = 0; i < rows.length; i += 50) {
      await Promise.all(
        rows.slice(i, i + 50).map((r) =>
          this.temporal.workflow
            .getHandle(r.workflow_id)
            .signal(closeSignal, { actor: 'bench', reason: 'bench cleanup', incidentId: r.id })
            .catch(() => undefined),
        ),
      );
    }
    if (timeoutMs <= 0) return false;
    return until(async () => (await this.temporal.workflow.count('ExecutionStatus="Running"')).count === 0, timeoutMs, 500);
  }

  /** Stops the children (SIGTERM, then SIGKILL after a grace), API and worker first so profiles get written. */
  async stop(): Promise<void> {
    const ends = (['api', 'worker'] as const).map((c) => this.end(c, 25_000));
    await Promise.all(ends);
    await this.connection?.close().catch(() => undefined);
    await this.admin?.end().catch(() => undefined);
    await this.end('temporal', 10_000);
  }

  private async end(component: Component, graceMs: number): Promise<void> {
    const child = this.children.get(component);
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const kill = (signal: NodeJS.Signals): void => {
      try {
        // Temporal runs detached in its own process group: signal the group so its children go too.
        if (component === 'temporal') process.kill(-(child.pid as number), signal);
        else child.kill(signal);
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!done) {
      kill('SIGKILL');
      await exited;
    }
  }
}
