import { REDACTED, redact } from '../../src/domain/redact';

describe('redact', () => {
  it('uses a fixed marker', () => {
    expect(REDACTED).toBe('[REDACTED]');
  });

  it.each([
    'password',
    'PASSWORD',
    'db_password',
    'passwd',
    'clientSecret',
    'secret_key',
    'token',
    'access_token',
    'refreshTokens',
    'apiKey',
    'api_key',
    'x-api-key',
    'Authorization',
    'proxy-authorization',
    'private_key',
    'privateKey',
    'credentials',
    'Cookie',
    'set-cookie',
  ])('always redacts the key %p', (key) => {
    expect(redact({ [key]: 'hunter2', keep: 'visible' })).toEqual({ [key]: REDACTED, keep: 'visible' });
  });

  it.each(['user', 'author', 'host', 'key', 'api', 'pass', 'tok', 'private', 'secre'])('keeps the ordinary key %p', (key) => {
    expect(redact({ [key]: 'value' })).toEqual({ [key]: 'value' });
  });

  it('redacts at any depth, inside arrays too', () => {
    const input = {
      incident: { title: 't', context: { db: { password: 'p', host: 'h' } } },
      headers: [{ authorization: 'Bearer x', accept: 'json' }, 'plain'],
      matrix: [[{ token: 't' }]],
    };
    expect(redact(input)).toEqual({
      incident: { title: 't', context: { db: { password: REDACTED, host: 'h' } } },
      headers: [{ authorization: REDACTED, accept: 'json' }, 'plain'],
      matrix: [[{ token: REDACTED }]],
    });
  });

  it('replaces a sensitive key holding an object or array wholesale', () => {
    expect(redact({ credentials: { user: 'u', pass: 'p' }, tokens: ['a', 'b'], secret: null, apiKey: 0 })).toEqual({
      credentials: REDACTED,
      tokens: REDACTED,
      secret: REDACTED,
      apiKey: REDACTED,
    });
  });

  it('redacts extra keys by exact, case-insensitive name', () => {
    const input = { ssn: '123', SSN_last4: '0123', Account: 'acc', accountId: 'id', nested: { SSN: '456' } };
    expect(redact(input, ['ssn', 'ACCOUNT'])).toEqual({ ssn: REDACTED, SSN_last4: '0123', Account: REDACTED, accountId: 'id', nested: { SSN: REDACTED } });
  });

  it('does not change the input', () => {
    const input = { password: 'p', nested: { token: 't' }, list: [{ secret: 's' }] };
    const copy = JSON.parse(JSON.stringify(input)) as typeof input;
    const output = redact(input);
    expect(input).toEqual(copy);
    expect(output).not.toBe(input);
    expect(output.nested).not.toBe(input.nested);
  });

  it('passes primitives and null through', () => {
    expect(redact('password')).toBe('password');
    expect(redact(42)).toBe(42);
    expect(redact(null)).toBeNull();
    expect(redact(undefined)).toBeUndefined();
    expect(redact(['token', 1])).toEqual(['token', 1]);
  });

  it('keeps non-sensitive values of every JSON type', () => {
    const input = { s: 's', n: 1.5, b: false, z: null, a: [], o: {} };
    expect(redact(input)).toEqual(input);
  });

  it('keeps a Date as a value instead of walking it', () => {
    const at = new Date('2024-01-02T03:04:05.000Z');
    const output = redact({ at, token: 'x' });
    expect(output.at).toBe(at);
    expect(output.token).toBe(REDACTED);
  });
});
