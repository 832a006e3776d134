import { STATUS_CODES, Server, createServer } from 'node:http';
import type { RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The HTTP server the API listens with, with bounds on how long a client may take, so slow
 * clients (slowloris: headers or a body trickled a byte at a time) cannot hold connections open:
 *
 * | setting | value | what |
 * |---|---|---|
 * | `headersTimeout` | 10 s | the request line and all headers must arrive within this |
 * | `requestTimeout` | 30 s | the whole request, body included, must arrive within this; then 408 and the connection closes |
 * | `keepAliveTimeout` | 5 s | an idle kept-alive connection is closed after this |
 * | `connectionsCheckingInterval` | 1 s | how often the two timeouts above are checked (Node's default, 30 s, would let them overrun by that much) |
 *
 * Node's own defaults are 60 s and 300 s. A body at AIRE_BODY_LIMIT (256 kB) needs only about
 * 70 kbit/s to arrive in 30 s.
 */
export interface ServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  checkIntervalMs: number;
}

export const SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
};

/** An http.Server for `app` (createApp's Express app) with the timeouts above, or others for tests. */
export function createApiServer(app: RequestListener, overrides: Partial<ServerTimeouts> = {}): Server {
  const t = { ...SERVER_TIMEOUTS, ...overrides };
  const server = createServer(
    {
      // headersTimeout must not exceed requestTimeout (Node refuses it otherwise).
      headersTimeout: Math.min(t.headersTimeoutMs, t.requestTimeoutMs),
      requestTimeout: t.requestTimeoutMs,
      keepAliveTimeout: t.keepAliveTimeoutMs,
      connectionsCheckingInterval: t.checkIntervalMs,
    },
    app,
  );
  server.on('clientError', answerClientError);
  return server;
}

const CLIENT_ERROR_STATUS: Record<string, number> = {
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_OVERFLOW: 431,
};

/**
 * What Node's HTTP parser refuses before Express sees a request (a request that took longer than
 * requestTimeout, headers over the 16 kB limit, a malformed request line) is answered as
 * problem+json like every other error, then the connection is closed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const responding = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (err.code === 'ECONNRESET' || !socket.writable || responding) {
    socket.destroy();
    return;
  }
  const status = CLIENT_ERROR_STATUS[err.code ?? ''] ?? 400;
  const title = STATUS_CODES[status] ?? 'Bad Request';
  const detail =
    status === 408
      ? 'the request did not arrive in time (headers within the headers timeout, the whole request within the request timeout)'
      : status === 431
        ? 'the request line and headers are larger than the server accepts'
        : 'the request could not be parsed as HTTP';
  const body = JSON.stringify({
    type: `/problems/${status === 408 ? 'request-timeout' : 'bad-request'}`,
    title,
    status,
    detail,
    instance: '(unparsed request)',
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
