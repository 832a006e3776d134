import { matchRunbook, selectRunbook } from '../../src/domain/matching';
import { makeDraft, makeRunbook, makeVersion } from './helpers';

describe('matchRunbook', () => {
  it('a runbook without conditions matches anything; only "enabled" counts', () => {
    expect(matchRunbook(makeRunbook(), makeDraft())).toEqual({ matched: true, reasons: ['enabled'], specificity: 1 });
  });

  it('a disabled runbook never matches', () => {
    expect(matchRunbook(makeRunbook({ enabled: false }), makeDraft())).toEqual({ matched: false, reasons: ['runbook is disabled'], specificity: 0 });
  });

  describe('severityScope', () => {
    const rb = makeRunbook({ severityScope: ['critical', 'high'] });

    it('matches a severity in scope', () => {
      expect(matchRunbook(rb, makeDraft({ severity: 'high' }))).toEqual({
        matched: true,
        reasons: ['enabled', 'severity high is in scope [critical, high]'],
        specificity: 2,
      });
    });

    it('rejects a severity out of scope, even a more severe one', () => {
      const low = makeRunbook({ severityScope: ['low'] });
      expect(matchRunbook(low, makeDraft({ severity: 'critical' }))).toEqual({
        matched: false,
        reasons: ['severity critical is not in scope [low]'],
        specificity: 0,
      });
      expect(matchRunbook(rb, makeDraft({ severity: 'medium' })).matched).toBe(false);
    });
  });

  describe('sources', () => {
    const rb = makeRunbook({ triggers: { sources: ['upewe', 'asrs'] } });

    it('matches a listed source', () => {
      expect(matchRunbook(rb, makeDraft({ source: 'asrs' }))).toEqual({
        matched: true,
        reasons: ['enabled', 'source asrs is one of [upewe, asrs]'],
        specificity: 2,
      });
    });

    it('rejects an unlisted source', () => {
      expect(matchRunbook(rb, makeDraft({ source: 'manual' }))).toEqual({
        matched: false,
        reasons: ['source manual is not one of [upewe, asrs]'],
        specificity: 0,
      });
    });
  });

  describe('minSeverity', () => {
    const rb = makeRunbook({ triggers: { minSeverity: 'high' } });

    it.each([
      ['critical', true],
      ['high', true],
      ['medium', false],
      ['low', false],
      ['info', false],
    ] as const)('%s -> matched %p', (severity, matched) => {
      expect(matchRunbook(rb, makeDraft({ severity })).matched).toBe(matched);
    });

    it('explains both outcomes', () => {
      expect(matchRunbook(rb, makeDraft({ severity: 'critical' })).reasons).toEqual(['enabled', 'severity critical is at least high']);
      expect(matchRunbook(rb, makeDraft({ severity: 'medium' })).reasons).toEqual(['severity medium is below at least high']);
    });
  });

  describe('titlePattern', () => {
    it('matches case-insensitively', () => {
      const rb = makeRunbook({ triggers: { titlePattern: 'database.*LATENCY' } });
      expect(matchRunbook(rb, makeDraft({ title: 'Primary DATABASE has high latency' }))).toEqual({
        matched: true,
        reasons: ['enabled', 'title matches /database.*LATENCY/i'],
        specificity: 2,
      });
    });

    it('is a search, not a full match, unless anchored', () => {
      expect(matchRunbook(makeRunbook({ triggers: { titlePattern: 'disk' } }), makeDraft({ title: 'Low disk space on db-1' })).matched).toBe(true);
      expect(matchRunbook(makeRunbook({ triggers: { titlePattern: '^disk' } }), makeDraft({ title: 'Low disk space on db-1' })).matched).toBe(false);
    });

    it('rejects a title that does not match', () => {
      const rb = makeRunbook({ triggers: { titlePattern: '^cpu' } });
      expect(matchRunbook(rb, makeDraft({ title: 'Memory pressure' }))).toEqual({
        matched: false,
        reasons: ['title does not match /^cpu/i'],
        specificity: 0,
      });
    });

    it('gives the same answer on repeated calls', () => {
      const rb = makeRunbook({ triggers: { titlePattern: 'cpu' } });
      const incident = makeDraft({ title: 'CPU hot' });
      expect(matchRunbook(rb, incident).matched).toBe(true);
      expect(matchRunbook(rb, incident).matched).toBe(true);
    });
  });

  describe('categories', () => {
    const rb = makeRunbook({ triggers: { categories: ['database', 'network'] } });

    it('matches a listed category', () => {
      expect(matchRunbook(rb, makeDraft({ category: 'network' }))).toEqual({
        matched: true,
        reasons: ['enabled', 'category network is one of [database, network]'],
        specificity: 2,
      });
    });

    it('is case-sensitive and exact', () => {
      expect(matchRunbook(rb, makeDraft({ category: 'Database' })).matched).toBe(false);
      expect(matchRunbook(rb, makeDraft({ category: 'database-replica' })).matched).toBe(false);
    });

    it('rejects an incident without a category', () => {
      expect(matchRunbook(rb, makeDraft())).toEqual({
        matched: false,
        reasons: ['category (none) is not one of [database, network]'],
        specificity: 0,
      });
    });
  });

  describe('labels', () => {
    const rb = makeRunbook({ triggers: { labels: { env: 'prod', team: 'db' } } });

    it('matches when every label is present with the same value (extra labels are fine)', () => {
      expect(matchRunbook(rb, makeDraft({ labels: { env: 'prod', team: 'db', region: 'eu' } }))).toEqual({
        matched: true,
        reasons: ['enabled', 'labels match'],
        specificity: 2,
      });
    });

    it('lists every missing or different label', () => {
      expect(matchRunbook(rb, makeDraft({ labels: { env: 'staging' } }))).toEqual({
        matched: false,
        reasons: ['labels missing: env=prod, team=db'],
        specificity: 0,
      });
    });

    it('compares values exactly', () => {
      expect(matchRunbook(rb, makeDraft({ labels: { env: 'PROD', team: 'db' } })).matched).toBe(false);
    });

    it('an empty label set is not a condition', () => {
      expect(matchRunbook(makeRunbook({ triggers: { labels: {} } }), makeDraft())).toEqual({ matched: true, reasons: ['enabled'], specificity: 1 });
    });
  });

  it('counts every condition met and reports them in order', () => {
    const rb = makeRunbook({
      severityScope: ['critical'],
      triggers: { sources: ['upewe'], minSeverity: 'high', titlePattern: 'latency', categories: ['database'], labels: { env: 'prod' } },
    });
    const incident = makeDraft({ source: 'upewe', severity: 'critical', title: 'Predicted latency', category: 'database', labels: { env: 'prod' } });
    expect(matchRunbook(rb, incident)).toEqual({
      matched: true,
      reasons: [
        'enabled',
        'severity critical is in scope [critical]',
        'source upewe is one of [upewe]',
        'severity critical is at least high',
        'title matches /latency/i',
        'category database is one of [database]',
        'labels match',
      ],
      specificity: 7,
    });
  });

  it('reports only the first failing condition', () => {
    const rb = makeRunbook({ triggers: { sources: ['upewe'], categories: ['database'] } });
    expect(matchRunbook(rb, makeDraft({ source: 'manual', category: 'network' })).reasons).toEqual(['source manual is not one of [upewe]']);
    const disabled = makeRunbook({ enabled: false, triggers: { sources: ['upewe'] } });
    expect(matchRunbook(disabled, makeDraft({ source: 'manual' })).reasons).toEqual(['runbook is disabled']);
  });
});

describe('selectRunbook', () => {
  describe('a runbook named on the incident', () => {
    it('wins outright, even over better matches and when its own triggers do not match', () => {
      const named = makeVersion({ id: 'named', triggers: { sources: ['upewe'] }, severityScope: ['low'] }, 4);
      const better = makeVersion({ id: 'better', priority: 1000, triggers: { categories: ['database'] } });
      const incident = makeDraft({ runbookId: 'named', source: 'manual', severity: 'critical', category: 'database' });
      expect(selectRunbook([better, named], incident)).toEqual({ selected: named, reasons: ['runbook "named" was asked for by the incident'] });
    });

    it('selects nothing when it is disabled, without falling back', () => {
      const named = makeVersion({ id: 'named', enabled: false });
      const other = makeVersion({ id: 'other' });
      expect(selectRunbook([named, other], makeDraft({ runbookId: 'named' }))).toEqual({
        selected: null,
        reasons: ['runbook "named" was asked for but is disabled'],
      });
    });

    it('selects nothing when it does not exist, without falling back', () => {
      expect(selectRunbook([makeVersion({ id: 'other' })], makeDraft({ runbookId: 'ghost' }))).toEqual({
        selected: null,
        reasons: ['runbook "ghost" was asked for but does not exist'],
      });
    });
  });

  it('selects nothing from no candidates', () => {
    expect(selectRunbook([], makeDraft())).toEqual({ selected: null, reasons: ['none of 0 runbook(s) matched'] });
  });

  it('selects nothing when none match', () => {
    const candidates = [makeVersion({ id: 'a', enabled: false }), makeVersion({ id: 'b', triggers: { sources: ['upewe'] } })];
    expect(selectRunbook(candidates, makeDraft({ source: 'manual' }))).toEqual({ selected: null, reasons: ['none of 2 runbook(s) matched'] });
  });

  it('skips disabled runbooks even when they are the most specific', () => {
    const disabled = makeVersion({ id: 'disabled', enabled: false, priority: 1000, triggers: { sources: ['manual'], categories: ['database'] } });
    const generic = makeVersion({ id: 'generic' });
    expect(selectRunbook([disabled, generic], makeDraft({ category: 'database' })).selected).toBe(generic);
  });

  it('prefers the more specific match over a higher priority', () => {
    const specific = makeVersion({ id: 'specific', priority: -10, triggers: { sources: ['manual'], categories: ['database'] } });
    const broad = makeVersion({ id: 'broad', priority: 100, triggers: { sources: ['manual'] } });
    const incident = makeDraft({ category: 'database' });
    expect(selectRunbook([broad, specific], incident).selected).toBe(specific);
    expect(selectRunbook([specific, broad], incident).selected).toBe(specific);
  });

  it('breaks a specificity tie by the higher priority', () => {
    const low = makeVersion({ id: 'a-low', priority: 1, triggers: { sources: ['manual'] } });
    const high = makeVersion({ id: 'z-high', priority: 2, triggers: { categories: ['database'] } });
    const incident = makeDraft({ category: 'database' });
    expect(selectRunbook([low, high], incident).selected).toBe(high);
    expect(selectRunbook([high, low], incident).selected).toBe(high);
  });

  it('breaks a full tie by the lowest id, whatever the candidate order', () => {
    const alpha = makeVersion({ id: 'alpha' });
    const beta = makeVersion({ id: 'beta' });
    const gamma = makeVersion({ id: 'gamma' });
    expect(selectRunbook([gamma, beta, alpha], makeDraft()).selected).toBe(alpha);
    expect(selectRunbook([beta, alpha, gamma], makeDraft()).selected).toBe(alpha);
    expect(selectRunbook([beta, gamma], makeDraft()).selected).toBe(beta);
  });

  it('uses severityScope as a condition', () => {
    const scoped = makeVersion({ id: 'scoped', severityScope: ['critical'] });
    const fallback = makeVersion({ id: 'fallback' });
    expect(selectRunbook([fallback, scoped], makeDraft({ severity: 'critical' })).selected).toBe(scoped);
    expect(selectRunbook([fallback, scoped], makeDraft({ severity: 'high' })).selected).toBe(fallback);
  });

  it('explains the choice with the version and the conditions met', () => {
    const rb = makeVersion({ id: 'db', triggers: { categories: ['database'], labels: { env: 'prod' } } }, 7);
    expect(selectRunbook([rb], makeDraft({ category: 'database', labels: { env: 'prod' } }))).toEqual({
      selected: rb,
      reasons: ['runbook "db" v7 matched: enabled; category database is one of [database]; labels match'],
    });
  });

  it("does not reorder the caller's array", () => {
    const candidates = [makeVersion({ id: 'b' }), makeVersion({ id: 'a' })];
    selectRunbook(candidates, makeDraft());
    expect(candidates.map((c) => c.runbook.id)).toEqual(['b', 'a']);
  });
});
