import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from '../logger';
import { FieldError, ValidationError } from '../domain/validation';
import { isConnectionError } from '../db/retry';

/** An error the API answers with as RFC 9457 problem+json. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail?: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

export const notFound = (what: string): HttpProblem => new HttpProblem(404, 'Not Found', `${what} was not found`);
export const conflict = (detail: string): HttpProblem => new HttpProblem(409, 'Conflict', detail);

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'validation-error',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'rate-limited',
  503: 'unavailable',
};

export function sendProblem(req: Request, res: Response, p: { status: number; title: string; detail?: string; errors?: FieldError[] }): void {
  res
    .status(p.status)
    .type('application/problem+json')
    .json({
      type: `/problems/${TYPE_BY_STATUS[p.status] ?? 'error'}`,
      title: p.title,
      status: p.status,
      ...(p.detail ? { detail: p.detail } : {}),
      instance: req.originalUrl,
      ...(p.errors ? { errors: p.errors } : {}),
    });
}

/** Errors from infrastructure that is down for now: the client should retry, not give up. */
function isUnavailable(err: unknown): boolean {
  if (isConnectionError(err)) return true;
  // Temporal's client: the frontend did not answer, or answered UNAVAILABLE.
  const e = err as { name?: string; message?: string } | null | undefined;
  if (e?.name === 'ServiceError' || e?.name === 'ConnectionError') return true;
  return /UNAVAILABLE/.test(e?.message ?? '');
}

/** Turns every error into problem+json; only a genuine bug becomes a 500, and it is logged. */
export function problemHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof ValidationError) return sendProblem(req, res, { status: 400, title: 'Invalid request', detail: err.message, errors: err.errors });
    if (err instanceof HttpProblem) {
      res.set(err.headers);
      return sendProblem(req, res, { status: err.status, title: err.title, detail: err.message, errors: err.errors });
    }
    const bodyError = err as { type?: string; status?: number; message?: string };
    if (bodyError?.type === 'entity.too.large')
      return sendProblem(req, res, { status: 413, title: 'Payload Too Large', detail: 'the request body is larger than the limit (AIRE_BODY_LIMIT)' });
    if (bodyError?.type === 'entity.parse.failed') {
      return sendProblem(req, res, {
        status: 400,
        title: 'Malformed JSON',
        detail: bodyError.message,
        errors: [{ path: '(body)', message: 'not valid JSON' }],
      });
    }
    if (bodyError?.type === 'encoding.unsupported' || bodyError?.type === 'charset.unsupported') {
      return sendProblem(req, res, { status: 415, title: 'Unsupported Media Type', detail: bodyError.message });
    }
    // Other client errors raised by Express and its parsers (a path parameter that is not valid
    // percent-encoding, an aborted body…) carry their 4xx status: answer it, not a 500.
    const status = typeof bodyError?.status === 'number' ? bodyError.status : undefined;
    if (status !== undefined && status >= 400 && status < 500) {
      return sendProblem(req, res, { status, title: STATUS_CODES[status] ?? 'Bad Request', detail: bodyError.message });
    }
    if (isUnavailable(err)) {
      log.warn({ err }, 'dependency unavailable');
      res.set('Retry-After', '5');
      return sendProblem(req, res, {
        status: 503,
        title: 'Service Unavailable',
        detail: 'a backing service (PostgreSQL or Temporal) is not answering; retry shortly',
      });
    }
    log.error({ err, url: req.originalUrl }, 'unhandled error');
    return sendProblem(req, res, { status: 500, title: 'Internal Server Error', detail: 'an unexpected error occurred; it has been logged' });
  };
}
