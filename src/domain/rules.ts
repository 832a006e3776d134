import safeRegex from 'safe-regex2';
import { z } from 'zod';
import { DurationSchema } from './duration';
import { IncidentDraft, SlugSchema } from './incident';
import { defined } from './must';
import { PrioritySchema, Severity, SeveritySchema, severityFromPriority } from './severity';
import type { TenantSettings } from './tenant-settings';

/**
 * Detection rules: conditions on the fields of an incoming event, an optional threshold (so many
 * matching events within a window, counted per value of a correlation field), and what the incident
 * they open looks like. Pure code: matching here, counting in PostgreSQL (src/db/rules.ts).
 */

/** Longest regex pattern a rule may hold. */
export const MAX_PATTERN_LENGTH = 500;
/** Regexes only ever see this much of a field: a bound on the work one test can do. */
export const MAX_REGEX_INPUT = 10 * 1024;
/** Longest threshold window: counts are kept in PostgreSQL this long. */
export const MAX_WINDOW_MS = 7 * 24 * 3_600_000;
/** Correlation values longer than this are shortened (with a hash) to keep dedup keys within 200 characters. */
export const MAX_CORRELATION_LENGTH = 120;
export const MISSING_CORRELATION = '(missing)';

const SEGMENT = /^[A-Za-z0-9_$@-]+$/;

/** A dotted path into the event: `actor.ip`, `data.items.0.name` (a number indexes an array). */
export const FieldPathSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((p) => p.split('.').every((s) => SEGMENT.test(s)), {
    message: 'write a dotted path of field names, e.g. actor.ip (letters, digits, _, -, $, @; a number indexes a list)',
  })
  .refine((p) => p.split('.').length <= 16, { message: 'at most 16 levels deep' });

const Scalar = z.union([z.string().max(1_000), z.number(), z.boolean(), z.null()]);
type ScalarValue = z.infer<typeof Scalar>;

const EqualsCondition = z.object({ field: FieldPathSchema, op: z.literal('equals'), value: Scalar }).strict();
const ContainsCondition = z
  .object({ field: FieldPathSchema, op: z.literal('contains'), value: z.union([z.string().min(1).max(1_000), z.number(), z.boolean()]) })
  .strict();
const RegexCondition = z
  .object({
    field: FieldPathSchema,
    op: z.literal('regex'),
    value: z.string().min(1).max(MAX_PATTERN_LENGTH, `at most ${MAX_PATTERN_LENGTH} characters`),
    /** i (ignore case), m (^ and $ at line breaks), s (. matches line breaks). */
    flags: z
      .string()
      .regex(/^[ims]*$/, 'only the flags i, m and s')
      .refine((f) => new Set(f).size === f.length, 'a flag is repeated')
      .optional(),
  })
  .strict();
const GtCondition = z.object({ field: FieldPathSchema, op: z.literal('gt'), value: z.number() }).strict();
const LtCondition = z.object({ field: FieldPathSchema, op: z.literal('lt'), value: z.number() }).strict();
const InCondition = z.object({ field: FieldPathSchema, op: z.literal('in'), value: z.array(Scalar).min(1).max(500) }).strict();

export const ConditionSchema = z.discriminatedUnion('op', [EqualsCondition, ContainsCondition, RegexCondition, GtCondition, LtCondition, InCondition]);
export type Condition = z.infer<typeof ConditionSchema>;
export const CONDITION_OPS = ['equals', 'contains', 'regex', 'gt', 'lt', 'in'] as const;

export const ThresholdSchema = z
  .object({
    /** This many matching events (per correlation value) open the incident. */
    count: z.number().int().min(1).max(100_000),
    /** …within this window: "30s", "5m", "24h" or milliseconds. */
    window: DurationSchema.refine((ms) => ms <= MAX_WINDOW_MS, { message: 'at most 168h (7 days)' }),
  })
  .strict();

/** `{{event.actor.ip}}`, `{{rule.name}}`, `{{correlation}}` */
const TITLE_REFERENCE = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** A rule severity is a word (critical…info) or a priority (P0–P4), kept as the word. */
const RuleSeveritySchema = z
  .union([SeveritySchema, PrioritySchema])
  .transform((v): Severity => (PrioritySchema.safeParse(v).success ? severityFromPriority(v as z.infer<typeof PrioritySchema>) : (v as Severity)));

/** Why a regex pattern cannot be used in a rule, or undefined when it can. */
export function patternProblem(pattern: string, flags = ''): string | undefined {
  try {
    new RegExp(pattern, flags);
  } catch (err) {
    return `not a valid regular expression: ${(err as Error).message}`;
  }
  let safe: boolean;
  try {
    safe = safeRegex(pattern);
  } catch {
    safe = false;
  }
  if (!safe) {
    return 'may backtrack catastrophically (nested or too many quantifiers, e.g. (a+)+): rewrite it without a quantifier inside a quantified group';
  }
  return undefined;
}

export const RuleSchema = z
  .object({
    id: SlugSchema,
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2_000).optional(),
    enabled: z.boolean().default(true),
    /** Every condition must hold. */
    match: z.array(ConditionSchema).min(1).max(20),
    /** Absent: every matching event opens (or joins) the incident. */
    threshold: ThresholdSchema.optional(),
    /** Count, and open incidents, per value of this field (e.g. actor.ip). */
    correlateBy: FieldPathSchema.optional(),
    category: z.string().trim().min(1).max(100),
    severity: RuleSeveritySchema.default('medium'),
    /** Run this runbook; absent: the runbook is chosen by its triggers. */
    runbookId: SlugSchema.optional(),
    /** Tenant notification channels (by name) that get this rule's incidents whatever their severity and category filters. */
    channels: z.array(SlugSchema).max(20).optional(),
    /** The incident title; `{{event.<path>}}`, `{{rule.id}}`, `{{rule.name}}`, `{{correlation}}` are filled in. Default: the name. */
    title: z.string().trim().min(1).max(300).optional(),
    /** Replace the fields regex conditions matched with [REDACTED] in the incident (rules that find secrets). */
    redactMatched: z.boolean().default(false),
  })
  .strict()
  .superRefine((rule, ctx) => {
    rule.match.forEach((condition, i) => {
      if (condition.op !== 'regex') return;
      const problem = patternProblem(condition.value, condition.flags);
      if (problem) ctx.addIssue({ code: 'custom', path: ['match', i, 'value'], message: problem });
    });
    for (const m of (rule.title ?? '').matchAll(TITLE_REFERENCE)) {
      const ref = defined(m[1], 'the reference inside {{…}}');
      const ok =
        ref === 'correlation' || ref === 'rule.id' || ref === 'rule.name' || (ref.startsWith('event.') && FieldPathSchema.safeParse(ref.slice(6)).success);
      if (!ok)
        ctx.addIssue({
          code: 'custom',
          path: ['title'],
          message: `"{{${ref}}}" is not a reference: use {{event.<field path>}}, {{rule.id}}, {{rule.name}} or {{correlation}}`,
        });
    }
    if (rule.redactMatched && !rule.match.some((c) => c.op === 'regex')) {
      ctx.addIssue({ code: 'custom', path: ['redactMatched'], message: 'only rules with a regex condition have matches to redact' });
    }
  });
export type Rule = z.infer<typeof RuleSchema>;
/** What a rule file or a PUT body holds (before defaults and normalisation). */
export type RuleInput = z.input<typeof RuleSchema>;

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/** Tests a regex against a (capped) string; `'timeout'` when it gave up. The API passes a time-bounded one. */
export type RegexTester = (re: RegExp, input: string) => boolean | 'timeout';
const plainTest: RegexTester = (re, input) => re.test(input);

export interface MatchOptions {
  testRegex?: RegexTester;
}

export interface RuleMatch {
  matched: boolean;
  /** Each condition met when it matched; the first condition that failed when not. */
  reasons: string[];
  /** The correlation value (counting is per value); null when the rule has no correlateBy. */
  correlationValue: string | null;
  /** A regex test ran out of time (so the rule did not match). */
  timedOut?: true;
}

const MISSING = Symbol('missing');

/** The value at a dotted path, own properties only; a number segment indexes a list. */
export function fieldValue(event: unknown, path: string): unknown {
  let current: unknown = event;
  for (const key of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(key)) return MISSING;
      const index = Number(key);
      if (index >= current.length) return MISSING;
      current = current[index];
      continue;
    }
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, key)) return MISSING;
    current = (current as Record<string, unknown>)[key];
  }
  return current === undefined ? MISSING : current;
}

const regexCache = new Map<string, RegExp>();

/** Rule regexes are compiled once (they were checked when the rule was validated). */
export function compiledPattern(pattern: string, flags = ''): RegExp {
  const key = `${flags}/${pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    re = new RegExp(pattern, flags);
    if (regexCache.size >= 1_000) regexCache.delete(regexCache.keys().next().value as string);
    regexCache.set(key, re);
  }
  return re;
}

function show(value: unknown): string {
  const text =
    typeof value === 'string'
      ? JSON.stringify(value)
      : value === null
        ? 'null'
        : typeof value === 'object'
          ? Array.isArray(value)
            ? 'a list'
            : 'an object'
          : String(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** `equals`: the same value; a number also equals its decimal string. */
function same(actual: unknown, expected: ScalarValue): boolean {
  if (actual === expected) return true;
  if (typeof expected === 'number' && typeof actual === 'string' && actual.trim() !== '') return Number(actual) === expected;
  if (typeof expected === 'string' && typeof actual === 'number' && expected.trim() !== '') return Number(expected) === actual;
  return false;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

/** Whether one condition holds, and why (not). */
export function checkCondition(condition: Condition, event: unknown, options: MatchOptions = {}): { ok: boolean; reason: string; timedOut?: true } {
  const { field } = condition;
  const actual = fieldValue(event, field);
  if (actual === MISSING) return { ok: false, reason: `${field} is missing` };
  switch (condition.op) {
    case 'equals': {
      const ok = same(actual, condition.value);
      return { ok, reason: ok ? `${field} equals ${show(condition.value)}` : `${field} is ${show(actual)}, not ${show(condition.value)}` };
    }
    case 'contains': {
      if (Array.isArray(actual)) {
        const ok = actual.some((item) => same(item, condition.value));
        return { ok, reason: `${field} ${ok ? 'contains' : 'does not contain'} ${show(condition.value)}` };
      }
      if (typeof actual !== 'string') return { ok: false, reason: `${field} is ${show(actual)}, not text or a list` };
      const ok = actual.includes(String(condition.value));
      return { ok, reason: `${field} ${ok ? 'contains' : 'does not contain'} ${show(String(condition.value))}` };
    }
    case 'regex': {
      if (typeof actual !== 'string' && typeof actual !== 'number' && typeof actual !== 'boolean') {
        return { ok: false, reason: `${field} is ${show(actual)}, not text` };
      }
      const text = String(actual);
      const input = text.length > MAX_REGEX_INPUT ? text.slice(0, MAX_REGEX_INPUT) : text;
      const result = (options.testRegex ?? plainTest)(compiledPattern(condition.value, condition.flags), input);
      const where = `/${condition.value}/${condition.flags ?? ''}`;
      if (result === 'timeout') return { ok: false, reason: `${field}: ${where} took too long and was given up (counted as no match)`, timedOut: true };
      const capped = input.length < text.length ? ` (first ${MAX_REGEX_INPUT} characters)` : '';
      return { ok: result, reason: `${field}${capped} ${result ? 'matches' : 'does not match'} ${where}` };
    }
    case 'gt':
    case 'lt': {
      const n = asNumber(actual);
      if (n === undefined) return { ok: false, reason: `${field} is ${show(actual)}, not a number` };
      const ok = condition.op === 'gt' ? n > condition.value : n < condition.value;
      const word = condition.op === 'gt' ? 'greater' : 'less';
      return { ok, reason: `${field} ${n} is ${ok ? '' : 'not '}${word} than ${condition.value}` };
    }
    case 'in': {
      const ok = condition.value.some((v) => same(actual, v));
      const list = condition.value.slice(0, 5).map(show).join(', ') + (condition.value.length > 5 ? ', …' : '');
      return { ok, reason: `${field} ${show(actual)} is ${ok ? '' : 'not '}one of [${list}]` };
    }
  }
}

/** FNV-1a, 32 bits, as 8 hex digits: a short stable fingerprint (not a security hash). */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** Keeps a key short: a long one becomes its start plus a fingerprint of the whole. */
export function shortKey(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 10)}~${fingerprint(text)}`;
}

function correlationOf(rule: Rule, event: unknown): string | null {
  if (rule.correlateBy === undefined) return null;
  const value = fieldValue(event, rule.correlateBy);
  if (value === MISSING || value === null) return MISSING_CORRELATION;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return shortKey(text, MAX_CORRELATION_LENGTH);
}

/**
 * Does the event meet every condition of the rule? Disabled rules never match. An event without
 * the correlation field is counted with the others that lack it, under `(missing)`.
 */
export function matchRule(rule: Rule, event: unknown, options: MatchOptions = {}): RuleMatch {
  if (!rule.enabled) return { matched: false, reasons: ['rule is disabled'], correlationValue: null };
  const reasons: string[] = [];
  for (const condition of rule.match) {
    const { ok, reason, timedOut } = checkCondition(condition, event, options);
    if (!ok) return { matched: false, reasons: [reason], correlationValue: null, ...(timedOut ? { timedOut } : {}) };
    reasons.push(reason);
  }
  const correlationValue = correlationOf(rule, event);
  if (correlationValue !== null) {
    reasons.push(
      correlationValue === MISSING_CORRELATION ? `${rule.correlateBy} is missing: counted with other events without it` : `counted per ${rule.correlateBy}`,
    );
  }
  return { matched: true, reasons, correlationValue };
}

// ---------------------------------------------------------------------------------------------
// The incident a rule opens
// ---------------------------------------------------------------------------------------------

/** `rule:<id>:<correlation>`, or `rule:<id>` for a rule without correlateBy. */
export function ruleDedupKey(ruleId: string, correlation: string | null): string {
  return correlation === null ? `rule:${ruleId}` : `rule:${ruleId}:${correlation}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The title: references filled from the event, the rule and the correlation value. A value the
 * event lacks reads `(unknown)`: a title is never refused for it.
 */
export function renderTitle(rule: Rule, event: unknown, correlation: string | null): string {
  const template = rule.title ?? rule.name;
  const text = template.replace(TITLE_REFERENCE, (_m, ref: string) => {
    let value: unknown;
    if (ref === 'correlation') value = correlation ?? MISSING;
    else if (ref === 'rule.id') value = rule.id;
    else if (ref === 'rule.name') value = rule.name;
    else if (ref.startsWith('event.')) value = fieldValue(event, ref.slice(6));
    else value = MISSING;
    if (value === MISSING || value === null) return '(unknown)';
    return clip(typeof value === 'object' ? JSON.stringify(value) : String(value), 120);
  });
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clip(clean === '' ? rule.name : clean, 300);
}

export const REDACTED_MATCH = '[REDACTED]';

/**
 * A copy of the event with the fields its regex conditions read replaced, when the rule asks for
 * it. A CloudEvent's payload fields are read both as `data.x` and as `x`, so both are replaced.
 */
export function redactMatchedFields(rule: Rule, event: Record<string, unknown>): Record<string, unknown> {
  if (!rule.redactMatched) return event;
  const copy = structuredClone(event);
  const redactAt = (path: string): void => {
    const segments = path.split('.');
    const last = segments.pop() as string;
    const parent = segments.length === 0 ? copy : fieldValue(copy, segments.join('.'));
    if (parent !== null && typeof parent === 'object' && Object.prototype.hasOwnProperty.call(parent, last)) {
      (parent as Record<string, unknown>)[last] = REDACTED_MATCH;
    }
  };
  for (const condition of rule.match) {
    if (condition.op !== 'regex') continue;
    redactAt(condition.field);
    redactAt(condition.field.startsWith('data.') ? condition.field.slice(5) : `data.${condition.field}`);
  }
  return copy;
}

export interface Detection {
  /** Matching events counted in the window for this correlation value (1 for a rule without threshold). */
  count: number;
  correlation: string | null;
  /** The event's key, unique per event (joins are deduplicated by it). */
  eventId: string;
  /** The event's own id, when it had one. */
  sourceEventId?: string;
}

/**
 * The incident draft a rule opens (or joins, with the same dedup key) for one event: `event` is what
 * the rule matched (the title reads it), `context` what the incident keeps (default: the event).
 */
export function draftFromRule(rule: Rule, event: Record<string, unknown>, detection: Detection, context: Record<string, unknown> = event): IncidentDraft {
  const { correlation } = detection;
  const threshold = rule.threshold;
  const counted = threshold
    ? `${detection.count} matching events within ${formatWindow(threshold.window)}${correlation !== null ? ` for ${rule.correlateBy} ${correlation}` : ''} (threshold ${threshold.count})`
    : `a matching event${correlation !== null ? ` for ${rule.correlateBy} ${correlation}` : ''}`;
  return {
    source: 'webhook',
    dedupKey: ruleDedupKey(rule.id, correlation),
    severity: rule.severity,
    category: rule.category,
    title: renderTitle(rule, redactMatchedFields(rule, event), correlation),
    summary: clip(`${rule.description ?? rule.name}. Detected by rule ${rule.id}: ${counted}.`, 10_000),
    affectedServices: typeof event.service === 'string' && event.service.trim() !== '' ? [clip(event.service.trim(), 200)] : [],
    labels: { rule: rule.id, ...(correlation !== null ? { correlation: clip(correlation, 500) } : {}) },
    context: {
      ...redactMatchedFields(rule, context),
      detection: {
        rule: rule.id,
        name: rule.name,
        count: detection.count,
        ...(threshold ? { threshold: { count: threshold.count, windowMs: threshold.window } } : {}),
        ...(rule.correlateBy ? { correlateBy: rule.correlateBy, correlation } : {}),
        ...(rule.channels ? { channels: rule.channels } : {}),
        eventId: detection.eventId,
      },
    },
    ...(detection.sourceEventId !== undefined ? { linkedEventId: clip(detection.sourceEventId, 200) } : {}),
    requireApproval: false,
    ...(rule.runbookId ? { runbookId: rule.runbookId } : {}),
    severityReasons: [`rule ${rule.id} → ${rule.severity}`],
  };
}

/**
 * The tenant settings an incident of this rule starts with: the channels the rule names get its
 * notifications whatever their severity and category filters (their `events` filter still
 * applies); other channels are routed as usual. Names the tenant has no channel for are ignored.
 */
export function settingsForRule(settings: TenantSettings, rule: Pick<Rule, 'channels'>): TenantSettings {
  const named = new Set(rule.channels ?? []);
  if (named.size === 0) return settings;
  return {
    ...settings,
    channels: settings.channels.map((c) => {
      if (!named.has(c.name)) return c;
      const { categories: _ignored, ...rest } = c;
      return { ...rest, minSeverity: 'info' };
    }),
  };
}

/** Channels the rule names that the tenant does not have. */
export function unknownChannels(settings: TenantSettings, rule: Pick<Rule, 'channels'>): string[] {
  const known = new Set(settings.channels.map((c) => c.name));
  return (rule.channels ?? []).filter((name) => !known.has(name));
}

/** 300000 → "5m" */
export function formatWindow(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
