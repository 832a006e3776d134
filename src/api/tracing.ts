import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { routePatternOf } from './routes/metrics';

/**
 * The SERVER span of each request while tracing is on (src/tracing.ts; mounted by createApp only
 * then), named as OpenTelemetry's HTTP conventions say: method and route pattern
 * (`POST /api/incident/from-forecast`), never the raw URL. A caller's `traceparent` makes it a child
 * of the caller's span. What the request does runs in its context, so the Temporal client's spans
 * (StartWorkflow, StartWorkflowUpdate…) and through them the incident's workflow are its children.
 */
export function traceRequests(): RequestHandler {
  const tracer = trace.getTracer('aire');
  return (req: Request, res: Response, next: NextFunction): void => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        // The path without its query string: a query may carry what does not belong in a trace.
        attributes: { 'http.request.method': req.method, 'url.path': req.path, 'url.scheme': req.protocol },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    // The body arrives in events of the request stream, which began before this context: bound to it,
    // the body parsers' callbacks and everything after them run inside the request's span.
    context.bind(active, req);
    context.bind(active, res);
    let ended = false;
    const end = (status: number | undefined): void => {
      if (ended) return;
      ended = true;
      const route = routePatternOf(req);
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      if (status === undefined || status >= 500)
        span.setStatus({ code: SpanStatusCode.ERROR, message: status ? String(status) : 'connection closed before the answer' });
      span.end();
    };
    res.once('finish', () => end(res.statusCode));
    res.once('close', () => end(res.writableFinished ? res.statusCode : undefined));
    context.with(active, next);
  };
}
