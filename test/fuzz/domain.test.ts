import fc from 'fast-check';
import { validateRunbook } from '../../src/domain/runbook-validation';
import { hostileInputErrors, MAX_INPUT_DEPTH } from '../../src/api/hostile-input';
import { ForecastSchema, SafetyEventSchema, draftFromForecast, draftFromSafetyEvent } from '../../src/domain/intake';
import { RuleSchema } from '../../src/domain/rules';
import { RunbookSchema } from '../../src/domain/runbook';
import { ImpactContext, SEVERITIES, Severity, classifySeverity, maxSeverity, raiseOneLevel, severityFromScore, severityRank } from '../../src/domain/severity';
import { TemplateError, render } from '../../src/domain/template';
import { TenantSettingsSchema } from '../../src/domain/tenant-settings';
import { ValidationError } from '../../src/domain/validation';
import { FUZZ_SEED, NASTY_STRINGS, deepJsonText, hostileJson, mutations, nastyString } from './arbitraries';

/**
 * Property-based tests of the pure code hostile input reaches first: the runbook and rule schemas,
 * the template renderer, severity classification, the tenant settings schema, and the API's check
 * for input that schemas let through.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 500);
const params = (numRuns = RUNS): fc.Parameters<unknown> => ({ seed: FUZZ_SEED, numRuns });

beforeAll(() => {
  // Printed so a failure can be replayed: FUZZ_SEED=<seed> npx jest test/fuzz
  process.stdout.write(`fuzz seed ${FUZZ_SEED}\n`);
});

const VALID_RUNBOOK = {
  id: 'scale-out',
  name: 'Scale out',
  triggers: { sources: ['upewe'], titlePattern: 'capacity', minSeverity: 'medium' },
  steps: [
    { id: 'page', name: 'Page', action: 'notify', params: { url: 'http://127.0.0.1:9/hook', message: 'scaling {{incident.context.service}}' } },
    {
      id: 'scale',
      name: 'Scale',
      action: 'scale',
      params: { url: 'http://127.0.0.1:9/services/{{incident.context.service}}/capacity', replicas: '{{incident.context.replicas}}' },
      risk: 'medium',
      retry: { maximumAttempts: 3, initialInterval: '1s' },
    },
    { id: 'tell', name: 'Tell', action: 'notify', params: { url: 'http://127.0.0.1:9/hook', message: 'was {{steps.scale.output.previous}}' } },
  ],
};

/** validateRunbook either returns a runbook or throws ValidationError naming paths; nothing else. */
function judgeRunbook(input: unknown): 'valid' | 'invalid' {
  try {
    const runbook = validateRunbook(input);
    // What it returns is a runbook: valid again, and unchanged by a second pass.
    expect(RunbookSchema.parse(runbook)).toEqual(runbook);
    return 'valid';
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    expect(err.errors.length).toBeGreaterThan(0);
    for (const e of err.errors) {
      expect(typeof e.path).toBe('string');
      expect(e.message.length).toBeGreaterThan(0);
    }
    return 'invalid';
  }
}

describe('runbook schema', () => {
  test('the sample is valid', () => {
    expect(judgeRunbook(VALID_RUNBOOK)).toBe('valid');
  });

  test('arbitrary JSON never makes validateRunbook throw anything but a ValidationError with paths', () => {
    fc.assert(
      fc.property(hostileJson, (input) => void judgeRunbook(input)),
      params(),
    );
  });

  test('mutations of a valid runbook are judged, never crash, and a wrong type or out-of-range value is refused', () => {
    fc.assert(
      fc.property(mutations(VALID_RUNBOOK), (text) => {
        const input: unknown = JSON.parse(text);
        // What the API refuses before any schema sees it (nesting past 64, NUL…) is tested there.
        if (hostileInputErrors(input).length > 0) return;
        judgeRunbook(input);
      }),
      params(),
    );
  });

  test('a runbook with extra keys, prototype keys or an unknown action is refused', () => {
    fc.assert(
      fc.property(fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra'), fc.constantFrom('root', 'step', 'triggers'), (key, where) => {
        const input = JSON.parse(JSON.stringify(VALID_RUNBOOK)) as Record<string, unknown> & {
          steps: Record<string, unknown>[];
          triggers: Record<string, unknown>;
        };
        const target = where === 'root' ? input : where === 'step' ? input.steps[0] : input.triggers;
        Object.defineProperty(target, key, { value: { polluted: true }, enumerable: true, configurable: true, writable: true });
        expect(judgeRunbook(input)).toBe('invalid');
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      params(50),
    );
    expect(judgeRunbook({ ...VALID_RUNBOOK, steps: [{ id: 'a', name: 'a', action: 'teleport' }] })).toBe('invalid');
  });

  test('catastrophic title patterns are refused when the runbook is saved', () => {
    for (const pattern of ['(a+)+$', '(a*)*b', '^(x+x+)+y', '(.*a){12}', '([a-z]+)*$']) {
      expect(() => validateRunbook({ ...VALID_RUNBOOK, triggers: { titlePattern: pattern } })).toThrow(/backtrack catastrophically/);
    }
    expect(judgeRunbook({ ...VALID_RUNBOOK, triggers: { titlePattern: 'cpu|memory|disk' } })).toBe('valid');
  });
});

describe('detection rule schema', () => {
  const SAMPLE_RULE = {
    id: 'brute-force',
    name: 'Brute force',
    match: [
      { field: 'type', op: 'equals', value: 'login.failed' },
      { field: 'actor.user', op: 'regex', value: '^adm', flags: 'i' },
      { field: 'attempts', op: 'gt', value: 3 },
    ],
    threshold: { count: 10, window: '5m' },
    correlateBy: 'actor.ip',
    category: 'security',
    severity: 'P1',
    title: 'Brute force from {{correlation}}',
  };

  function judge(input: unknown): void {
    const result = RuleSchema.safeParse(input);
    if (result.success) expect(RuleSchema.parse(JSON.parse(JSON.stringify(result.data)))).toEqual(result.data);
    else expect(result.error.issues.length).toBeGreaterThan(0);
  }

  test('the sample is valid; arbitrary JSON and mutations are judged without throwing', () => {
    expect(RuleSchema.safeParse(SAMPLE_RULE).success).toBe(true);
    fc.assert(
      fc.property(hostileJson, (input) => judge(input)),
      params(),
    );
    fc.assert(
      fc.property(mutations(SAMPLE_RULE), (text) => {
        const input: unknown = JSON.parse(text);
        if (hostileInputErrors(input).length === 0) judge(input);
      }),
      params(),
    );
  });

  test('regex conditions that may backtrack catastrophically are refused', () => {
    for (const value of ['(a+)+$', '(x*)*y', '(.*a){12}']) {
      expect(RuleSchema.safeParse({ ...SAMPLE_RULE, match: [{ field: 'msg', op: 'regex', value }] }).success).toBe(false);
    }
  });
});

describe('templating', () => {
  const reference = fc
    .array(fc.oneof(fc.constantFrom('incident', 'steps', 'context', 'output', 'x', '__proto__', 'constructor', 'length', '0'), fc.string({ maxLength: 8 })), {
      minLength: 1,
      maxLength: 5,
    })
    .map((parts) => parts.join('.'));
  const template = fc
    .array(
      fc.oneof(
        nastyString,
        reference.map((r) => `{{${r}}}`),
        fc.constantFrom('{{', '}}', '{{}}', '{{ incident.title }}'),
      ),
      { maxLength: 5 },
    )
    .map((parts) => parts.join(''));
  const at = fc.constantFrom('params', 'params.url', 'params.pushUrl', 'params.message', 'params.headers.x');
  const params_ = fc.oneof(template, fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(template, hostileJson), { maxKeys: 4 }), hostileJson);

  test('render never throws anything but a TemplateError, on arbitrary JSON and scopes', () => {
    fc.assert(
      fc.property(params_, hostileJson, hostileJson, at, (value, incident, steps, where) => {
        try {
          render(value, { incident, steps }, where);
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          expect(err.message.startsWith(`${err.path}: `)).toBe(true);
        }
      }),
      params(),
    );
  });

  test('a missing or null value is an error, never an empty string, whole or embedded', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 10 }).filter((k) => /^[A-Za-z0-9_-]+$/.test(k)),
        fc.constantFrom(undefined, null),
        fc.string({ maxLength: 10 }).filter((s) => !s.includes('{') && !s.includes('}')),
        at,
        (key, missing, around, where) => {
          const context: Record<string, unknown> = missing === null ? { [key]: null } : {};
          const scope = { incident: { context }, steps: {} };
          expect(() => render(`{{incident.context.${key}}}`, scope, where)).toThrow(TemplateError);
          expect(() => render(`${around}{{incident.context.${key}}}${around}`, scope, where)).toThrow(TemplateError);
          expect(() => render({ nested: [`x{{incident.context.${key}}}`] }, scope, where)).toThrow(TemplateError);
        },
      ),
      params(),
    );
  });

  test('a present value renders whole (type kept) or as text; inherited properties are never read', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 10 }).filter((k) => /^[A-Za-z0-9_-]+$/.test(k)),
        hostileJson,
        (key, value) => {
          const scope = { incident: { context: { [key]: value } }, steps: {} };
          const whole = () => render(`{{incident.context.${key}}}`, scope, 'params.x');
          if (value === null) expect(whole).toThrow(TemplateError);
          else expect(whole()).toEqual(value);
          for (const inherited of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
            expect(() => render(`x {{incident.context.${key}.${inherited}}}`, { incident: { context: { [key]: {} } } }, 'p')).toThrow(TemplateError);
          }
        },
      ),
      params(),
    );
  });

  test('a value rendered into a URL path cannot change the origin or the path segments the template has', () => {
    fc.assert(
      fc.property(
        fc.oneof(nastyString, fc.string({ maxLength: 30 })),
        fc.constantFrom('params.url', 'params.pushUrl', 'params.compensate.url'),
        (value, where) => {
          const template = 'http://127.0.0.1:9/services/{{incident.context.v}}/capacity?x={{incident.context.v}}';
          let rendered: unknown;
          try {
            rendered = render(template, { incident: { context: { v: value } } }, where);
          } catch (err) {
            if (!(err instanceof TemplateError)) throw err;
            return;
          }
          const url = new URL(rendered as string);
          expect(url.origin).toBe('http://127.0.0.1:9');
          const segments = url.pathname.split('/');
          expect(segments).toHaveLength(4);
          expect(segments[1]).toBe('services');
          expect(segments[3]).toBe('capacity');
          expect([...url.searchParams.keys()]).toEqual(['x']);
          expect(url.searchParams.get('x')).toBe(value);
        },
      ),
      params(),
    );
  });
});

describe('severity classification', () => {
  const severity = fc.constantFrom(...SEVERITIES);
  const impact: fc.Arbitrary<ImpactContext> = fc.record(
    {
      securityBreach: fc.boolean(),
      dataAtRisk: fc.boolean(),
      complianceImpact: fc.boolean(),
      availability: fc.double({ min: 0, max: 100, noNaN: true }),
      affectedUsers: fc.nat(),
      relatedIncidents24h: fc.nat(),
    },
    { requiredKeys: [] },
  );

  test('is total and never lowers severity', () => {
    fc.assert(
      fc.property(severity, impact, (base, ctx) => {
        const { severity: result, reasons } = classifySeverity(base, ctx);
        expect(SEVERITIES).toContain(result);
        expect(severityRank(result)).toBeGreaterThanOrEqual(severityRank(base));
        if (result === base) expect(reasons).toEqual([]);
        else expect(reasons.length).toBeGreaterThan(0);
      }),
      params(),
    );
  });

  test('more impact never means less severity (monotone in each flag)', () => {
    fc.assert(
      fc.property(severity, impact, fc.constantFrom<keyof ImpactContext>('securityBreach', 'dataAtRisk', 'complianceImpact'), (base, ctx, flag) => {
        const without = classifySeverity(base, { ...ctx, [flag]: false }).severity;
        const withFlag = classifySeverity(base, { ...ctx, [flag]: true }).severity;
        expect(severityRank(withFlag)).toBeGreaterThanOrEqual(severityRank(without));
      }),
      params(),
    );
  });

  test('scores map totally onto the scale, monotone; maxSeverity and raiseOneLevel never lower', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), severity, severity, (a, b, s, t) => {
        expect(SEVERITIES).toContain(severityFromScore(a));
        if (a <= b) expect(severityRank(severityFromScore(a))).toBeLessThanOrEqual(severityRank(severityFromScore(b)));
        expect(maxSeverity(s, t)).toBe(maxSeverity(t, s));
        expect(severityRank(maxSeverity(s, t))).toBeGreaterThanOrEqual(Math.max(severityRank(s), severityRank(t)));
        expect(severityRank(raiseOneLevel(s))).toBeGreaterThanOrEqual(severityRank(s));
      }),
      params(),
    );
  });

  test('an intake draft is never less severe than its score says', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100, noNaN: true }), fc.option(impact, { nil: undefined }), (score, ctx) => {
        const forecast = ForecastSchema.parse({ id: 'f', riskType: 'r', confidence: score, recommendedAction: 'a', impact: ctx });
        const event = SafetyEventSchema.parse({ id: 'e', source: 'asrs', riskScore: score, outcome: 'o', actionType: 'a', impact: ctx });
        const floor: Severity = severityFromScore(score);
        expect(severityRank(draftFromForecast(forecast).severity)).toBeGreaterThanOrEqual(severityRank(floor));
        expect(severityRank(draftFromSafetyEvent(event).severity)).toBeGreaterThanOrEqual(severityRank(floor));
      }),
      params(),
    );
  });
});

describe('tenant settings schema', () => {
  const SAMPLE = {
    approval: { approvalRisk: 'medium', costThreshold: 10, requiredApprovals: 1, requiredApprovalsCritical: 2 },
    responseSla: { critical: '10m' },
    approvalTimeout: '30m',
    escalation: { tiers: [{ after: '5m', channels: ['ops'] }], repeat: 1 },
    channels: [{ name: 'ops', target: { channel: 'webhook', url: 'http://127.0.0.1:9/h' }, minSeverity: 'high', events: ['approval.needed'] }],
    intake: { flapWindow: '5m', silences: [{ matchers: { service: 'db' }, reason: 'maintenance' }], signingSecrets: { forecast: 'x'.repeat(32) } },
  };

  function judge(input: unknown): void {
    const result = TenantSettingsSchema.safeParse(input);
    if (!result.success) {
      expect(result.error.issues.length).toBeGreaterThan(0);
      return;
    }
    // What it accepts is settings: parsing them again changes nothing.
    expect(TenantSettingsSchema.parse(JSON.parse(JSON.stringify(result.data)))).toEqual(result.data);
  }

  test('the sample is valid', () => {
    expect(TenantSettingsSchema.safeParse(SAMPLE).success).toBe(true);
  });

  test('arbitrary JSON and mutations of valid settings are judged without throwing', () => {
    fc.assert(
      fc.property(hostileJson, (input) => judge(input)),
      params(),
    );
    fc.assert(
      fc.property(mutations(SAMPLE), (text) => {
        const input: unknown = JSON.parse(text);
        if (hostileInputErrors(input).length === 0) judge(input);
      }),
      params(),
    );
  });
});

describe('the API check for input schemas let through', () => {
  test('never throws, and flags every NUL, lone surrogate, __proto__ key and nesting past the limit', () => {
    fc.assert(
      fc.property(hostileJson, (value) => {
        const errors = hostileInputErrors(value);
        const text = JSON.stringify(value);
        // JSON.stringify escapes only lone surrogates (pairs are written as they are) and NUL.
        const hostile = /\\u0000|\\ud[89a-f][0-9a-f]{2}|"__proto__":/.test(text);
        expect(errors.length > 0).toBe(hostile);
      }),
      params(),
    );
  });

  test('handles 100,000 levels without overflowing the stack, and allows exactly the limit', () => {
    expect(hostileInputErrors(JSON.parse(deepJsonText(100_000, 'array')))).toEqual([
      { path: expect.any(String), message: `nested more than ${MAX_INPUT_DEPTH} levels deep` },
    ]);
    expect(hostileInputErrors(JSON.parse(deepJsonText(MAX_INPUT_DEPTH, 'object')))).toEqual([]);
    expect(hostileInputErrors(JSON.parse(deepJsonText(MAX_INPUT_DEPTH + 1, 'object')))).toHaveLength(1);
  });

  test('names where the problem is', () => {
    expect(hostileInputErrors(JSON.parse('{"a":[1,{"b":"x\\u0000"}],"__proto__":{}}'))).toEqual(
      expect.arrayContaining([
        { path: 'a[1].b', message: expect.stringContaining('NUL') },
        { path: '__proto__', message: 'the key "__proto__" is not allowed' },
      ]),
    );
    for (const s of NASTY_STRINGS.filter((x) => /[\u0000\ud800-\udfff]/.test(x) && !/[\ud800-\udbff][\udc00-\udfff]/.test(x))) {
      expect(hostileInputErrors({ v: s })).toHaveLength(1);
    }
    expect(hostileInputErrors({ v: '😀 fine' })).toEqual([]);
  });
});
