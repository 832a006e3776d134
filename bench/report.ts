import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProfileSummary } from './cpuprofile';
import type { ScenarioResult } from './types';

export interface RunMeta {
  startedAt: string;
  finishedAt: string;
  durationS: number;
  mode: 'full' | 'quick';
  label: string;
  git: { commit: string; dirty: boolean };
  node: string;
  cpus: number;
  memGiB: number;
  /** /proc/loadavg at the start and the end: others share this machine. */
  loadavgStart: string;
  loadavgEnd: string;
  concurrency: number;
  /** Environment given to the API and worker on top of the defaults (tuning). */
  tuning: Record<string, string>;
  cpuProf: string | null;
  /** How the Temporal dev server keeps its state. */
  temporalStore: string;
  /** How the worker got its workflow bundle. */
  workflowBundle: string;
}

export interface RunReport {
  meta: RunMeta;
  scenarios: ScenarioResult[];
  /** One per thread of the profiled child, busiest first. */
  profiles?: ProfileSummary[];
  /** A previous run's figures, for before/after. */
  before?: { file: string; label: string; scenarios: ScenarioResult[] };
}

const n = (v: number | undefined, digits = 0): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function scenarioTable(scenarios: ScenarioResult[]): string[] {
  const lines = [
    '| # | scenario | throughput | latency measured | p50 ms | p95 ms | p99 ms | API RSS MB | worker RSS MB |',
    '|---|---|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const s of scenarios) {
    if (s.status !== 'ok') {
      lines.push(`| ${s.id} | ${s.name} | ${s.status}: ${s.reason ?? ''} | | | | | ${n(s.rssPeakMb.api)} | ${n(s.rssPeakMb.worker)} |`);
      continue;
    }
    const t = s.throughput ? `${n(s.throughput.value, 1)} ${s.throughput.unit}` : '–';
    const l = s.latency;
    lines.push(
      `| ${s.id} | ${s.name} | ${t} | ${l?.what ?? '–'} | ${n(l?.p50)} | ${n(l?.p95)} | ${n(l?.p99)} | ${n(s.rssPeakMb.api)} | ${n(s.rssPeakMb.worker)} |`,
    );
  }
  return lines;
}

function aimTable(scenarios: ScenarioResult[]): string[] {
  const lines = ['| # | figure | aim | measured | met |', '|---|---|---|---|---|'];
  const mark = (met: boolean | null): string => (met === null ? '–' : met ? 'yes' : '**no**');
  for (const s of scenarios) {
    if (s.status === 'skipped') lines.push(`| ${s.id} | ${s.name} | | skipped: ${s.reason ?? ''} | – |`);
    else if (s.status === 'failed') {
      const got = Object.entries(s.details)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ');
      lines.push(`| ${s.id} | ${s.name} | | failed: ${s.reason ?? ''}${got ? ` (${got})` : ''} | **no** |`);
    }
    for (const a of s.aims) lines.push(`| ${s.id} | ${a.figure} | ${a.aim} | ${a.measured} | ${mark(a.met)} |`);
  }
  return lines;
}

function beforeAfter(before: ScenarioResult[], after: ScenarioResult[]): string[] {
  const lines = ['| # | figure | before | after |', '|---|---|---:|---:|'];
  for (const a of after) {
    const b = before.find((x) => x.id === a.id);
    if (!b || a.status !== 'ok' || b.status !== 'ok') continue;
    if (a.throughput && b.throughput) lines.push(`| ${a.id} | ${a.throughput.unit} | ${n(b.throughput.value, 1)} | ${n(a.throughput.value, 1)} |`);
    if (a.latency && b.latency) {
      lines.push(`| ${a.id} | p50 ms (${a.latency.what}) | ${n(b.latency.p50)} | ${n(a.latency.p50)} |`);
      lines.push(`| ${a.id} | p99 ms (${a.latency.what}) | ${n(b.latency.p99)} | ${n(a.latency.p99)} |`);
    }
    lines.push(`| ${a.id} | worker RSS peak MB | ${n(b.rssPeakMb.worker)} | ${n(a.rssPeakMb.worker)} |`);
  }
  return lines;
}

export function markdown(report: RunReport): string {
  const { meta } = report;
  const out = [
    `# AIRE bench, ${meta.startedAt} (${meta.mode}${meta.label ? `, ${meta.label}` : ''})`,
    '',
    `Machine: ${meta.cpus} cores, ${meta.memGiB} GiB, Node ${meta.node}; git ${meta.git.commit}${meta.git.dirty ? ' + uncommitted changes' : ''}.`,
    `Load average (1/5/15 min, /proc/loadavg) at start \`${meta.loadavgStart}\`, at end \`${meta.loadavgEnd}\` (the machine is shared: read figures with that in mind).`,
    `Temporal dev server: ${meta.temporalStore}. Worker workflow bundle: ${meta.workflowBundle ?? 'webpack in the worker at start'}. Closed loops keep ${meta.concurrency} requests in flight. Run took ${n(meta.durationS)} s.` +
      (Object.keys(meta.tuning).length
        ? ` API/worker tuning: ${Object.entries(meta.tuning)
            .map(([k, v]) => `\`${k}=${v}\``)
            .join(', ')}.`
        : ' API/worker on their defaults.'),
    '',
    ...scenarioTable(report.scenarios),
    '',
    'RSS: peak VmRSS sampled every 250 ms during the scenario (scenario 6 also reports RSS while the backlog waits).',
    '',
    '### CPU seconds used during each scenario',
    '',
    '| # | API | worker | Temporal dev server | PostgreSQL (aire_bench) | bench process | wall s |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...report.scenarios.map(
      (s) =>
        `| ${s.id} | ${n(s.cpuSeconds.api, 1)} | ${n(s.cpuSeconds.worker, 1)} | ${n(s.cpuSeconds.temporal, 1)} | ${n(s.cpuSeconds.postgres, 1)} | ${n(s.cpuSeconds.bench, 1)} | ${n(s.durationS, 1)} |`,
    ),
    '',
    '## Figures and aims',
    '',
    ...aimTable(report.scenarios),
    '',
  ];
  if (report.before) {
    out.push(
      `## Before / after`,
      '',
      `Before: \`${report.before.file}\` (${report.before.label || 'no label'}); after: this run.`,
      '',
      ...beforeAfter(report.before.scenarios, report.scenarios),
      '',
    );
  }
  for (const p of report.profiles ?? []) {
    out.push(
      `## CPU profile: ${p.component} (${n(p.totalMs / 1000, 1)} s sampled, ${n(p.busyMs / 1000, 1)} s busy)`,
      '',
      '| self % | self ms | function | where |',
      '|---:|---:|---|---|',
    );
    for (const f of p.top) out.push(`| ${n(f.percent, 1)} | ${n(f.selfMs)} | ${f.name} | ${f.where} |`);
    out.push('', '| self % | by package / area |', '|---:|---|');
    for (const g of p.byArea) out.push(`| ${n(g.percent, 1)} | ${g.area} |`);
    out.push('');
  }
  out.push('Details per scenario are in the JSON file next to this one.', '');
  return out.join('\n');
}

/** Writes `<dir>/<stamp>.json` and `.md`; returns their paths. */
export function writeReport(dir: string, stamp: string, report: RunReport): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${stamp}.json`);
  const md = join(dir, `${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, markdown(report));
  return { json, md };
}

export function readReport(file: string): RunReport {
  if (!existsSync(file)) throw new Error(`no results file ${file}`);
  return JSON.parse(readFileSync(file, 'utf8')) as RunReport;
}
