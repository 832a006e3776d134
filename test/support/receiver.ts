import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  /** The body as received, for checking signatures over the exact bytes. */
  raw: string;
  at: number;
}

export interface Behaviour {
  status?: number;
  body?: unknown;
  delayMs?: number;
  /** The answer waits until this settles: a target the test holds, then lets go. */
  until?: Promise<unknown>;
}

/**
 * An HTTP target on 127.0.0.1 that records every request. It honours Idempotency-Key as real
 * platform APIs do: a repeated key is answered from memory and not applied again, so `applied`
 * counts effects while `requests` counts deliveries.
 */
export class Receiver {
  readonly requests: Received[] = [];
  readonly applied: Received[] = [];
  private readonly seenKeys = new Map<string, { status: number; body: unknown }>();
  private readonly behaviours = new Map<string, Behaviour[]>();
  private readonly responders = new Map<string, (req: Received) => Behaviour>();
  /** A tiny capacity store for `scale`: GET answers it, PUT sets it. */
  readonly capacity = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  /** `port` 0 picks a free one; `log` is told of every request (the demo target prints them). */
  constructor(private readonly options: { port?: number; log?: (line: string) => void } = {}) {}

  /** Responses for `METHOD /path`, used in order; the last one repeats. */
  on(method: string, path: string, ...behaviours: Behaviour[]): this {
    this.behaviours.set(`${method} ${path}`, behaviours);
    return this;
  }

  /** Answers `METHOD /path` with whatever `responder` returns for each request; takes precedence over `on`. */
  respond(method: string, path: string, responder: (req: Received) => Behaviour): this {
    this.responders.set(`${method} ${path}`, responder);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** `METHOD /path` of every applied request, optionally only those under `/<prefix>/`. */
  paths(prefix?: string): string[] {
    return this.applied.filter((r) => prefix === undefined || r.path.startsWith(`/${prefix}/`)).map((r) => `${r.method} ${r.path}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // keep text
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const entry: Received = { method: req.method ?? 'GET', path, headers: req.headers, body, raw: text, at: Date.now() };
    this.requests.push(entry);
    this.options.log?.(`${entry.method} ${path} ${text.length > 0 ? text.slice(0, 300) : ''}`);

    const key = `${entry.method} ${path}`;
    const queue = this.behaviours.get(key);
    const responder = this.responders.get(key);
    const behaviour = responder ? responder(entry) : queue && queue.length > 1 ? (queue.shift() as Behaviour) : (queue?.[0] ?? {});
    if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
    if (behaviour.until) await behaviour.until.catch(() => undefined);

    const idem = req.headers['idempotency-key'];
    const idemKey = typeof idem === 'string' && entry.method !== 'GET' ? `${key} ${idem}` : undefined;
    const remembered = idemKey ? this.seenKeys.get(idemKey) : undefined;
    if (remembered) return this.reply(res, remembered.status, remembered.body);

    let status = behaviour.status ?? 200;
    let answer: unknown = behaviour.body ?? { ok: true };
    if (status < 400 && path.endsWith('/capacity')) {
      if (entry.method === 'GET') answer = { replicas: this.capacity.get(path) ?? 0 };
      if (entry.method === 'PUT') {
        const replicas = (body as { replicas?: number } | null)?.replicas;
        if (typeof replicas !== 'number') status = 400;
        else this.capacity.set(path, replicas);
      }
    }
    if (status < 400 && entry.method !== 'GET') this.applied.push(entry);
    if (idemKey && status < 500) this.seenKeys.set(idemKey, { status, body: answer });
    this.reply(res, status, answer);
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}
