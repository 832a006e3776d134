import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { boundedRegexTester } from '../../src/api/regex-guard';
import { validateRule } from '../../src/api/routes/rules';
import { IncidentDraftSchema } from '../../src/domain/incident';
import { cloudEventView, parseEvent } from '../../src/domain/events';
import {
  MAX_REGEX_INPUT,
  Rule,
  RuleInput,
  RuleSchema,
  draftFromRule,
  formatWindow,
  matchRule,
  patternProblem,
  renderTitle,
  ruleDedupKey,
  settingsForRule,
  unknownChannels,
} from '../../src/domain/rules';
import { TenantSettingsSchema } from '../../src/domain/tenant-settings';
import { ValidationError, fieldErrors } from '../../src/domain/validation';

type Json = Record<string, unknown>;

function ruleInput(extra: Json = {}): Json {
  return { id: 'r', name: 'Rule', category: 'test', match: [{ field: 'action', op: 'equals', value: 'x' }], ...extra };
}

function rule(extra: Json = {}): Rule {
  return RuleSchema.parse(ruleInput(extra));
}

/** Issues as `path: message`, paths as people read them. */
function problems(input: unknown): string[] {
  const result = RuleSchema.safeParse(input);
  return result.success ? [] : fieldErrors(result.error).map((e) => `${e.path}: ${e.message}`);
}

function paths(input: unknown): string[] {
  return problems(input).map((p) => p.slice(0, p.indexOf(':')));
}

/** Matches one condition against an event. */
function holds(condition: Json, event: unknown): boolean {
  return matchRule(rule({ match: [condition] }), event).matched;
}

describe('RuleSchema', () => {
  it('fills in defaults and keeps what was given', () => {
    expect(rule()).toEqual({
      id: 'r',
      name: 'Rule',
      category: 'test',
      enabled: true,
      severity: 'medium',
      redactMatched: false,
      match: [{ field: 'action', op: 'equals', value: 'x' }],
    });
  });

  it('takes severities as words or P0–P4', () => {
    expect(rule({ severity: 'critical' }).severity).toBe('critical');
    expect(rule({ severity: 'P1' }).severity).toBe('high');
    expect(rule({ severity: 'P4' }).severity).toBe('info');
    expect(paths(ruleInput({ severity: 'urgent' }))).toEqual(['severity']);
  });

  it('parses thresholds: count of at least 1 within a window written as a duration', () => {
    expect(rule({ threshold: { count: 10, window: '5m' } }).threshold).toEqual({ count: 10, window: 300_000 });
    expect(rule({ threshold: { count: 1, window: 1_500 } }).threshold).toEqual({ count: 1, window: 1_500 });
    expect(paths(ruleInput({ threshold: { count: 0, window: '5m' } }))).toEqual(['threshold.count']);
    expect(paths(ruleInput({ threshold: { count: 2.5, window: '5m' } }))).toEqual(['threshold.count']);
    expect(paths(ruleInput({ threshold: { count: 3 } }))).toEqual(['threshold.window']);
    expect(paths(ruleInput({ threshold: { count: 3, window: 'soon' } }))).toEqual(['threshold.window']);
    expect(paths(ruleInput({ threshold: { count: 3, window: '200h' } }))).toEqual(['threshold.window']);
    expect(paths(ruleInput({ threshold: { count: 3, window: '5m', per: 'ip' } }))).toEqual(['threshold']);
  });

  it('names the failing path of a bad condition', () => {
    expect(
      paths(
        ruleInput({
          match: [
            { field: 'a', op: 'equals', value: 1 },
            { field: 'b', op: 'like', value: 'x' },
          ],
        }),
      ),
    ).toEqual(['match[1].op']);
    expect(paths(ruleInput({ match: [{ field: 'a', op: 'gt', value: 'ten' }] }))).toEqual(['match[0].value']);
    expect(paths(ruleInput({ match: [{ field: 'a', op: 'in', value: [] }] }))).toEqual(['match[0].value']);
    expect(paths(ruleInput({ match: [{ field: 'a..b', op: 'equals', value: 1 }] }))).toEqual(['match[0].field']);
    expect(paths(ruleInput({ match: [{ field: 'a b', op: 'equals', value: 1 }] }))).toEqual(['match[0].field']);
    expect(paths(ruleInput({ match: [] }))).toEqual(['match']);
    expect(paths(ruleInput({ match: [{ field: 'a', op: 'equals', value: 1, extra: true }] }))).toEqual(['match[0]']);
    expect(paths(ruleInput({ match: [{ field: 'a', op: 'regex', value: 'x', flags: 'g' }] }))).toEqual(['match[0].flags']);
    expect(paths(ruleInput({ correlateBy: 'actor ip' }))).toEqual(['correlateBy']);
    expect(paths(ruleInput({ id: 'Not A Slug' }))).toEqual(['id']);
    expect(paths({ id: 'r', match: [{ field: 'a', op: 'equals', value: 1 }] }).sort()).toEqual(['category', 'name']);
    expect(paths(ruleInput({ channels: ['Slack Security'] }))).toEqual(['channels[0]']);
  });

  it('refuses an invalid regex with its path', () => {
    expect(
      problems(
        ruleInput({
          match: [
            { field: 'a', op: 'equals', value: 1 },
            { field: 'b', op: 'regex', value: '(unclosed' },
          ],
        }),
      ),
    ).toEqual([expect.stringMatching(/^match\[1\]\.value: not a valid regular expression/)]);
  });

  it('refuses catastrophic-backtracking regexes with their path', () => {
    for (const pattern of ['(a+)+$', '(\\w+\\s?)+$', '^(a+)+b', '(x+x+)+y', '(.*a){20}', '(.*)*']) {
      expect(
        problems(
          ruleInput({
            match: [
              { field: 'a', op: 'equals', value: 1 },
              { field: 'output', op: 'regex', value: pattern },
            ],
          }),
        ),
      ).toEqual([expect.stringMatching(/^match\[1\]\.value: may backtrack catastrophically/)]);
    }
    expect(patternProblem('AKIA[0-9A-Z]{16}')).toBeUndefined();
  });

  it('caps the pattern length', () => {
    expect(paths(ruleInput({ match: [{ field: 'a', op: 'regex', value: 'a'.repeat(501) }] }))).toEqual(['match[0].value']);
  });

  it('checks title references', () => {
    expect(rule({ title: 'From {{event.actor.ip}} ({{rule.name}}, {{correlation}})' }).title).toBeDefined();
    expect(problems(ruleInput({ title: 'From {{incident.title}}' }))).toEqual([expect.stringMatching(/^title: "\{\{incident\.title\}\}" is not a reference/)]);
  });

  it('redactMatched needs a regex condition', () => {
    expect(paths(ruleInput({ redactMatched: true }))).toEqual(['redactMatched']);
  });

  it('validateRule throws a ValidationError and takes the id from the path', () => {
    expect(validateRule({ name: 'n', category: 'c', match: [{ field: 'a', op: 'equals', value: 1 }] }, 'from-path').id).toBe('from-path');
    let error: unknown;
    try {
      validateRule(ruleInput({ match: [{ field: 'a', op: 'regex', value: '(a+)+$' }] }), 'r');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors.map((e) => e.path)).toEqual(['match[0].value']);
    expect(() => validateRule(ruleInput({ id: 'other' }), 'r')).toThrow(/id: must be "r"/);
  });
});

describe('matchRule', () => {
  it('equals: same value; a number also equals its decimal string', () => {
    expect(holds({ field: 'a', op: 'equals', value: 'x' }, { a: 'x' })).toBe(true);
    expect(holds({ field: 'a', op: 'equals', value: 'x' }, { a: 'X' })).toBe(false);
    expect(holds({ field: 'a', op: 'equals', value: 500 }, { a: 500 })).toBe(true);
    expect(holds({ field: 'a', op: 'equals', value: 500 }, { a: '500' })).toBe(true);
    expect(holds({ field: 'a', op: 'equals', value: '500' }, { a: 500 })).toBe(true);
    expect(holds({ field: 'a', op: 'equals', value: true }, { a: 'true' })).toBe(false);
    expect(holds({ field: 'a', op: 'equals', value: null }, { a: null })).toBe(true);
    expect(holds({ field: 'a', op: 'equals', value: 'x' }, { a: ['x'] })).toBe(false);
  });

  it('contains: a substring of text, or an element of a list', () => {
    expect(holds({ field: 'msg', op: 'contains', value: 'denied' }, { msg: 'access denied for bob' })).toBe(true);
    expect(holds({ field: 'msg', op: 'contains', value: 'Denied' }, { msg: 'access denied for bob' })).toBe(false);
    expect(holds({ field: 'tags', op: 'contains', value: 'prod' }, { tags: ['dev', 'prod'] })).toBe(true);
    expect(holds({ field: 'tags', op: 'contains', value: 'prod' }, { tags: ['production'] })).toBe(false);
    expect(holds({ field: 'ports', op: 'contains', value: 22 }, { ports: [22, 443] })).toBe(true);
    expect(holds({ field: 'msg', op: 'contains', value: 'x' }, { msg: { x: 1 } })).toBe(false);
  });

  it('regex: tests text (numbers as their text), with flags', () => {
    expect(holds({ field: 'out', op: 'regex', value: 'AKIA[0-9A-Z]{16}' }, { out: 'key=AKIAABCDEFGHIJKLMNOP here' })).toBe(true);
    expect(holds({ field: 'out', op: 'regex', value: '^error' }, { out: 'ERROR: disk' })).toBe(false);
    expect(holds({ field: 'out', op: 'regex', value: '^error', flags: 'i' }, { out: 'ERROR: disk' })).toBe(true);
    expect(holds({ field: 'out', op: 'regex', value: '^disk$', flags: 'm' }, { out: 'error\ndisk' })).toBe(true);
    expect(holds({ field: 'code', op: 'regex', value: '^5\\d\\d$' }, { code: 503 })).toBe(true);
    expect(holds({ field: 'out', op: 'regex', value: 'x' }, { out: ['x'] })).toBe(false);
  });

  it('regex: only the first 10 KB of a field is tested', () => {
    const condition = { field: 'out', op: 'regex', value: 'needle' };
    expect(holds(condition, { out: `${'a'.repeat(MAX_REGEX_INPUT - 10)}needle` })).toBe(true);
    expect(holds(condition, { out: `${'a'.repeat(MAX_REGEX_INPUT)}needle` })).toBe(false);
  });

  it('gt and lt: numbers, and numeric text', () => {
    expect(holds({ field: 'cpu', op: 'gt', value: 90 }, { cpu: 95 })).toBe(true);
    expect(holds({ field: 'cpu', op: 'gt', value: 90 }, { cpu: 90 })).toBe(false);
    expect(holds({ field: 'cpu', op: 'gt', value: 90 }, { cpu: '95.5' })).toBe(true);
    expect(holds({ field: 'cpu', op: 'lt', value: 10 }, { cpu: 9 })).toBe(true);
    expect(holds({ field: 'cpu', op: 'lt', value: 10 }, { cpu: 10 })).toBe(false);
    expect(holds({ field: 'cpu', op: 'lt', value: 10 }, { cpu: 'low' })).toBe(false);
    expect(holds({ field: 'cpu', op: 'gt', value: 1 }, { cpu: '' })).toBe(false);
    expect(holds({ field: 'cpu', op: 'gt', value: 1 }, { cpu: true })).toBe(false);
  });

  it('in: one of a list', () => {
    expect(holds({ field: 's', op: 'in', value: ['critical', 'restricted'] }, { s: 'restricted' })).toBe(true);
    expect(holds({ field: 's', op: 'in', value: ['critical', 'restricted'] }, { s: 'public' })).toBe(false);
    expect(holds({ field: 'code', op: 'in', value: [401, 403] }, { code: '403' })).toBe(true);
  });

  it('reads nested fields and list elements by index', () => {
    const event = { actor: { ip: '10.0.0.1', roles: ['admin', 'dev'] }, items: [{ name: 'a' }, { name: 'b' }] };
    expect(holds({ field: 'actor.ip', op: 'equals', value: '10.0.0.1' }, event)).toBe(true);
    expect(holds({ field: 'actor.roles.1', op: 'equals', value: 'dev' }, event)).toBe(true);
    expect(holds({ field: 'items.1.name', op: 'equals', value: 'b' }, event)).toBe(true);
    expect(holds({ field: 'items.2.name', op: 'equals', value: 'b' }, event)).toBe(false);
    expect(holds({ field: 'items.name', op: 'equals', value: 'b' }, event)).toBe(false);
  });

  it('a missing field never matches, whatever the operator, and says so', () => {
    for (const condition of [
      { field: 'actor.ip', op: 'equals', value: null },
      { field: 'actor.ip', op: 'contains', value: '1' },
      { field: 'actor.ip', op: 'regex', value: '.*' },
      { field: 'actor.ip', op: 'gt', value: 0 },
      { field: 'actor.ip', op: 'lt', value: 0 },
      { field: 'actor.ip', op: 'in', value: ['x'] },
    ]) {
      for (const event of [{}, { actor: {} }, { actor: 'text' }, { actor: null }, null, 'string']) {
        const result = matchRule(rule({ match: [condition] }), event);
        expect(result.matched).toBe(false);
        expect(result.reasons).toEqual(['actor.ip is missing']);
      }
    }
  });

  it('inherited properties are not fields', () => {
    expect(holds({ field: 'constructor', op: 'regex', value: 'Object' }, {})).toBe(false);
    expect(holds({ field: 'toString', op: 'regex', value: '.' }, {})).toBe(false);
  });

  it('all conditions must hold; reasons say which held, or the first that did not', () => {
    const r = rule({
      match: [
        { field: 'action', op: 'equals', value: 'authorization_denied' },
        { field: 'target.sensitivity', op: 'in', value: ['critical', 'restricted'] },
      ],
    });
    expect(matchRule(r, { action: 'authorization_denied', target: { sensitivity: 'critical' } })).toEqual({
      matched: true,
      reasons: ['action equals "authorization_denied"', 'target.sensitivity "critical" is one of ["critical", "restricted"]'],
      correlationValue: null,
    });
    expect(matchRule(r, { action: 'authorization_denied', target: { sensitivity: 'public' } })).toEqual({
      matched: false,
      reasons: ['target.sensitivity "public" is not one of ["critical", "restricted"]'],
      correlationValue: null,
    });
  });

  it('gives the correlation value; events without the field are counted together', () => {
    const r = rule({ correlateBy: 'actor.ip' });
    expect(matchRule(r, { action: 'x', actor: { ip: '10.0.0.1' } }).correlationValue).toBe('10.0.0.1');
    expect(matchRule(r, { action: 'x', actor: { ip: 7 } }).correlationValue).toBe('7');
    expect(matchRule(r, { action: 'x' }).correlationValue).toBe('(missing)');
    const long = 'x'.repeat(500);
    const value = matchRule(r, { action: 'x', actor: { ip: long } }).correlationValue as string;
    expect(value.length).toBeLessThanOrEqual(120);
    expect(value).not.toBe(matchRule(r, { action: 'x', actor: { ip: `${long}y` } }).correlationValue);
  });

  it('a disabled rule matches nothing', () => {
    expect(matchRule(rule({ enabled: false }), { action: 'x' }).matched).toBe(false);
  });

  it('a long hostile input does not stall: rejected patterns never run, and the rest run under a time bound', () => {
    // Nested quantifiers are refused at validation...
    expect(RuleSchema.safeParse(ruleInput({ match: [{ field: 'out', op: 'regex', value: '(a+)+$' }] })).success).toBe(false);
    // ...and a pattern the static check lets through (overlapping alternatives) gives up in time.
    const sneaky = rule({ match: [{ field: 'out', op: 'regex', value: '(a|aa)+$' }] });
    const hostile = { out: `${'a'.repeat(5_000)}!${'a'.repeat(50_000)}` };
    const started = Date.now();
    const result = matchRule(sneaky, hostile, { testRegex: boundedRegexTester() });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result.matched).toBe(false);
    expect(result.reasons[0]).toMatch(/took too long/);
    expect(result.timedOut).toBe(true);
    // A safe pattern over a long input is quick, bounded or not.
    const secret = rule({ match: [{ field: 'out', op: 'regex', value: 'AKIA[0-9A-Z]{16}' }] });
    const t0 = Date.now();
    expect(matchRule(secret, { out: 'AKIA-'.repeat(100_000) }).matched).toBe(false);
    expect(matchRule(secret, { out: `${'x'.repeat(5_000)}AKIAABCDEFGHIJKLMNOP` }, { testRegex: boundedRegexTester() }).matched).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});

describe('incidents from rules', () => {
  it('dedup key: rule and correlation value', () => {
    expect(ruleDedupKey('auth-brute-force', '10.0.0.1')).toBe('rule:auth-brute-force:10.0.0.1');
    expect(ruleDedupKey('secret', null)).toBe('rule:secret');
  });

  it('renders the title from the event, the rule and the correlation; missing values read (unknown)', () => {
    const r = rule({ title: 'Brute force from {{event.actor.ip}} by {{ rule.id }} [{{correlation}}] {{event.nope}}' });
    expect(renderTitle(r, { actor: { ip: '10.0.0.9' } }, '10.0.0.9')).toBe('Brute force from 10.0.0.9 by r [10.0.0.9] (unknown)');
    expect(renderTitle(rule(), {}, null)).toBe('Rule');
    expect(renderTitle(rule({ title: '{{event.x}}' }), { x: 'a\nb\u0000c' }, null)).toBe('a b c');
    expect(renderTitle(rule({ title: '{{event.x}}' }), { x: 'y'.repeat(1_000) }, null).length).toBeLessThanOrEqual(300);
  });

  it('builds a valid incident draft with the rule, count and correlation in its context', () => {
    const r = rule({
      id: 'auth-brute-force',
      title: 'Brute force from {{event.actor.ip}}',
      threshold: { count: 10, window: '5m' },
      correlateBy: 'actor.ip',
      severity: 'P2',
      category: 'authentication_failure',
      runbookId: 'auth-brute-force',
      channels: ['slack_security'],
    });
    const event = { action: 'authentication_failed', actor: { ip: '10.0.0.1' }, service: 'login' };
    const draft = draftFromRule(r, event, { count: 10, correlation: '10.0.0.1', eventId: 'event::e1', sourceEventId: 'e1' });
    expect(IncidentDraftSchema.parse(draft)).toEqual(draft);
    expect(draft).toMatchObject({
      source: 'webhook',
      dedupKey: 'rule:auth-brute-force:10.0.0.1',
      severity: 'medium',
      category: 'authentication_failure',
      title: 'Brute force from 10.0.0.1',
      runbookId: 'auth-brute-force',
      linkedEventId: 'e1',
      affectedServices: ['login'],
      labels: { rule: 'auth-brute-force', correlation: '10.0.0.1' },
      context: {
        action: 'authentication_failed',
        actor: { ip: '10.0.0.1' },
        detection: {
          rule: 'auth-brute-force',
          count: 10,
          threshold: { count: 10, windowMs: 300_000 },
          correlateBy: 'actor.ip',
          correlation: '10.0.0.1',
          channels: ['slack_security'],
        },
      },
    });
    expect(draft.summary).toContain('10 matching events within 5m for actor.ip 10.0.0.1 (threshold 10)');
  });

  it('redactMatched keeps what the regex read out of the incident, title included', () => {
    const r = rule({ match: [{ field: 'output', op: 'regex', value: 'AKIA[0-9A-Z]{16}' }], redactMatched: true, title: 'Leak: {{event.output}}' });
    const event = { output: 'here: AKIAABCDEFGHIJKLMNOP', actor: { id: 'agent-1' } };
    const draft = draftFromRule(r, event, { count: 1, correlation: null, eventId: 'e' });
    expect(JSON.stringify(draft)).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(draft.context).toMatchObject({ output: '[REDACTED]', actor: { id: 'agent-1' } });
    expect(draft.title).toBe('Leak: [REDACTED]');
    expect(event.output).toContain('AKIA'); // the event itself is not changed
  });

  it("routes the rule's channels whatever their severity and category filters, others as usual", () => {
    const settings = TenantSettingsSchema.parse({
      channels: [
        { name: 'slack_security', target: { url: 'http://127.0.0.1/s' }, minSeverity: 'critical', categories: ['nothing'] },
        { name: 'other', target: { url: 'http://127.0.0.1/o' }, minSeverity: 'critical' },
      ],
    });
    const adjusted = settingsForRule(settings, { channels: ['slack_security', 'missing'] });
    expect(adjusted.channels[0]).toMatchObject({ name: 'slack_security', minSeverity: 'info' });
    expect(adjusted.channels[0]!.categories).toBeUndefined();
    expect(adjusted.channels[1]).toEqual(settings.channels[1]);
    expect(settingsForRule(settings, {})).toBe(settings);
    expect(unknownChannels(settings, { channels: ['slack_security', 'missing'] })).toEqual(['missing']);
  });

  it('formats windows', () => {
    expect([formatWindow(300_000), formatWindow(7_200_000), formatWindow(1_500), formatWindow(30_000)]).toEqual(['5m', '2h', '1500ms', '30s']);
  });
});

describe('events', () => {
  it('a JSON object is an event; its id, source and time are optional', () => {
    expect(parseEvent({ action: 'x' }, false)).toEqual({ format: 'json', id: undefined, source: undefined, view: { action: 'x' }, context: { action: 'x' } });
    expect(parseEvent({ id: 42, source: 'idp', action: 'x' }, false)).toMatchObject({ id: '42', source: 'idp' });
    expect(() => parseEvent([{ action: 'x' }], false)).toThrow(/one event/);
    expect(() => parseEvent('text', false)).toThrow(ValidationError);
    expect(() => parseEvent({ id: '' }, false)).toThrow(/id/);
  });

  it('a CloudEvent needs specversion 1.0, id, source and type, and names what is missing', () => {
    const valid = { specversion: '1.0', id: 'e-1', source: '/auth', type: 'login.failed', time: '2025-06-01T12:00:00Z', data: { actor: { ip: '10.0.0.1' } } };
    expect(parseEvent(valid, true).format).toBe('cloudevents');
    const missing = (field: string): string[] => {
      const copy: Json = { ...valid };
      delete copy[field];
      try {
        parseEvent(copy, true);
        return [];
      } catch (err) {
        return (err as ValidationError).errors.map((e) => e.path);
      }
    };
    expect(missing('specversion')).toEqual(['specversion']);
    expect(missing('id')).toEqual(['id']);
    expect(missing('source')).toEqual(['source']);
    expect(missing('type')).toEqual(['type']);
    expect(() => parseEvent({ ...valid, specversion: '0.3' }, true)).toThrow(/specversion: must be "1.0"/);
    expect(() => parseEvent({ ...valid, time: 'yesterday' }, true)).toThrow(/time/);
    // A JSON body with a specversion is a CloudEvent too.
    expect(() => parseEvent({ specversion: '1.0' }, false)).toThrow(/invalid CloudEvent/);
  });

  it("rules read a CloudEvent's payload fields directly or under data; attributes win", () => {
    const { view, context } = cloudEventView({
      specversion: '1.0',
      id: 'e-1',
      source: '/auth',
      type: 'login.failed',
      data: { actor: { ip: '10.0.0.1' }, id: 'user-7' },
    });
    expect(view).toMatchObject({ actor: { ip: '10.0.0.1' }, data: { actor: { ip: '10.0.0.1' } }, id: 'e-1', type: 'login.failed' });
    expect(context).not.toHaveProperty('data');
    const r = rule({
      match: [
        { field: 'type', op: 'equals', value: 'login.failed' },
        { field: 'data.actor.ip', op: 'equals', value: '10.0.0.1' },
      ],
      correlateBy: 'actor.ip',
    });
    expect(matchRule(r, view)).toMatchObject({ matched: true, correlationValue: '10.0.0.1' });
  });
});

describe('built-in rules (rules/*.yaml)', () => {
  const dir = join(__dirname, '..', '..', 'rules');
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  const load = (file: string): RuleInput => parseYaml(readFileSync(join(dir, file), 'utf8')) as RuleInput;
  const byId = (id: string): Rule => RuleSchema.parse(load(`${id}.yaml`));

  it('are the four of the source documents, each valid and named after its file', () => {
    expect(files.sort()).toEqual(['auth-brute-force.yaml', 'compliance-violation.yaml', 'secret-in-output.yaml', 'unauthorized-access.yaml']);
    for (const file of files) {
      expect(problems(load(file))).toEqual([]);
      expect(`${RuleSchema.parse(load(file)).id}.yaml`).toBe(file);
    }
  });

  it('secret in output: AWS keys, private keys and tokens match; ordinary output does not', () => {
    const r = byId('secret-in-output');
    const event = (output: string) => ({ action: 'agent_output', actor: { id: 'agent-7' }, output });
    for (const output of [
      'export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE',
      'creds: ASIAY34FZKBOKMUTVV7A',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEow...',
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      '-----BEGIN PRIVATE KEY-----',
      `token ghp_${'a1B2'.repeat(9)}`,
      'slack: xoxb-123456789012-abcdefghij',
    ]) {
      expect({ output, matched: matchRule(r, event(output)).matched }).toEqual({ output, matched: true });
    }
    for (const output of ['build finished in 12s', 'AKIA-not-a-key', '-----BEGIN CERTIFICATE-----', 'akiaiosfodnn7example']) {
      expect({ output, matched: matchRule(r, event(output)).matched }).toEqual({ output, matched: false });
    }
    const draft = draftFromRule(r, event('key AKIAIOSFODNN7EXAMPLE'), { count: 1, correlation: 'agent-7', eventId: 'e' });
    expect(JSON.stringify(draft)).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(draft).toMatchObject({ title: 'Secret detected in output of agent-7', severity: 'high', category: 'data_leak', runbookId: 'secret-exposure' });
  });

  it('authentication brute force: failed logins, 10 within 5 minutes per actor.ip', () => {
    const r = byId('auth-brute-force');
    expect(r.threshold).toEqual({ count: 10, window: 300_000 });
    expect(r.correlateBy).toBe('actor.ip');
    const failed = { action: 'authentication_failed', actor: { ip: '203.0.113.9', user: 'bob' }, outcome: 'failure' };
    expect(matchRule(r, failed)).toMatchObject({ matched: true, correlationValue: '203.0.113.9' });
    expect(matchRule(r, { ...failed, action: 'login_failed' }).matched).toBe(true);
    expect(matchRule(r, { ...failed, action: 'authentication_succeeded' }).matched).toBe(false);
    expect(draftFromRule(r, failed, { count: 10, correlation: '203.0.113.9', eventId: 'e' }).title).toBe('Brute force from 203.0.113.9');
  });

  it('unauthorized access: denied on a critical or restricted target only', () => {
    const r = byId('unauthorized-access');
    const denied = { action: 'authorization_denied', actor: { id: 'svc-reporting' }, target: { id: 'payments-db', sensitivity: 'restricted' } };
    expect(matchRule(r, denied)).toMatchObject({ matched: true, correlationValue: 'svc-reporting' });
    expect(matchRule(r, { ...denied, target: { id: 'wiki', sensitivity: 'internal' } }).matched).toBe(false);
    expect(matchRule(r, { ...denied, action: 'authorization_granted' }).matched).toBe(false);
    expect(draftFromRule(r, denied, { count: 1, correlation: 'svc-reporting', eventId: 'e' })).toMatchObject({
      title: 'Unauthorized access to payments-db by svc-reporting',
      severity: 'high',
      category: 'authorization_failure',
    });
  });

  it('compliance violation: a compliance event whose outcome is a violation', () => {
    const r = byId('compliance-violation');
    const violation = { category: 'compliance_event', outcome: 'violation', control: { id: 'SOC2-CC6.1', name: 'logical access' } };
    expect(matchRule(r, violation)).toMatchObject({ matched: true, correlationValue: 'SOC2-CC6.1' });
    expect(matchRule(r, { ...violation, outcome: 'pass' }).matched).toBe(false);
    expect(draftFromRule(r, violation, { count: 1, correlation: 'SOC2-CC6.1', eventId: 'e' })).toMatchObject({
      title: 'Compliance violation: SOC2-CC6.1',
      severity: 'high',
      category: 'compliance_violation',
    });
  });
});
