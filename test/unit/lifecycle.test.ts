import { ACTION_KINDS } from '../../src/domain/action-kinds';
import { INCIDENT_STATUSES, type IncidentStatus } from '../../src/domain/incident';
import { STATUS_TRANSITIONS, illegalTransition } from '../../src/domain/lifecycle';
import { describeEntry } from '../../src/domain/report-sentences';

describe('the status lifecycle (one transition table)', () => {
  test('every status has its row, and closed is final', () => {
    expect(Object.keys(STATUS_TRANSITIONS).sort()).toEqual([...INCIDENT_STATUSES].sort());
    for (const to of INCIDENT_STATUSES) expect(illegalTransition('closed', to)).toMatch(/cannot go from closed to .* nothing, it is final/);
  });

  test('people can roll back, resolve or close at any time until the incident is closed', () => {
    for (const from of INCIDENT_STATUSES.filter((s) => s !== 'closed')) {
      expect([from, illegalTransition(from, 'closed')]).toEqual([from, undefined]);
      for (const to of ['resolved', 'rolled_back'] as const) if (to !== from) expect([from, to, illegalTransition(from, to)]).toEqual([from, to, undefined]);
    }
  });

  test('remediation moves forward only: what the workflow does is allowed, its reverse is refused with the reason', () => {
    const path: IncidentStatus[] = [
      'open',
      'acknowledged',
      'awaiting_approval',
      'remediating',
      'awaiting_approval',
      'remediating',
      'mitigated',
      'resolved',
      'closed',
    ];
    path.slice(1).forEach((to, i) => expect([path[i], to, illegalTransition(path[i]!, to)]).toEqual([path[i], to, undefined]));
    expect(illegalTransition('resolved', 'remediating')).toBe('an incident cannot go from resolved to remediating (from resolved: rolled_back, closed)');
    // Another runbook may run on a settled incident that is not resolved (src/workflows/incident/command.ts).
    expect(illegalTransition('mitigated', 'remediating')).toBeUndefined();
    expect(illegalTransition('resolved', 'open')).toMatch(/cannot go from resolved to open/);
    expect(illegalTransition('acknowledged', 'open')).toMatch(/cannot go from acknowledged to open/);
    expect(illegalTransition('failed', 'mitigated')).toMatch(/cannot go from failed to mitigated/);
    // No status moves to itself: a repeated change is a bug upstream, not a transition.
    for (const s of INCIDENT_STATUSES) expect(illegalTransition(s, s)).toBeDefined();
  });

  test('every status is reachable from open', () => {
    const seen = new Set<IncidentStatus>(['open']);
    const queue: IncidentStatus[] = ['open'];
    for (let s = queue.shift(); s; s = queue.shift()) {
      for (const next of STATUS_TRANSITIONS[s]) {
        if (seen.has(next)) continue;
        seen.add(next);
        queue.push(next);
      }
    }
    expect([...seen].sort()).toEqual([...INCIDENT_STATUSES].sort());
  });
});

describe('the action-log vocabulary', () => {
  test('every kind AIRE writes has its own sentence in the report, not the fallback', () => {
    const entry = (kind: string) => ({ at: '2026-12-03T10:00:00.000Z', kind, actor: 'key:alice', stepId: 's1', detail: {} });
    const steps: Parameters<typeof describeEntry>[1] = new Map();
    const generic = (kind: string): string => `${kind} (step s1) by key:alice`;
    expect(describeEntry(entry('something.new'), steps)).toBe(generic('something.new'));
    const fallbacks = ACTION_KINDS.filter((kind) => describeEntry(entry(kind), steps) === generic(kind));
    expect(fallbacks).toEqual([]);
    expect(new Set(ACTION_KINDS).size).toBe(ACTION_KINDS.length);
  });
});
