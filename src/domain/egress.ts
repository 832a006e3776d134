/**
 * The egress allowlist (AIRE_EGRESS_ALLOWLIST): which hosts actions may call. Pure code; the
 * activity side (src/activities/egress.ts) resolves names and connects only to checked addresses.
 *
 * Two checks, both needed:
 * 1. the host as written in the URL: an exact name (`api.example.com`), `*.example.com` for any
 *    subdomain, or an IP address. IP addresses are compared in canonical form (the URL parser has
 *    already turned `0x7f000001`, `2130706433` and `0177.0.0.1` into `127.0.0.1`); a wildcard never
 *    matches an IP address.
 * 2. for a name, every address it resolves to (`isResolvedAddressAllowed`): an allowlisted name must
 *    not lead to an internal address (loopback, private, link-local such as the cloud metadata
 *    service 169.254.169.254…) unless that address is on the list itself, or the name is `localhost`
 *    and the list allows `localhost`. With the default loopback-only list, `localhost` is the only
 *    name allowed and it may only resolve to loopback.
 */

import { defined } from './must';

type Bytes = number[];

function parseIpv4(text: string): Bytes | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^(0|[1-9]\d{0,2})$/.test(p) ? Number(p) : Number.NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : undefined;
}

function parseIpv6(text: string): Bytes | undefined {
  let head = text;
  let tail4: Bytes = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // An IPv4 address written in the last 32 bits: `::ffff:1.2.3.4`, `::1.2.3.4`.
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail4 = v4;
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsWanted = 8 - tail4.length / 2;
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
    return groups.map((g) => parseInt(g, 16));
  };
  const left = parse(defined(halves[0], 'the groups before "::"'));
  const right = halves.length === 2 ? parse(defined(halves[1], 'the groups after "::"')) : [];
  if (!left || !right) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = groupsWanted - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...Array.from({ length: missing }, () => 0), ...right];
  } else {
    groups = left;
  }
  if (groups.length !== groupsWanted) return undefined;
  return [...groups.flatMap((g) => [g >> 8, g & 0xff]), ...tail4];
}

/** The bytes of an IPv4 (4) or IPv6 (16) address, or undefined when `text` is not one. */
export function ipBytes(text: string): Bytes | undefined {
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  if (bare.includes(':')) return parseIpv6(bare.replace(/%.*$/, ''));
  return parseIpv4(bare);
}

function formatIp(bytes: Bytes): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (defined(bytes[2 * i], 'an IPv6 address byte') << 8) | defined(bytes[2 * i + 1], 'an IPv6 address byte'));
  // The longest run of zero groups (two or more) becomes "::", as RFC 5952 writes it.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.length < 2) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** `::ffff:a.b.c.d` (IPv4-mapped) as the IPv4 address it stands for; other addresses unchanged. */
function unmapped(bytes: Bytes): Bytes {
  if (bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12);
  return bytes;
}

/** The canonical text of an IP address (`0:0::1` → `::1`), or undefined when `text` is not one. */
export function canonicalIp(text: string): string | undefined {
  const bytes = ipBytes(text);
  return bytes ? formatIp(bytes) : undefined;
}

/** A host as written in a URL or on the list: lowercase, without brackets or a trailing dot. */
function normaliseHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

function ruleOf(entry: string): string {
  return entry.toLowerCase().trim();
}

/**
 * Whether an outbound call to `hostname` (as the URL parser wrote it) is allowed by the list. An
 * IP address must be on the list (compared canonically, IPv4-mapped forms are not unwrapped: they
 * must be listed as such); a name must equal an entry or be a subdomain of a `*.` entry.
 */
export function isHostAllowed(hostname: string, allowlist: readonly string[]): boolean {
  const host = normaliseHost(hostname);
  const ip = canonicalIp(host);
  return allowlist.some((entry) => {
    const rule = ruleOf(entry);
    if (ip !== undefined) return canonicalIp(rule.replace(/^\[(.*)\]$/, '$1')) === ip;
    if (rule.startsWith('*.')) return host.endsWith(rule.slice(1)) && host.length > rule.length - 1;
    return host === rule;
  });
}

/** CIDR blocks that are not the public internet, each as [address, prefix length]. */
const INTERNAL_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const INTERNAL_V6: [string, number][] = [
  ['::', 96], // unspecified, loopback, IPv4-compatible
  ['64:ff9b::', 96], // NAT64: judged by the IPv4 address inside, see below
  ['64:ff9b:1::', 48], // local NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID…)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: judged by the IPv4 address inside, see below
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

function inBlock(bytes: Bytes, block: [string, number]): boolean {
  const base = ipBytes(block[0]) as Bytes;
  if (base.length !== bytes.length) return false;
  let bits = block[1];
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((defined(bytes[i], 'an address byte') & mask) !== (defined(base[i], 'an address block byte') & mask)) return false;
  }
  return true;
}

/** Whether an address is anything but a public unicast address: loopback, private, link-local, metadata… */
export function isInternalAddress(address: string): boolean {
  const parsed = ipBytes(address);
  if (!parsed) return true; // not an address at all: never treat as public
  const bytes = unmapped(parsed);
  if (bytes.length === 4) return INTERNAL_V4.some((b) => inBlock(bytes, b));
  // NAT64 and 6to4 carry an IPv4 address that is what would really be reached.
  if (inBlock(bytes, ['64:ff9b::', 96])) return isInternalAddress(bytes.slice(12).join('.'));
  if (inBlock(bytes, ['2002::', 16])) return isInternalAddress(bytes.slice(2, 6).join('.'));
  return INTERNAL_V6.some((b) => inBlock(bytes, b));
}

function isLoopback(bytes: Bytes): boolean {
  return bytes.length === 4 ? bytes[0] === 127 : bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1;
}

/**
 * Whether `address`, one of the addresses the allowlisted name `hostname` resolved to, may be
 * connected to: an address on the list (canonically, IPv4-mapped unwrapped) always; a loopback
 * address when the name is `localhost` and `localhost` is on the list; any other internal address
 * never; a public address yes (the name itself was allowlisted).
 */
export function isResolvedAddressAllowed(hostname: string, address: string, allowlist: readonly string[]): boolean {
  const parsed = ipBytes(address);
  if (!parsed) return false;
  const bytes = unmapped(parsed);
  const canonical = formatIp(bytes);
  const rules = allowlist.map(ruleOf);
  const listed = rules.some((rule) => {
    const ruleBytes = ipBytes(rule);
    return ruleBytes !== undefined && formatIp(unmapped(ruleBytes)) === canonical;
  });
  if (listed) return true;
  if (normaliseHost(hostname) === 'localhost' && rules.includes('localhost') && isLoopback(bytes)) return true;
  return !isInternalAddress(canonical);
}
