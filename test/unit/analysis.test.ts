import { hypothesize, rankRunbooks } from '../../src/domain/analysis';
import { IncidentDraftSchema } from '../../src/domain/incident';
import { RunbookSchema } from '../../src/domain/runbook';

const draft = (extra: Record<string, unknown>) =>
  IncidentDraftSchema.parse({ source: 'manual', dedupKey: 'k', severity: 'medium', title: 'something', ...extra });
const runbook = (id: string, name: string, description: string) => ({
  version: 1,
  runbook: RunbookSchema.parse({ id, name, description, steps: [{ id: 's', name, action: 'wait', params: { duration: '1s' } }] }),
});

describe('hypothesize', () => {
  it('names the recognised signals with their values, at most three', () => {
    expect(hypothesize(draft({ context: { metrics: { cpu_pct: 99, heap_used: '7.9G' }, deploy: { commit_sha: 'abc123' }, disk_free: 0.01 } }))).toBe(
      "Likely CPU saturation (metrics.cpu_pct=99); or memory pressure (metrics.heap_used=7.9G); or a recent deployment (deploy.commit_sha=abc123), from the incident's own data.",
    );
  });
  it('says nothing when no feature points at a cause', () => {
    expect(hypothesize(draft({ context: { region: 'eu', owner: 'team-a' } }))).toBeUndefined();
    expect(hypothesize(draft({}))).toBeUndefined();
  });
});

describe('rankRunbooks', () => {
  const candidates = [
    runbook('disk-cleanup', 'Free disk space', 'Rotate logs when a volume fills up'),
    runbook('failed-deployment', 'Roll back a failed deployment', 'Go back to the last known good release'),
    runbook('auth-brute-force', 'Brute force lockdown', 'Block addresses after failed logins'),
  ];
  it('ranks the runbook whose text matches the incident first', () => {
    expect(rankRunbooks(candidates, draft({ title: 'Deployment of orders v2 failed health checks' }))[0]!.runbookId).toBe('failed-deployment');
    expect(rankRunbooks(candidates, draft({ title: 'Volume /data full on db-1', category: 'disk' }))[0]!.runbookId).toBe('disk-cleanup');
  });
  it('returns nothing when nothing matches, and at most the limit', () => {
    expect(rankRunbooks(candidates, draft({ title: 'zzz qqq' }))).toEqual([]);
    expect(rankRunbooks(candidates, draft({ title: 'failed deployment logins volume' }), 2)).toHaveLength(2);
  });
});
