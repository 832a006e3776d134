import { ApplicationFailure } from '@temporalio/activity';
import { isHostAllowed } from '../domain/egress';

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

const MAX_BODY_CHARS = 4_096;

/** Checks a URL against the egress allowlist; a denied host fails the step for good. */
export function assertEgressAllowed(url: string, allowlist: readonly string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ApplicationFailure.nonRetryable(`"${url}" is not a valid URL`, NON_RETRYABLE.invalidParams);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw ApplicationFailure.nonRetryable(`egress denied: only http and https are allowed, not ${parsed.protocol}`, NON_RETRYABLE.egressDenied);
  }
  assertHostAllowed(parsed.hostname, allowlist);
  return parsed;
}

/** The host part of `assertEgressAllowed`, for protocols other than HTTP (SMTP). */
export function assertHostAllowed(hostname: string, allowlist: readonly string[]): void {
  if (!isHostAllowed(hostname, allowlist)) {
    throw ApplicationFailure.nonRetryable(
      `egress denied: host "${hostname}" is not on the egress allowlist (AIRE_EGRESS_ALLOWLIST)`,
      NON_RETRYABLE.egressDenied,
    );
  }
}

/**
 * The one way actions call out. Only allowlisted hosts; redirects are not followed (a redirect could
 * lead off the allowlist); 4xx answers are final, 5xx, 408, 429 and network errors are retried.
 */
export async function callOut(req: OutboundRequest, allowlist: readonly string[]): Promise<OutboundResponse> {
  const url = assertEgressAllowed(req.url, allowlist);
  const payload = req.rawBody ?? (req.body === undefined ? undefined : JSON.stringify(req.body));
  const hasBody = payload !== undefined && req.method !== 'GET' && req.method !== 'HEAD';
  const response = await fetch(url, {
    method: req.method,
    headers: {
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...req.headers,
      'idempotency-key': req.idempotencyKey,
      'user-agent': 'aire',
    },
    body: hasBody ? payload : undefined,
    redirect: 'manual',
    signal: AbortSignal.timeout(req.timeoutMs ?? 10_000),
  });
  const text = (await response.text()).slice(0, MAX_BODY_CHARS);
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  const where = `${req.method} ${url.origin}${url.pathname}`;
  if (response.status >= 300 && response.status < 400) {
    throw ApplicationFailure.nonRetryable(`${where} answered ${response.status}: redirects are not followed`, NON_RETRYABLE.rejectedByTarget);
  }
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
    throw ApplicationFailure.nonRetryable(`${where} answered ${response.status}: ${text.slice(0, 200)}`, NON_RETRYABLE.rejectedByTarget);
  }
  if (response.status >= 400) throw new Error(`${where} answered ${response.status}; will retry`);
  return { status: response.status, body };
}
