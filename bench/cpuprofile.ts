import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/** Reads a V8 .cpuprofile (node --cpu-prof) and sums self time by function and by package or source area. */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  component: string;
  file: string;
  totalMs: number;
  /** Sampled time not idle. */
  busyMs: number;
  top: { name: string; where: string; selfMs: number; percent: number }[];
  byArea: { area: string; selfMs: number; percent: number }[];
}

function area(url: string, root: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
  if (pkg !== undefined) return pkg;
  const rel = relative(root, path);
  const src = /^(src\/[^/]+)/.exec(rel)?.[1];
  return src ?? rel;
}

export function summarizeProfile(file: string, component: string, root: string, topN = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    self.set(id, (self.get(id) ?? 0) + dt);
  });
  const fns = new Map<string, { name: string; where: string; selfMs: number }>();
  const areas = new Map<string, number>();
  for (const [id, ms] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const name = frame.functionName || '(anonymous)';
    const isMeta = name.startsWith('(') && frame.url === '';
    const where = frame.url ? `${area(frame.url, root)}:${frame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = fns.get(key) ?? { name, where, selfMs: 0 };
    entry.selfMs += ms;
    fns.set(key, entry);
    const a = isMeta ? name : area(frame.url, root);
    areas.set(a, (areas.get(a) ?? 0) + ms);
  }
  const pct = (ms: number): number => (total > 0 ? (ms * 100) / total : 0);
  return {
    component,
    file,
    totalMs: total,
    busyMs: total - (areas.get('(idle)') ?? 0),
    top: [...fns.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, topN)
      .map((f) => ({ ...f, percent: pct(f.selfMs) })),
    byArea: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([a, ms]) => ({ area: a, selfMs: ms, percent: pct(ms) })),
  };
}
