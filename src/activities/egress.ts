import { LookupAddress, promises as dns } from 'node:dns';
import { IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LookupFunction, isIP } from 'node:net';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/activity';
import { isHostAllowed, isResolvedAddressAllowed } from '../domain/egress';

export const NON_RETRYABLE = {
  egressDenied: 'EgressDenied',
  rejectedByTarget: 'RejectedByTarget',
  invalidParams: 'InvalidParams',
} as const;

export interface OutboundRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Sent as is instead of JSON-encoding `body`, for bodies that were signed. */
  rawBody?: string;
  idempotencyKey: string;
  timeoutMs?: number;
}

export interface OutboundResponse {
  status: number;
  body: unknown;
}

/** Resolves a name to all its addresses; tests inject one that answers what they need. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export interface EgressOptions {
  resolve?: Resolver;
}

const MAX_BODY_CHARS = 4_096;
/** Read at most this much of an answer: enough for MAX_BODY_CHARS characters of any UTF-8. */
const MAX_BODY_BYTES = MAX_BODY_CHARS * 4;

const denied = (message: string): ApplicationFailure => ApplicationFailure.nonRetryable(`egress denied: ${message}`, NON_RETRYABLE.egressDenied);

/** Checks a URL against the egress allowlist as written; a denied host fails the step for good. */
export function assertEgressAllowed(url: string, allowlist: readonly string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ApplicationFailure.nonRetryable(`"${url}" is not a valid URL`, NON_RETRYABLE.invalidParams);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw denied(`only http and https are allowed, not ${parsed.protocol}`);
  }
  assertHostAllowed(parsed.hostname, allowlist);
  return parsed;
}

/** The host part of `assertEgressAllowed`, for protocols other than HTTP (SMTP). */
export function assertHostAllowed(hostname: string, allowlist: readonly string[]): void {
  if (!isHostAllowed(hostname, allowlist)) {
    throw denied(`host "${hostname}" is not on the egress allowlist (AIRE_EGRESS_ALLOWLIST)`);
  }
}

/**
 * The addresses an allowed host may be reached at: an IP address as is; a name resolved (every
 * address, IPv4 and IPv6), each address checked (`isResolvedAddressAllowed`): a name on the list
 * that resolves to an internal address not on the list (169.254.169.254, 10.x, another loopback…)
 * is refused for good. A name that does not resolve is a retryable error.
 */
export async function resolveAllowed(hostname: string, allowlist: readonly string[], options: EgressOptions = {}): Promise<LookupAddress[]> {
  assertHostAllowed(hostname, allowlist);
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(host);
  if (family !== 0) return [{ address: host, family }];
  const addresses = await (options.resolve ?? systemResolver)(host);
  if (addresses.length === 0) throw new Error(`${hostname} did not resolve to any address; will retry`);
  const refused = addresses.filter((a) => !isResolvedAddressAllowed(host, a.address, allowlist));
  if (refused.length > 0) {
    throw denied(
      `host "${hostname}" resolves to ${refused.map((a) => a.address).join(', ')}, an address the egress allowlist does not allow (AIRE_EGRESS_ALLOWLIST)`,
    );
  }
  return addresses;
}

/** `assertEgressAllowed` and `resolveAllowed` together: the URL, its scheme, its host and what the host resolves to. */
export async function checkEgress(url: string, allowlist: readonly string[], options: EgressOptions = {}): Promise<{ url: URL; addresses: LookupAddress[] }> {
  const parsed = assertEgressAllowed(url, allowlist);
  return { url: parsed, addresses: await resolveAllowed(parsed.hostname, allowlist, options) };
}

/**
 * A `lookup` for the connection that answers only the addresses already checked, so the
 * connection goes where the check looked (a second DNS answer, as in DNS rebinding, is never asked).
 */
function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return ((_hostname: string, options: { all?: boolean; family?: number | string }, callback: (...args: unknown[]) => void) => {
    const wanted = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    const usable = wanted === 0 ? addresses : addresses.filter((a) => a.family === wanted);
    const [chosen] = usable;
    if (chosen === undefined) {
      const err = Object.assign(new Error(`no checked IPv${wanted} address`), { code: 'ENOTFOUND' });
      callback(err, options.all ? [] : undefined);
      return;
    }
    if (options.all) callback(null, usable);
    else callback(null, chosen.address, chosen.family);
  }) as LookupFunction;
}

/** Header names and values that Node refuses to send (CR, LF, NUL…): the step's parameters are wrong, for good. */
function isInvalidHeader(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN' || code === 'ERR_HTTP_INVALID_HEADER_VALUE';
}

interface RawAnswer {
  status: number;
  text: string;
}

function send(url: URL, addresses: LookupAddress[], req: OutboundRequest, payload: string | undefined): Promise<RawAnswer> {
  const headers: Record<string, string> = {
    ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
    ...req.headers,
    'idempotency-key': req.idempotencyKey,
    'user-agent': 'aire',
    ...(payload !== undefined ? { 'content-length': String(Buffer.byteLength(payload)) } : {}),
  };
  // Inside a traced step (src/tracing.ts) the call is a CLIENT span and the target gets its W3C
  // `traceparent`; otherwise (tracing off, or an incident started without a trace) nothing is added.
  if (trace.getActiveSpan() === undefined) return transmit(url, addresses, req, headers, payload);
  const span = trace.getTracer('aire').startSpan(req.method, {
    kind: SpanKind.CLIENT,
    // Without the query string, which may carry a token.
    attributes: {
      'http.request.method': req.method,
      'url.full': `${url.origin}${url.pathname}`,
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    },
  });
  propagation.inject(trace.setSpan(context.active(), span), headers);
  return transmit(url, addresses, req, headers, payload).then(
    (answer) => {
      span.setAttribute('http.response.status_code', answer.status);
      if (answer.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: String(answer.status) });
      span.end();
      return answer;
    },
    (err: unknown) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      span.end();
      throw err;
    },
  );
}

function transmit(
  url: URL,
  addresses: LookupAddress[],
  req: OutboundRequest,
  headers: Record<string, string>,
  payload: string | undefined,
): Promise<RawAnswer> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<RawAnswer>((resolve, reject) => {
    let outgoing: ReturnType<typeof httpRequest>;
    try {
      outgoing = request(url, {
        method: req.method,
        headers,
        lookup: pinnedLookup(addresses),
        // No connection pool: each call connects to its own checked address.
        agent: false,
        signal: AbortSignal.timeout(req.timeoutMs ?? 10_000),
      });
    } catch (err) {
      reject(err);
      return;
    }
    outgoing.on('error', reject);
    outgoing.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (): void => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY_CHARS) });
      res.on('data', (chunk: Buffer) => {
        if (size >= MAX_BODY_BYTES) return;
        chunks.push(chunk.subarray(0, MAX_BODY_BYTES - size));
        size += chunk.length;
        // Enough read: an endless or huge answer is cut off, not buffered.
        if (size >= MAX_BODY_BYTES) {
          finish();
          res.destroy();
        }
      });
      res.on('end', finish);
      res.on('error', reject);
      // Closed before the end (and before enough was read): the answer is incomplete.
      res.on('close', () => reject(new Error(`${url.origin} closed the connection before the answer was complete`)));
    });
    outgoing.end(payload);
  });
}

/**
 * The one way actions call out. Only allowlisted hosts, connected at the addresses checked when
 * the host was resolved; redirects are not followed (a redirect could lead off the allowlist); 4xx
 * answers are final, 5xx, 408, 429 and network errors are retried.
 */
export async function callOut(req: OutboundRequest, allowlist: readonly string[], options: EgressOptions = {}): Promise<OutboundResponse> {
  const { url, addresses } = await checkEgress(req.url, allowlist, options);
  const payload = req.rawBody ?? (req.body === undefined ? undefined : JSON.stringify(req.body));
  const hasBody = payload !== undefined && req.method !== 'GET' && req.method !== 'HEAD';
  let answer: RawAnswer;
  try {
    answer = await send(url, addresses, req, hasBody ? payload : undefined);
  } catch (err) {
    if (isInvalidHeader(err)) {
      throw ApplicationFailure.nonRetryable(`invalid request header: ${(err as Error).message}`, NON_RETRYABLE.invalidParams);
    }
    throw err;
  }
  const { status, text } = answer;
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  const where = `${req.method} ${url.origin}${url.pathname}`;
  if (status >= 300 && status < 400) {
    throw ApplicationFailure.nonRetryable(`${where} answered ${status}: redirects are not followed`, NON_RETRYABLE.rejectedByTarget);
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    throw ApplicationFailure.nonRetryable(`${where} answered ${status}: ${text.slice(0, 200)}`, NON_RETRYABLE.rejectedByTarget);
  }
  if (status >= 400) throw new Error(`${where} answered ${status}; will retry`);
  return { status, body };
}
