import MiniSearch from 'minisearch';
import { IncidentDraft } from './incident';
import { RunbookVersion } from './runbook';

/** Feature names that point at a cause, and how to say it. Matched case-insensitively inside the name. */
const SIGNALS: { pattern: RegExp; cause: string }[] = [
  { pattern: /cpu/, cause: 'CPU saturation' },
  { pattern: /mem|oom|heap/, cause: 'memory pressure' },
  { pattern: /disk|inode|volume/, cause: 'disk exhaustion' },
  { pattern: /latency|p9\d|response_time/, cause: 'rising latency' },
  { pattern: /error|5xx|fail/, cause: 'a rising error rate' },
  { pattern: /queue|backlog|lag/, cause: 'a growing backlog' },
  { pattern: /conn|pool|socket/, cause: 'connection exhaustion' },
  { pattern: /deploy|release|commit|version/, cause: 'a recent deployment' },
  { pattern: /cost|budget|spend/, cause: 'spend above budget' },
  { pattern: /login|auth/, cause: 'authentication failures' },
];

function flatten(value: unknown, prefix = ''): [string, unknown][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [[prefix, value]];
  return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

/**
 * A first root-cause hypothesis from the triggering data's features: which known signals appear,
 * with their values. A starting point for people, never a verdict; absent when nothing is recognised.
 */
export function hypothesize(draft: IncidentDraft): string | undefined {
  const found = new Map<string, string[]>();
  for (const [name, value] of flatten(draft.context)) {
    if (value === null || value === undefined || typeof value === 'object') continue;
    const signal = SIGNALS.find((s) => s.pattern.test(name.toLowerCase()));
    if (!signal) continue;
    const shown = `${name}=${String(value).slice(0, 60)}`;
    found.set(signal.cause, [...(found.get(signal.cause) ?? []), shown]);
  }
  if (found.size === 0) return undefined;
  const parts = [...found.entries()].slice(0, 3).map(([cause, evidence]) => `${cause} (${evidence.slice(0, 3).join(', ')})`);
  return `Likely ${parts.join('; or ')}, from the incident's own data.`;
}

export interface Suggestion {
  runbookId: string;
  name: string;
  score: number;
}

/**
 * Runbooks ranked by how well their text (name, description, step names, trigger words) matches the
 * incident's title, category, summary and labels: BM25 via MiniSearch, offline. Shown on the incident
 * as suggestions, whether or not one was selected to run.
 */
export function rankRunbooks(candidates: RunbookVersion[], draft: IncidentDraft, limit = 3): Suggestion[] {
  const index = new MiniSearch<{ id: string; name: string; text: string }>({ fields: ['name', 'text'], storeFields: ['name'] });
  index.addAll(
    candidates.map(({ runbook }) => ({
      id: runbook.id,
      name: runbook.name,
      text: [
        runbook.id.replace(/[-_]/g, ' '),
        runbook.description ?? '',
        ...runbook.steps.map((s) => s.name),
        ...(runbook.triggers.categories ?? []),
        runbook.triggers.titlePattern ?? '',
      ]
        .join(' ')
        .replace(/[|()\\^$?*+[\]{}.]/g, ' '),
    })),
  );
  const query = [draft.title, draft.category ?? '', draft.summary ?? '', ...Object.values(draft.labels)].join(' ');
  return index
    .search(query, { fuzzy: 0.2, prefix: true, combineWith: 'OR' })
    .slice(0, limit)
    .map((hit) => ({ runbookId: String(hit.id), name: String(hit.name), score: Math.round(hit.score * 100) / 100 }));
}
