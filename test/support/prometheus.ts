import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT, freePort } from './processes';

/** Debian's Prometheus 2.42 and its promtool (`apt-get install prometheus`; scripts/install-system-packages.sh). */
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS_DIR = join(ROOT, 'deploy', 'prometheus');

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Runs promtool; resolves with its exit code and output (it prints findings on stdout, errors on stderr). */
export function promtool(args: string[], cwd = ROOT): Promise<{ code: number; output: string }> {
  return new Promise((resolve) =>
    execFile(PROMTOOL, args, { cwd }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` }),
    ),
  );
}

/**
 * A Prometheus of the test's own: deploy/prometheus/prometheus.yml with its targets pointed at the
 * test's API and worker and a 1 s scrape and evaluation interval, on a free port, with its TSDB in
 * a temporary directory that goes when it stops. (The Debian package's own service, if any, is
 * left alone.)
 */
export class Prometheus {
  url = '';
  readonly dir = mkdtempSync(join(tmpdir(), 'aire-prometheus-'));
  private child?: ChildProcess;
  private log = '';

  /** The shipped config with the targets of `jobs` (job name → host:port) and the rules by absolute path. */
  writeConfig(jobs: Record<string, string>): string {
    const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    config.global.scrape_interval = '1s';
    config.global.evaluation_interval = '1s';
    config.rule_files = config.rule_files.map((f) => join(PROMETHEUS_DIR, f));
    for (const job of config.scrape_configs) {
      const target = jobs[job.job_name];
      if (!target) throw new Error(`deploy/prometheus/prometheus.yml has a job "${job.job_name}" the test does not know`);
      job.static_configs = [{ targets: [target] }];
    }
    const path = join(this.dir, 'prometheus.yml');
    writeFileSync(path, stringify(config));
    return path;
  }

  async start(configFile: string): Promise<this> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    mkdirSync(join(this.dir, 'data'));
    this.child = spawn(
      PROMETHEUS,
      [`--config.file=${configFile}`, `--storage.tsdb.path=${join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`prometheus exited (${this.child.exitCode}): ${this.log}`);
      if (
        await fetch(`${this.url}/-/ready`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return this;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`prometheus not ready on ${this.url} within 30 s: ${this.log}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }

  /** GET on the HTTP API; throws with Prometheus' error unless it answers `success`. */
  async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/${path}?${new URLSearchParams(params).toString()}`);
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    return body.data;
  }

  /** An instant PromQL query; the vector it answers. */
  async query(expr: string): Promise<PromSample[]> {
    const data = await this.api<{ resultType: string; result: PromSample[] }>('query', { query: expr });
    if (data.resultType !== 'vector') throw new Error(`${expr}: a ${data.resultType}, not a vector`);
    return data.result;
  }

  /** The single value of `expr`, or undefined while it has none. */
  async value(expr: string): Promise<number | undefined> {
    const result = await this.query(expr);
    if (result.length > 1) throw new Error(`${expr}: ${result.length} series, expected one`);
    return result[0] === undefined ? undefined : Number(result[0].value[1]);
  }

  /** Metric names Prometheus holds series of. */
  async metricNames(): Promise<Set<string>> {
    return new Set(await this.api<string[]>('label/__name__/values'));
  }

  stderr(): string {
    return this.log;
  }
}
