/** Key names that always hold secrets, matched case-insensitively anywhere in the key. */
const ALWAYS_SENSITIVE = ['password', 'passwd', 'secret', 'token', 'apikey', 'api_key', 'api-key', 'authorization', 'private_key', 'privatekey', 'credential', 'cookie'];

export const REDACTED = '[REDACTED]';

function isSensitive(key: string, extra: readonly string[]): boolean {
  const lower = key.toLowerCase();
  return ALWAYS_SENSITIVE.some((s) => lower.includes(s)) || extra.some((s) => lower === s.toLowerCase());
}

/** Only plain objects are walked: a Date or Buffer is a value, not a bag of keys. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
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
