import { LookupAddress } from 'node:dns';
import { createServer } from 'node:net';
import { ApplicationFailure } from '@temporalio/activity';
import { NON_RETRYABLE, Resolver, callOut, resolveAllowed } from '../../src/activities/egress';
import { canonicalIp, isHostAllowed, isInternalAddress, isResolvedAddressAllowed } from '../../src/domain/egress';
import { Receiver } from '../support/receiver';

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

/** A resolver that answers from a table, as a hostile or rebinding DNS server would. */
function fakeDns(table: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('IP addresses in other forms', () => {
  it.each([
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::FFFF:169.254.169.254', '::ffff:a9fe:a9fe'],
    ['[::1]', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['127.0.0.1', '127.0.0.1'],
  ])('canonicalIp(%p) is %p', (text, canonical) => {
    expect(canonicalIp(text)).toBe(canonical);
  });

  it.each(['127.000.0.1', '1.2.3', '0x7f000001', '2130706433', 'localhost', '1::2::3', ':::'])('%p is not an address in canonical syntax', (text) => {
    expect(canonicalIp(text)).toBeUndefined();
  });

  it('the URL parser turns hex, decimal, octal and short IPv4 forms into dotted decimal before the check', () => {
    for (const url of ['http://0x7f000001/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://127.1/', 'http://0x7f.1/']) {
      expect(new URL(url).hostname).toBe('127.0.0.1');
    }
    for (const url of ['http://0xa9fea9fe/', 'http://2852039166/', 'http://0251.0376.0251.0376/', 'http://169.254.43518/']) {
      const host = new URL(url).hostname;
      expect(host).toBe('169.254.169.254');
      expect(isHostAllowed(host, LOOPBACK)).toBe(false);
    }
  });

  it('an IP address on the list matches in any IPv6 spelling, but an IPv4-mapped address must be listed as such', () => {
    expect(isHostAllowed('[0:0:0:0:0:0:0:1]', LOOPBACK)).toBe(true);
    expect(isHostAllowed(new URL('http://[0:0::1]/').hostname, ['0:0:0:0:0:0:0:1'])).toBe(true);
    expect(isHostAllowed(new URL('http://[::ffff:169.254.169.254]/').hostname, LOOPBACK)).toBe(false);
    expect(isHostAllowed(new URL('http://[::ffff:127.0.0.1]/').hostname, LOOPBACK)).toBe(false);
    expect(isHostAllowed(new URL('http://[::ffff:127.0.0.1]/').hostname, ['::ffff:127.0.0.1'])).toBe(true);
  });

  it('a wildcard rule never matches an IP address', () => {
    expect(isHostAllowed('10.0.0.1', ['*.0.0.1'])).toBe(false);
    expect(isHostAllowed('api.example.com', ['*.example.com'])).toBe(true);
  });
});

describe('internal addresses', () => {
  it.each([
    '127.0.0.1',
    '127.0.0.2',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::',
    '::1',
    '::ffff:169.254.169.254',
    '::ffff:10.0.0.1',
    'fd00:ec2::254',
    'fe80::1',
    '64:ff9b::a9fe:a9fe',
    '2002:a9fe:a9fe::1',
    '224.0.0.1',
    'not an address',
  ])('%p is internal', (address) => {
    expect(isInternalAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '64:ff9b::808:808', '172.32.0.1'])('%p is public', (address) => {
    expect(isInternalAddress(address)).toBe(false);
  });
});

describe('isResolvedAddressAllowed', () => {
  it('keeps the default loopback-only behaviour: localhost may resolve to loopback, nothing else', () => {
    expect(isResolvedAddressAllowed('localhost', '127.0.0.1', LOOPBACK)).toBe(true);
    expect(isResolvedAddressAllowed('localhost', '::1', LOOPBACK)).toBe(true);
    expect(isResolvedAddressAllowed('LOCALHOST.', '127.0.0.5', LOOPBACK)).toBe(true);
    expect(isResolvedAddressAllowed('localhost', '10.0.0.1', LOOPBACK)).toBe(false);
    expect(isResolvedAddressAllowed('localhost', '169.254.169.254', LOOPBACK)).toBe(false);
    expect(isResolvedAddressAllowed('localhost', '8.8.8.8', LOOPBACK)).toBe(true); // public, and localhost is on the list
  });

  it('an allowlisted name may not lead to an internal address that is not itself on the list', () => {
    const list = ['*.example.com', '10.0.0.7'];
    expect(isResolvedAddressAllowed('api.example.com', '93.184.216.34', list)).toBe(true);
    expect(isResolvedAddressAllowed('api.example.com', '169.254.169.254', list)).toBe(false);
    expect(isResolvedAddressAllowed('api.example.com', '::ffff:169.254.169.254', list)).toBe(false);
    expect(isResolvedAddressAllowed('api.example.com', '127.0.0.1', list)).toBe(false);
    expect(isResolvedAddressAllowed('api.example.com', 'fd00::1', list)).toBe(false);
    expect(isResolvedAddressAllowed('api.example.com', '10.0.0.7', list)).toBe(true);
    expect(isResolvedAddressAllowed('api.example.com', '::ffff:10.0.0.7', list)).toBe(true);
  });

  it('a loopback alias other than localhost needs its address on the list', () => {
    expect(isResolvedAddressAllowed('runsc', '127.0.0.1', ['runsc', '::1'])).toBe(false);
    expect(isResolvedAddressAllowed('runsc', '127.0.0.1', ['runsc', '127.0.0.1'])).toBe(true);
  });
});

describe('resolveAllowed', () => {
  it('refuses, for good, an allowlisted name that resolves to a disallowed address, naming the address', async () => {
    const dns = fakeDns({ 'evil.example.com': ['93.184.216.34', '169.254.169.254'] });
    const err = await failure(resolveAllowed('evil.example.com', ['*.example.com'], { resolve: dns }));
    expect(err.type).toBe(NON_RETRYABLE.egressDenied);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('169.254.169.254');
    expect(err.message).not.toContain('93.184.216.34');
  });

  it('does not resolve a name that is not on the list at all', async () => {
    const dns = fakeDns({ 'metadata.google.internal': ['169.254.169.254'] });
    const err = await failure(resolveAllowed('metadata.google.internal', LOOPBACK, { resolve: dns }));
    expect(err.type).toBe(NON_RETRYABLE.egressDenied);
    expect(dns.asked).toEqual([]);
  });

  it('does not resolve IP addresses', async () => {
    const dns = fakeDns({});
    await expect(resolveAllowed('127.0.0.1', LOOPBACK, { resolve: dns })).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
    await expect(resolveAllowed('[::1]', LOOPBACK, { resolve: dns })).resolves.toEqual([{ address: '::1', family: 6 }]);
    expect(dns.asked).toEqual([]);
  });

  it('a name that does not resolve is a retryable error', async () => {
    await expect(resolveAllowed('gone.example.com', ['*.example.com'], { resolve: fakeDns({}) })).rejects.toThrow(/ENOTFOUND/);
    await expect(resolveAllowed('gone.example.com', ['*.example.com'], { resolve: fakeDns({}) })).rejects.not.toBeInstanceOf(ApplicationFailure);
  });

  it('with the real resolver, localhost passes the default list', async () => {
    const addresses = await resolveAllowed('localhost', LOOPBACK);
    expect(addresses.length).toBeGreaterThan(0);
  });
});

describe('callOut connects only to the addresses it checked', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().start();
  });
  afterAll(async () => receiver?.stop());

  it('an allowlisted name is connected at the checked address (pinned), not resolved again', async () => {
    const port = new URL(receiver.url).port;
    // `api.example.com` exists nowhere: the request can only arrive through the pinned address.
    const dns = fakeDns({ 'api.example.com': ['127.0.0.1'] });
    const res = await callOut(
      { method: 'POST', url: `http://api.example.com:${port}/pinned`, body: { a: 1 }, idempotencyKey: 'k1' },
      ['*.example.com', '127.0.0.1'],
      { resolve: dns },
    );
    expect(res.status).toBe(200);
    expect(dns.asked).toEqual(['api.example.com']);
    const got = receiver.requests.find((r) => r.path === '/pinned');
    expect(got?.headers.host).toBe(`api.example.com:${port}`);
    expect(got?.body).toEqual({ a: 1 });
    expect(got?.headers['idempotency-key']).toBe('k1');
  });

  it('the same name resolving to an address off the list is refused before any connection', async () => {
    let connections = 0;
    const listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.2', resolve));
    const { port } = listener.address() as { port: number };
    try {
      const dns = fakeDns({ 'api.example.com': ['127.0.0.2'] });
      const err = await failure(
        callOut({ method: 'GET', url: `http://api.example.com:${port}/x`, idempotencyKey: 'k2' }, ['*.example.com', '127.0.0.1'], { resolve: dns }),
      );
      expect(err.type).toBe(NON_RETRYABLE.egressDenied);
      expect(err.message).toContain('127.0.0.2');
      // The same listener is reachable when its address is allowed: the refusal was the check's.
      const ok = await callOut({ method: 'GET', url: `http://127.0.0.2:${port}/x`, idempotencyKey: 'k3', timeoutMs: 2_000 }, ['127.0.0.2']).catch(
        () => 'connected',
      );
      expect(ok).toBe('connected');
      expect(connections).toBe(1);
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  it('a header value with CR/LF is refused for good, not sent', async () => {
    const before = receiver.requests.length;
    const err = await failure(
      callOut({ method: 'POST', url: `${receiver.url}/crlf`, headers: { 'x-note': 'a\r\nx-injected: 1' }, body: {}, idempotencyKey: 'k4' }, LOOPBACK),
    );
    expect(err.type).toBe(NON_RETRYABLE.invalidParams);
    expect(receiver.requests.length).toBe(before);
  });

  it('reads at most a bounded part of a huge answer', async () => {
    receiver.on('GET', '/huge', { body: { blob: 'x'.repeat(2_000_000) } });
    const res = await callOut({ method: 'GET', url: `${receiver.url}/huge`, idempotencyKey: 'k5' }, LOOPBACK);
    expect(typeof res.body).toBe('string');
    expect((res.body as string).length).toBe(4_096);
  });

  it('does not follow a redirect, even to an allowed host', async () => {
    receiver.on('GET', '/moved', { status: 302, body: {} });
    const err = await failure(callOut({ method: 'GET', url: `${receiver.url}/moved`, idempotencyKey: 'k6' }, LOOPBACK));
    expect(err.type).toBe(NON_RETRYABLE.rejectedByTarget);
    expect(err.message).toContain('redirects are not followed');
  });
});
