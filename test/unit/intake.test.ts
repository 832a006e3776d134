import { IncidentDraftSchema } from '../../src/domain/incident';
import { DeclarationSchema, ForecastSchema, SafetyEventSchema, draftFromDeclaration, draftFromForecast, draftFromSafetyEvent } from '../../src/domain/intake';
import { Severity } from '../../src/domain/severity';
import { formatPath } from '../../src/domain/validation';

function forecast(extra: Record<string, unknown> = {}) {
  return ForecastSchema.parse({
    id: 'fc-1',
    riskType: 'disk exhaustion',
    confidence: 65,
    recommendedAction: 'expand volume',
    ...extra,
  });
}

function safetyEvent(extra: Record<string, unknown> = {}) {
  return SafetyEventSchema.parse({
    id: 'ev-9',
    source: 'asrs',
    riskScore: 50,
    outcome: 'near miss',
    actionType: 'unsafe deploy',
    ...extra,
  });
}

function declaration(extra: Record<string, unknown> = {}) {
  return DeclarationSchema.parse({ title: 'Checkout errors', ...extra });
}

describe('ForecastSchema', () => {
  it('trims text and defaults rawFeatures', () => {
    expect(ForecastSchema.parse({ id: ' fc ', riskType: ' cpu ', confidence: 0, recommendedAction: ' scale ' })).toEqual({
      id: 'fc',
      riskType: 'cpu',
      confidence: 0,
      recommendedAction: 'scale',
      rawFeatures: {},
    });
  });

  it.each([
    [{ confidence: -1 }, 'confidence'],
    [{ confidence: 100.5 }, 'confidence'],
    [{ confidence: '80' }, 'confidence'],
    [{ id: '   ' }, 'id'],
    [{ riskType: '' }, 'riskType'],
    [{ recommendedAction: 'x'.repeat(501) }, 'recommendedAction'],
    [{ affectedServices: [''] }, 'affectedServices[0]'],
    [{ impact: { availability: 120 } }, 'impact.availability'],
    [{ rawFeatures: [] }, 'rawFeatures'],
  ])('rejects %p at %s', (extra, path) => {
    const result = ForecastSchema.safeParse({ id: 'fc', riskType: 'cpu', confidence: 50, recommendedAction: 'scale', ...extra });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => formatPath(i.path))).toEqual([path]);
  });
});

describe('draftFromForecast', () => {
  it('maps a 65% forecast to a high incident', () => {
    const draft = draftFromForecast(
      forecast({ affectedServices: ['db'], rawFeatures: { disk_used: 0.93, host: 'db-1' }, category: 'storage', requireApproval: true }),
    );
    expect(draft).toEqual({
      source: 'upewe',
      dedupKey: 'forecast:fc-1',
      severity: 'high',
      category: 'storage',
      title: 'Predicted disk exhaustion: expand volume',
      summary: 'UPEWE forecast with 65% confidence predicting disk exhaustion',
      affectedServices: ['db'],
      labels: {},
      context: {
        disk_used: 0.93,
        host: 'db-1',
        forecast: { id: 'fc-1', riskType: 'disk exhaustion', confidence: 65, recommendedAction: 'expand volume' },
      },
      linkedForecastId: 'fc-1',
      requireApproval: true,
      severityReasons: ['confidence 65 → high'],
    });
    expect(IncidentDraftSchema.safeParse(draft).success).toBe(true);
  });

  it('maps an 80% forecast to a critical incident', () => {
    const draft = draftFromForecast(forecast({ confidence: 80 }));
    expect(draft.severity).toBe('critical');
    expect(draft.severityReasons).toEqual(['confidence 80 → critical']);
  });

  it.each<[number, Severity]>([
    [0, 'low'],
    [39, 'low'],
    [39.5, 'low'],
    [40, 'medium'],
    [59, 'medium'],
    [60, 'high'],
    [79, 'high'],
    [80, 'critical'],
    [100, 'critical'],
  ])('confidence %p -> %s', (confidence, severity) => {
    expect(draftFromForecast(forecast({ confidence })).severity).toBe(severity);
  });

  it('falls back to the risk type as category, and defaults services and approval', () => {
    const draft = draftFromForecast(forecast());
    expect(draft.category).toBe('disk exhaustion');
    expect(draft.affectedServices).toEqual([]);
    expect(draft.requireApproval).toBe(false);
    expect(draft.runbookId).toBeUndefined();
    expect(draft.linkedEventId).toBeUndefined();
  });

  it('the forecast summary in context wins over a raw feature named "forecast"', () => {
    const draft = draftFromForecast(forecast({ rawFeatures: { forecast: 'spoofed', other: 1 } }));
    expect(draft.context).toEqual({ other: 1, forecast: { id: 'fc-1', riskType: 'disk exhaustion', confidence: 65, recommendedAction: 'expand volume' } });
  });

  it('classification raises severity and records why', () => {
    const draft = draftFromForecast(forecast({ confidence: 30, impact: { availability: 40 } }));
    expect(draft.severity).toBe('critical');
    expect(draft.severityReasons).toEqual(['confidence 30 → low', 'availability 40% < 50%: critical']);
  });

  it('classification never lowers severity', () => {
    const draft = draftFromForecast(forecast({ confidence: 90, impact: { availability: 100, affectedUsers: 0 } }));
    expect(draft.severity).toBe('critical');
    expect(draft.severityReasons).toEqual(['confidence 90 → critical']);
  });
});

describe('SafetyEventSchema', () => {
  it('accepts asrs and mcse only', () => {
    expect(safetyEvent({ source: 'mcse' }).source).toBe('mcse');
    expect(SafetyEventSchema.safeParse({ id: 'e', source: 'upewe', riskScore: 1, outcome: 'o', actionType: 'a' }).success).toBe(false);
  });

  it('bounds the risk score', () => {
    expect(SafetyEventSchema.safeParse({ id: 'e', source: 'asrs', riskScore: 101, outcome: 'o', actionType: 'a' }).success).toBe(false);
    expect(SafetyEventSchema.safeParse({ id: 'e', source: 'asrs', riskScore: -0.1, outcome: 'o', actionType: 'a' }).success).toBe(false);
  });
});

describe('draftFromSafetyEvent', () => {
  it('maps an ASRS event', () => {
    const draft = draftFromSafetyEvent(safetyEvent({ details: { operator: 'ci' }, affectedServices: ['deployer'] }));
    expect(draft).toEqual({
      source: 'asrs',
      dedupKey: 'asrs:ev-9',
      severity: 'medium',
      category: 'unsafe deploy',
      title: 'ASRS near miss: unsafe deploy',
      summary: 'Safety event from asrs with risk score 50',
      affectedServices: ['deployer'],
      labels: {},
      context: { operator: 'ci', event: { id: 'ev-9', riskScore: 50, outcome: 'near miss', actionType: 'unsafe deploy' } },
      linkedEventId: 'ev-9',
      requireApproval: false,
      severityReasons: ['risk score 50 → medium'],
    });
    expect(IncidentDraftSchema.safeParse(draft).success).toBe(true);
  });

  it('maps an MCSE event with its own category and source', () => {
    const draft = draftFromSafetyEvent(safetyEvent({ source: 'mcse', riskScore: 85, category: 'cognitive', requireApproval: true }));
    expect(draft.source).toBe('mcse');
    expect(draft.dedupKey).toBe('mcse:ev-9');
    expect(draft.title).toBe('MCSE near miss: unsafe deploy');
    expect(draft.category).toBe('cognitive');
    expect(draft.severity).toBe('critical');
    expect(draft.requireApproval).toBe(true);
  });

  it.each<[number, Severity]>([
    [0, 'low'],
    [39.9, 'low'],
    [40, 'medium'],
    [60, 'high'],
    [80, 'critical'],
  ])('risk score %p -> %s', (riskScore, severity) => {
    expect(draftFromSafetyEvent(safetyEvent({ riskScore })).severity).toBe(severity);
  });

  it('classification raises severity', () => {
    const draft = draftFromSafetyEvent(safetyEvent({ riskScore: 10, impact: { securityBreach: true, relatedIncidents24h: 4 } }));
    expect(draft.severity).toBe('critical');
    expect(draft.severityReasons).toEqual([
      'risk score 10 → low',
      'security breach: at least high',
      '4 related incidents in 24 h: raised from high to critical',
    ]);
  });
});

describe('DeclarationSchema', () => {
  it('requires a severity or a priority, reported at "severity"', () => {
    const result = DeclarationSchema.safeParse({ title: 'Checkout errors' });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]?.path).toEqual(['severity']);
    expect(result.error?.issues[0]?.message).toBe('give a severity (critical, high, medium, low, info) or a priority (P0–P4)');
  });

  it('accepts either or both', () => {
    expect(DeclarationSchema.safeParse({ title: 't', severity: 'low' }).success).toBe(true);
    expect(DeclarationSchema.safeParse({ title: 't', priority: 'P3' }).success).toBe(true);
    expect(DeclarationSchema.safeParse({ title: 't', severity: 'low', priority: 'P0' }).success).toBe(true);
  });

  it('defaults context and trims the title', () => {
    expect(declaration({ title: '  Checkout errors  ', severity: 'low' })).toEqual({ title: 'Checkout errors', severity: 'low', context: {} });
  });

  it.each([
    [{ severity: 'sev1' }, 'severity'],
    [{ severity: 'low', priority: 'P9' }, 'priority'],
    [{ severity: 'low', runbookId: 'Not A Slug' }, 'runbookId'],
    [{ severity: 'low', title: '' }, 'title'],
    [{ severity: 'low', labels: { env: 5 } }, 'labels.env'],
    [{ severity: 'low', dedupKey: '  ' }, 'dedupKey'],
  ])('rejects %p at %s', (extra, path) => {
    const result = DeclarationSchema.safeParse({ title: 'Checkout errors', ...extra });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => formatPath(i.path))).toEqual([path]);
  });
});

describe('draftFromDeclaration', () => {
  it.each([
    ['P0', 'critical'],
    ['P1', 'high'],
    ['P2', 'medium'],
    ['P3', 'low'],
    ['P4', 'info'],
  ] as const)('priority %s -> %s', (priority, severity) => {
    const draft = draftFromDeclaration(declaration({ priority }), 'key-1');
    expect(draft.severity).toBe(severity);
    expect(draft.severityReasons).toEqual([`priority ${priority} → ${severity}`]);
  });

  it('a declared severity wins over a priority', () => {
    const draft = draftFromDeclaration(declaration({ severity: 'low', priority: 'P0' }), 'k');
    expect(draft.severity).toBe('low');
    expect(draft.severityReasons).toEqual(['declared low']);
  });

  it('maps every field', () => {
    const draft = draftFromDeclaration(
      declaration({
        severity: 'high',
        summary: 's',
        category: 'payments',
        affectedServices: ['checkout'],
        labels: { env: 'prod' },
        context: { region: 'eu' },
        dedupKey: 'checkout-5xx',
        runbookId: 'restart-checkout',
        requireApproval: true,
      }),
      'fallback',
    );
    expect(draft).toEqual({
      source: 'manual',
      dedupKey: 'manual:checkout-5xx',
      severity: 'high',
      category: 'payments',
      title: 'Checkout errors',
      summary: 's',
      affectedServices: ['checkout'],
      labels: { env: 'prod' },
      context: { region: 'eu' },
      runbookId: 'restart-checkout',
      requireApproval: true,
      severityReasons: ['declared high'],
    });
    expect(IncidentDraftSchema.safeParse(draft).success).toBe(true);
  });

  it('uses the fallback key without a dedup key, and defaults the rest', () => {
    const draft = draftFromDeclaration(declaration({ priority: 'P2' }), 'idem-123');
    expect(draft.dedupKey).toBe('manual:idem-123');
    expect(draft.affectedServices).toEqual([]);
    expect(draft.labels).toEqual({});
    expect(draft.context).toEqual({});
    expect(draft.requireApproval).toBe(false);
    expect(draft.runbookId).toBeUndefined();
    expect(draft.category).toBeUndefined();
  });

  it('classification raises a declared severity', () => {
    const draft = draftFromDeclaration(declaration({ priority: 'P4', impact: { affectedUsers: 50_000 } }), 'k');
    expect(draft.severity).toBe('critical');
    expect(draft.severityReasons).toEqual(['priority P4 → info', '50000 users affected (> 10,000): critical']);
  });

  it('classification does not lower a declared severity', () => {
    const draft = draftFromDeclaration(declaration({ severity: 'critical', impact: { availability: 99 } }), 'k');
    expect(draft.severity).toBe('critical');
    expect(draft.severityReasons).toEqual(['declared critical']);
  });
});

describe('drafts stay within IncidentDraftSchema for every valid input', () => {
  // Forecast texts may be longer than a title (300) or category (100): intake cuts them.
  it('a forecast with long but valid texts gives a valid draft', () => {
    const draft = draftFromForecast(forecast({ riskType: 'r'.repeat(200), recommendedAction: 'a'.repeat(500) }));
    expect(IncidentDraftSchema.safeParse(draft).success).toBe(true);
  });

  it('a safety event with long but valid texts gives a valid draft', () => {
    const draft = draftFromSafetyEvent(safetyEvent({ outcome: 'o'.repeat(200), actionType: 't'.repeat(200) }));
    expect(IncidentDraftSchema.safeParse(draft).success).toBe(true);
  });

  it('long texts are cut to exactly the title (300) and category (100) limits, marked with an ellipsis', () => {
    const draft = draftFromForecast(forecast({ riskType: 'r'.repeat(200), recommendedAction: 'a'.repeat(500) }));
    expect(draft.title).toHaveLength(300);
    expect(draft.title.endsWith('…')).toBe(true);
    expect(draft.category).toHaveLength(100);
  });
});
