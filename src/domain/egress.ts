/**
 * Whether an outbound call to `hostname` is allowed. Entries are exact host names or addresses, or
 * `*.example.com` for any subdomain. Matching is on the name as written in the URL; with the default
 * loopback-only list nothing else can be reached.
 */
export function isHostAllowed(hostname: string, allowlist: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  return allowlist.some((entry) => {
    const rule = entry.toLowerCase().trim();
    if (rule.startsWith('*.')) return host.endsWith(rule.slice(1)) && host.length > rule.length - 1;
    return host === rule;
  });
}
