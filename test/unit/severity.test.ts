import {
  DEFAULT_RESPONSE_SLA_MS,
  ImpactContextSchema,
  PrioritySchema,
  SEVERITIES,
  Severity,
  SeveritySchema,
  classifySeverity,
  isAtLeast,
  maxSeverity,
  raiseOneLevel,
  severityFromPriority,
  severityFromScore,
  severityRank,
} from '../../src/domain/severity';

describe('SEVERITIES and schemas', () => {
  it('lists severities from most to least severe', () => {
    expect(SEVERITIES).toEqual(['critical', 'high', 'medium', 'low', 'info']);
  });

  it.each(['critical', 'high', 'medium', 'low', 'info'])('SeveritySchema accepts %s', (s) => {
    expect(SeveritySchema.parse(s)).toBe(s);
  });

  it.each(['CRITICAL', 'sev1', '', 'P0', 'warning'])('SeveritySchema rejects %p', (s) => {
    expect(SeveritySchema.safeParse(s).success).toBe(false);
  });

  it('PrioritySchema accepts P0..P4 only', () => {
    expect(PrioritySchema.options).toEqual(['P0', 'P1', 'P2', 'P3', 'P4']);
    expect(PrioritySchema.safeParse('P5').success).toBe(false);
    expect(PrioritySchema.safeParse('p0').success).toBe(false);
  });
});

describe('severityRank', () => {
  it('gives higher numbers to more severe levels', () => {
    expect(severityRank('critical')).toBe(4);
    expect(severityRank('high')).toBe(3);
    expect(severityRank('medium')).toBe(2);
    expect(severityRank('low')).toBe(1);
    expect(severityRank('info')).toBe(0);
  });
});

describe('isAtLeast', () => {
  it('is true for the same level', () => {
    for (const s of SEVERITIES) expect(isAtLeast(s, s)).toBe(true);
  });

  it('compares by severity, not alphabetically', () => {
    expect(isAtLeast('critical', 'high')).toBe(true);
    expect(isAtLeast('high', 'critical')).toBe(false);
    expect(isAtLeast('medium', 'low')).toBe(true);
    expect(isAtLeast('low', 'medium')).toBe(false);
    expect(isAtLeast('info', 'low')).toBe(false);
    expect(isAtLeast('low', 'info')).toBe(true);
  });

  it('everything is at least info, only critical is at least critical', () => {
    expect(SEVERITIES.filter((s) => isAtLeast(s, 'info'))).toEqual([...SEVERITIES]);
    expect(SEVERITIES.filter((s) => isAtLeast(s, 'critical'))).toEqual(['critical']);
  });
});

describe('maxSeverity', () => {
  it.each<[Severity, Severity, Severity]>([
    ['low', 'high', 'high'],
    ['high', 'low', 'high'],
    ['critical', 'info', 'critical'],
    ['info', 'medium', 'medium'],
    ['medium', 'medium', 'medium'],
  ])('max(%s, %s) = %s', (a, b, expected) => {
    expect(maxSeverity(a, b)).toBe(expected);
  });
});

describe('raiseOneLevel', () => {
  it.each<[Severity, Severity]>([
    ['info', 'low'],
    ['low', 'medium'],
    ['medium', 'high'],
    ['high', 'critical'],
    ['critical', 'critical'],
  ])('%s -> %s', (from, to) => {
    expect(raiseOneLevel(from)).toBe(to);
  });
});

describe('severityFromPriority', () => {
  it.each([
    ['P0', 'critical'],
    ['P1', 'high'],
    ['P2', 'medium'],
    ['P3', 'low'],
    ['P4', 'info'],
  ] as const)('%s -> %s', (p, s) => {
    expect(severityFromPriority(p)).toBe(s);
  });
});

describe('severityFromScore', () => {
  it.each<[number, Severity]>([
    [100, 'critical'],
    [80, 'critical'],
    [79.99, 'high'],
    [65, 'high'],
    [60, 'high'],
    [59.9, 'medium'],
    [40, 'medium'],
    [39.999, 'low'],
    [1, 'low'],
    [0, 'low'],
  ])('%p -> %s', (score, expected) => {
    expect(severityFromScore(score)).toBe(expected);
  });

  it('never yields info', () => {
    for (let score = 0; score <= 100; score += 0.5) expect(severityFromScore(score)).not.toBe('info');
  });
});

describe('ImpactContextSchema', () => {
  it('accepts an empty object and a full one', () => {
    expect(ImpactContextSchema.parse({})).toEqual({});
    const full = { securityBreach: true, dataAtRisk: false, complianceImpact: true, availability: 99.5, affectedUsers: 12, relatedIncidents24h: 0 };
    expect(ImpactContextSchema.parse(full)).toEqual(full);
  });

  it.each([
    [{ availability: -1 }, 'availability'],
    [{ availability: 100.1 }, 'availability'],
    [{ affectedUsers: 1.5 }, 'affectedUsers'],
    [{ affectedUsers: -1 }, 'affectedUsers'],
    [{ relatedIncidents24h: -2 }, 'relatedIncidents24h'],
    [{ securityBreach: 'yes' }, 'securityBreach'],
  ])('rejects %p at %s', (input, field) => {
    const result = ImpactContextSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toEqual([[field]]);
  });

  it('accepts the availability bounds 0 and 100', () => {
    expect(ImpactContextSchema.safeParse({ availability: 0 }).success).toBe(true);
    expect(ImpactContextSchema.safeParse({ availability: 100 }).success).toBe(true);
  });
});

describe('classifySeverity', () => {
  it('keeps the base severity with no impact', () => {
    for (const s of SEVERITIES) expect(classifySeverity(s, {})).toEqual({ severity: s, reasons: [] });
  });

  it.each([
    ['securityBreach', 'security breach: at least high'],
    ['dataAtRisk', 'data at risk: at least high'],
    ['complianceImpact', 'compliance impact: at least high'],
  ] as const)('%s raises low to high', (flag, reason) => {
    expect(classifySeverity('low', { [flag]: true })).toEqual({ severity: 'high', reasons: [reason] });
  });

  it('a false flag changes nothing', () => {
    expect(classifySeverity('low', { securityBreach: false, dataAtRisk: false, complianceImpact: false })).toEqual({ severity: 'low', reasons: [] });
  });

  it('never lowers severity: a flag floor below the base is ignored', () => {
    expect(classifySeverity('critical', { securityBreach: true, dataAtRisk: true, availability: 60, affectedUsers: 5_000 })).toEqual({
      severity: 'critical',
      reasons: [],
    });
    expect(classifySeverity('high', { securityBreach: true })).toEqual({ severity: 'high', reasons: [] });
  });

  it('records only the first of several floors at the same level', () => {
    expect(classifySeverity('info', { securityBreach: true, dataAtRisk: true, complianceImpact: true })).toEqual({
      severity: 'high',
      reasons: ['security breach: at least high'],
    });
  });

  describe('availability', () => {
    it.each<[number, Severity, string[]]>([
      [0, 'critical', ['availability 0% < 50%: critical']],
      [49.9, 'critical', ['availability 49.9% < 50%: critical']],
      [50, 'high', ['availability 50% < 80%: at least high']],
      [79, 'high', ['availability 79% < 80%: at least high']],
      [80, 'low', []],
      [100, 'low', []],
    ])('%p%% from low -> %s', (availability, severity, reasons) => {
      expect(classifySeverity('low', { availability })).toEqual({ severity, reasons });
    });

    it('low availability raises high to critical', () => {
      expect(classifySeverity('high', { availability: 10 })).toEqual({ severity: 'critical', reasons: ['availability 10% < 50%: critical'] });
    });
  });

  describe('affected users', () => {
    it.each<[number, Severity, string[]]>([
      [0, 'medium', []],
      [1_000, 'medium', []],
      [1_001, 'high', ['1001 users affected (> 1,000): at least high']],
      [10_000, 'high', ['10000 users affected (> 1,000): at least high']],
      [10_001, 'critical', ['10001 users affected (> 10,000): critical']],
    ])('%p users from medium -> %s', (affectedUsers, severity, reasons) => {
      expect(classifySeverity('medium', { affectedUsers })).toEqual({ severity, reasons });
    });
  });

  describe('related incidents', () => {
    it('3 related incidents change nothing, 4 raise one level', () => {
      expect(classifySeverity('medium', { relatedIncidents24h: 3 })).toEqual({ severity: 'medium', reasons: [] });
      expect(classifySeverity('medium', { relatedIncidents24h: 4 })).toEqual({
        severity: 'high',
        reasons: ['4 related incidents in 24 h: raised from medium to high'],
      });
    });

    it('raises info to low', () => {
      expect(classifySeverity('info', { relatedIncidents24h: 10 }).severity).toBe('low');
    });

    it('cannot raise critical and then adds no reason', () => {
      expect(classifySeverity('critical', { relatedIncidents24h: 50 })).toEqual({ severity: 'critical', reasons: [] });
    });

    it('applies after the floors, so it raises the floored level', () => {
      expect(classifySeverity('low', { securityBreach: true, relatedIncidents24h: 5 })).toEqual({
        severity: 'critical',
        reasons: ['security breach: at least high', '5 related incidents in 24 h: raised from high to critical'],
      });
    });
  });

  it('combines floors in order: availability then users', () => {
    expect(classifySeverity('info', { availability: 70, affectedUsers: 20_000 })).toEqual({
      severity: 'critical',
      reasons: ['availability 70% < 80%: at least high', '20000 users affected (> 10,000): critical'],
    });
  });
});

describe('DEFAULT_RESPONSE_SLA_MS', () => {
  it('has one SLA per severity, tighter for worse severities', () => {
    expect(DEFAULT_RESPONSE_SLA_MS).toEqual({
      critical: 900_000,
      high: 3_600_000,
      medium: 14_400_000,
      low: 86_400_000,
      info: 86_400_000,
    });
  });
});
