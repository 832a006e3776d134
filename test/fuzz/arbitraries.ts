import fc from 'fast-check';

/**
 * Shared generators of hostile input for the fuzz suites. Bodies are built as JSON *text*, because
 * what a client sends is text: keys like `__proto__` must be own keys (as JSON.parse makes them),
 * and nesting of thousands of levels cannot go through JSON.stringify.
 */

/** Seed for every fuzz run: FUZZ_SEED=<n> replays one; each suite prints the seed it used. */
export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2_147_483_647;

/** Keys that reach for prototypes when code copies objects carelessly. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty', 'toString', 'valueOf'];

/** Strings that are valid JSON but hostile further in: NUL, lone surrogates, direction overrides, huge. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\u202e\u0644\u0627',
  '\u200b\u200d\ufeff',
  'e\u0301\u0301\u0301',
  '😀'.repeat(50),
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2f',
  '$(touch /tmp/pwned)',
  '`id`; rm -rf /',
  "'; DROP TABLE incidents; --",
  '{{incident.context.password}}',
  '<script>alert(1)</script>',
  'http://169.254.169.254/latest/meta-data/',
  '\r\nX-Injected: 1',
  'null',
  '-1',
  '1e309',
];

/** Numbers a schema with bounds should refuse or survive. */
export const NASTY_NUMBERS = [-1, -0.5, 0.5, 1.5, 101, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e-300];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 301, max: 12_000 }).map((n) => 'x'.repeat(n)) },
);

/** Any JSON value, with unicode strings and prototype keys among the keys. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    nastyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 12 })), tie('value')), { maxLength: 4 })
      .map((entries) => ownObject(entries)),
  ),
})).value;

/** An object with exactly these own keys, `__proto__` included (assignment would set the prototype instead). */
export function ownObject(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Nesting as text: `[[[…1…]]]` or `{"a":{"a":…}}`, `depth` levels. */
export function deepJsonText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const DEEP_MARK = '\u0001deep:';

/** A placeholder value that `toJsonText` replaces with nesting of that depth. */
export function deepPlaceholder(depth: number, kind: 'array' | 'object'): string {
  return `${DEEP_MARK}${kind}:${depth}`;
}

/** JSON text of `value`, placeholders expanded into deep nesting. */
export function toJsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.replace(/"\\u0001deep:(array|object):(\d+)"/g, (_m, kind: 'array' | 'object', depth: string) => deepJsonText(Number(depth), kind));
}

export type JsonPath = (string | number)[];

/** Every path to a value inside `value` (the root included as []). */
export function pathsOf(value: unknown, at: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...at, k], out);
  return out;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function parentAndKey(root: unknown, path: JsonPath): { parent: Record<string | number, unknown>; key: string | number } | undefined {
  if (path.length === 0) return undefined;
  let parent = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  return { parent, key: path[path.length - 1]! };
}

function setAt(root: unknown, path: JsonPath, value: unknown): unknown {
  const place = parentAndKey(root, path);
  if (!place) return value;
  Object.defineProperty(place.parent, place.key, { value, enumerable: true, writable: true, configurable: true });
  return root;
}

/** A copy of `value` with the value at `path` replaced. */
export function withValueAt<T>(value: T, path: JsonPath, replacement: unknown): T {
  return setAt(clone(value), path, replacement) as T;
}

/** A value of another JSON type than `value`. */
function otherType(value: unknown): fc.Arbitrary<unknown> {
  const all: [string, fc.Arbitrary<unknown>][] = [
    ['string', nastyString],
    ['number', fc.oneof(fc.constantFrom(...NASTY_NUMBERS), fc.integer())],
    ['boolean', fc.boolean()],
    ['null', fc.constant(null)],
    ['array', fc.array(fc.oneof(fc.integer(), nastyString), { maxLength: 3 })],
    ['object', fc.constant({ unexpected: true })],
  ];
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return fc.oneof(...all.filter(([k]) => k !== kind).map(([, a]) => a));
}

/**
 * Bad variants of a valid sample body: a field of the wrong type, a missing field, an extra field
 * (prototype keys among them), a huge string, deep nesting, hostile unicode, a number out of range,
 * or no object at all. Each returns JSON text.
 */
export function mutations(sample: Record<string, unknown>): fc.Arbitrary<string> {
  const paths = pathsOf(sample).filter((p) => p.length > 0);
  const fieldPath = fc.constantFrom(...paths);
  const objectPaths = [
    [],
    ...paths.filter((p) => {
      let v: unknown = sample;
      for (const k of p) v = (v as Record<string | number, unknown>)[k];
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    }),
  ] as JsonPath[];
  const valueAt = (p: JsonPath): unknown => p.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], sample);

  const wrongType = fieldPath.chain((p) => otherType(valueAt(p)).map((v) => toJsonText(setAt(clone(sample), p, v))));
  const missing = fieldPath.map((p) => {
    const copy = clone(sample);
    const place = parentAndKey(copy, p);
    if (place) {
      if (Array.isArray(place.parent)) place.parent.splice(Number(place.key), 1);
      else delete place.parent[place.key];
    }
    return toJsonText(copy);
  });
  const extra = fc
    .tuple(fc.constantFrom(...objectPaths), fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ minLength: 1, maxLength: 20 })), hostileJson)
    .map(([p, key, v]) => {
      const copy = clone(sample);
      const target = p.length === 0 ? copy : (p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], copy) as Record<string, unknown>);
      Object.defineProperty(target, key, { value: v, enumerable: true, writable: true, configurable: true });
      return toJsonText(copy);
    });
  // Mostly tens of kilobytes, sometimes past the 256 kB body limit (413).
  const size = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 10_000, max: 40_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 240_000, max: 300_000 }) },
  );
  const huge = fc.tuple(fieldPath, size).map(([p, n]) => toJsonText(setAt(clone(sample), p, 'x'.repeat(n))));
  // Just past the 64-level limit, thousands of levels, sometimes 20,000.
  const depth = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 65, max: 200 }) },
    { weight: 4, arbitrary: fc.integer({ min: 201, max: 3_000 }) },
    { weight: 1, arbitrary: fc.constant(20_000) },
  );
  const deep = fc
    .tuple(fc.constantFrom(...objectPaths, ...paths), depth, fc.constantFrom<'array' | 'object'>('array', 'object'))
    .map(([p, depth, kind]) => toJsonText(setAt(clone(sample), p, deepPlaceholder(depth, kind))));
  const unicode = fc
    .tuple(fieldPath, fc.constantFrom(...NASTY_STRINGS.filter((s) => /[\u0000\ud800-\udfff]/.test(s))))
    .map(([p, s]) => toJsonText(setAt(clone(sample), p, s)));
  const outOfRange = fc.tuple(fieldPath, fc.constantFrom(...NASTY_NUMBERS, -1e6, 1e6)).map(([p, n]) => toJsonText(setAt(clone(sample), p, n)));
  const notAnObject = fc.oneof(
    fc.constantFrom('[]', '"text"', '42', 'true', 'null', '[{}]'),
    hostileJson.map((v) => toJsonText(v)),
  );
  return fc.oneof(
    { weight: 3, arbitrary: wrongType },
    { weight: 2, arbitrary: missing },
    { weight: 3, arbitrary: extra },
    { weight: 1, arbitrary: huge },
    { weight: 1, arbitrary: deep },
    { weight: 2, arbitrary: unicode },
    { weight: 2, arbitrary: outOfRange },
    { weight: 1, arbitrary: notAnObject },
  );
}

/** Bodies that are not JSON at all, or JSON spelled wrong. */
export const malformedJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{',
    '{"a":}',
    "{'a':1}",
    '{"a":1,}',
    '[1,2',
    'NaN',
    '{"a":NaN}',
    '{"a":Infinity}',
    'undefined',
    '\u0000',
    '{"a":"\u0001"}',
    '\ufeff{}',
    '{"a":1}{"b":2}',
    '//x\n{}',
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
);
