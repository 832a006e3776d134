import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { defined } from '../src/domain/must';

/**
 * An action target on 127.0.0.1: answers every request 200 at once and remembers when each path
 * first arrived (performance.now(), the same clock as the load generator in this process).
 */
export class BenchReceiver {
  url = '';
  requests = 0;
  duplicates = 0;
  private readonly arrivals = new Map<string, number>();
  private readonly waiters = new Map<string, ((at: number) => void)[]>();
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** When `path` first arrived, if it has. */
  arrived(path: string): number | undefined {
    return this.arrivals.get(path);
  }

  /** How many distinct paths under `prefix` arrived. */
  countUnder(prefix: string): number {
    let n = 0;
    for (const path of this.arrivals.keys()) if (path.startsWith(prefix)) n += 1;
    return n;
  }

  /** Resolves with the arrival time of `path`, or undefined after `timeoutMs`. */
  waitFor(path: string, timeoutMs: number): Promise<number | undefined> {
    const at = this.arrivals.get(path);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(path) ?? [];
        this.waiters.set(
          path,
          list.filter((w) => w !== done),
        );
        resolve(undefined);
      }, timeoutMs);
      const done = (t: number): void => {
        clearTimeout(timer);
        resolve(t);
      };
      this.waiters.set(path, [...(this.waiters.get(path) ?? []), done]);
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const at = performance.now();
    const path = defined((req.url ?? '/').split('?')[0], 'the request path');
    this.requests += 1;
    if (this.arrivals.has(path)) this.duplicates += 1;
    else {
      this.arrivals.set(path, at);
      const waiting = this.waiters.get(path);
      if (waiting) {
        this.waiters.delete(path);
        for (const w of waiting) w(at);
      }
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  }
}
