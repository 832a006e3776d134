import { isHostAllowed } from '../../src/domain/egress';

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

describe('isHostAllowed with the default loopback list', () => {
  it.each(['127.0.0.1', 'localhost', 'LOCALHOST', 'LocalHost', 'localhost.', '::1', '[::1]'])('allows %p', (host) => {
    expect(isHostAllowed(host, LOOPBACK)).toBe(true);
  });

  it('accepts the hostname exactly as the URL API writes it', () => {
    expect(isHostAllowed(new URL('http://[::1]:8080/x').hostname, LOOPBACK)).toBe(true);
    expect(isHostAllowed(new URL('http://LOCALHOST:3000/').hostname, LOOPBACK)).toBe(true);
    expect(isHostAllowed(new URL('http://127.0.0.1./').hostname, LOOPBACK)).toBe(true);
    expect(isHostAllowed(new URL('http://127.0.0.1.evil.com/').hostname, LOOPBACK)).toBe(false);
  });

  it.each([
    '127.0.0.1.evil.com',
    'localhost.evil.com',
    'evil-localhost',
    'evillocalhost',
    'localhost.localdomain',
    'sub.localhost',
    '127.0.0.2',
    '127.0.0.10',
    '0.0.0.0',
    '::2',
    '[::2]',
    '::ffff:127.0.0.1',
    '169.254.169.254',
    'example.com',
    '',
    ' localhost',
    'localhost..',
    '[localhost',
  ])('denies %p', (host) => {
    expect(isHostAllowed(host, LOOPBACK)).toBe(false);
  });
});

describe('isHostAllowed with wildcard rules', () => {
  const list = ['*.example.com'];

  it.each(['api.example.com', 'a.b.example.com', 'API.Example.COM', 'api.example.com.'])('allows the subdomain %p', (host) => {
    expect(isHostAllowed(host, list)).toBe(true);
  });

  it.each(['example.com', '.example.com', 'evilexample.com', 'example.com.evil.net', 'api.example.co', 'api-example.com', 'example.com.'])(
    'denies %p',
    (host) => {
      expect(isHostAllowed(host, list)).toBe(false);
    },
  );

  it('normalises rule case and surrounding spaces', () => {
    expect(isHostAllowed('api.example.com', ['  *.EXAMPLE.com  '])).toBe(true);
    expect(isHostAllowed('example.com', [' Example.COM '])).toBe(true);
  });

  it('a bare "*" is not a wildcard', () => {
    expect(isHostAllowed('anything.com', ['*'])).toBe(false);
    expect(isHostAllowed('anything', ['*'])).toBe(false);
  });

  it('an exact rule does not allow subdomains', () => {
    expect(isHostAllowed('api.example.com', ['example.com'])).toBe(false);
  });
});

describe('isHostAllowed with an empty list', () => {
  it('denies everything', () => {
    expect(isHostAllowed('localhost', [])).toBe(false);
    expect(isHostAllowed('127.0.0.1', [])).toBe(false);
  });
});
