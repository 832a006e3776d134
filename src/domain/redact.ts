/** Key names that always hold secrets, matched case-insensitively anywhere in the key. */
const ALWAYS_SENSITIVE = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'api-key',
  'authorization',
  'private_key',
  'privatekey',
  'credential',
  'cookie',
  'routingkey',
  'routing_key',
];

export const REDACTED = '[REDACTED]';

function isSensitive(key: string, extra: readonly string[]): boolean {
  const lower = key.toLowerCase();
  return ALWAYS_SENSITIVE.some((s) => lower.includes(s)) || extra.some((s) => lower === s.toLowerCase());
}

/** Only plain objects are walked: a Date or Buffer is a value, not a bag of keys. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of `value` with the values of sensitive keys replaced, at any depth. Used on everything
 * that leaves the engine or is written to the audit trail.
 */
export function redact<T>(value: T, extraKeys: readonly string[] = []): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isSensitive(k, extraKeys) ? REDACTED : walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

/**
 * `key=value`, `key: value`, `"key": "value"` in free text; the value is a quoted string, or a
 * word optionally preceded by an auth scheme (`Authorization: Bearer <token>`). Keys start after a
 * non-word character and are at most 128 characters, which keeps matching linear on long output.
 */
const KEY_VALUE =
  /(?<![\w.])(?<![\w.]-)(["']?)([A-Za-z_][\w.-]{0,127})\1([ \t]*[:=][ \t]*)("(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|(?:(?:bearer|basic|digest|token)[ \t]+)?[^\s"',;&]+)/gi;

/**
 * `redact` for text such as command output: a JSON document is redacted as a value; otherwise the
 * value after every sensitive key written as `key=value`, `key: value` or `"key": "value"` is
 * replaced. The same keys count as sensitive as in `redact`.
 */
export function redactText(text: string, extraKeys: readonly string[] = []): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return redactPairs(text, extraKeys); // not JSON: redact as text
    }
    const strings = (v: unknown): unknown => {
      if (typeof v === 'string') return redactPairs(v, extraKeys);
      if (Array.isArray(v)) return v.map(strings);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strings(x)]));
      return v;
    };
    return JSON.stringify(strings(redact(parsed, extraKeys)));
  }
  return redactPairs(text, extraKeys);
}

function redactPairs(text: string, extraKeys: readonly string[]): string {
  return text.replace(KEY_VALUE, (match: string, quote: string, key: string, separator: string, value: string) => {
    if (!isSensitive(key, extraKeys)) return match;
    const quoted = value.startsWith('"') || value.startsWith("'");
    return `${quote}${key}${quote}${separator}${quoted ? `${value[0]}${REDACTED}${value[0]}` : REDACTED}`;
  });
}
