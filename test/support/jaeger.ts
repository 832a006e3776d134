import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './stack';
import { freePort } from './processes';

/** Jaeger: AIRE_JAEGER_BIN (set by `npm test`, scripts/lib.sh ensure_jaeger), the Go bin directory, or PATH. */
export function jaegerBinary(): string {
  const candidates = [process.env.AIRE_JAEGER_BIN, join(homedir(), 'go', 'bin', 'jaeger')].filter((p): p is string => !!p);
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  try {
    return execFileSync('which', ['jaeger']).toString().trim();
  } catch {
    throw new Error('no jaeger binary: run `npm test` once (it builds Jaeger from the Go module proxy) or set AIRE_JAEGER_BIN');
  }
}

/** A span as Jaeger's query API (`/api/traces/:id`) answers it, with its service name filled in. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  processID: string;
  service: string;
}

interface JaegerTrace {
  traceID: string;
  spans: Omit<JaegerSpan, 'service'>[];
  processes: Record<string, { serviceName: string }>;
}

/**
 * Jaeger v2 (all in one, in-memory storage) on free ports of 127.0.0.1: an OTLP/HTTP receiver for
 * the processes under test to export to, and the query API the test reads the traces back from.
 */
export class Jaeger {
  otlpUrl = '';
  queryUrl = '';
  private child?: ChildProcess;
  private log = '';

  async start(stateDir: string): Promise<this> {
    const [otlp, query, queryGrpc] = [await freePort(), await freePort(), await freePort()];
    const config = join(stateDir, `jaeger-${otlp}.yaml`);
    writeFileSync(
      config,
      [
        'service:',
        '  extensions: [jaeger_storage, jaeger_query]',
        '  pipelines:',
        '    traces: { receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter] }',
        // No metrics server of its own (its default port would clash between runs).
        '  telemetry: { metrics: { level: none }, logs: { level: warn } }',
        'extensions:',
        `  jaeger_query: { storage: { traces: memstore }, http: { endpoint: "127.0.0.1:${query}" }, grpc: { endpoint: "127.0.0.1:${queryGrpc}" } }`,
        '  jaeger_storage: { backends: { memstore: { memory: { max_traces: 10000 } } } }',
        `receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:${otlp}" } } } }`,
        'processors: { batch: { timeout: 100ms } }',
        'exporters: { jaeger_storage_exporter: { trace_storage: memstore } }',
        '',
      ].join('\n'),
    );
    const child = spawn(jaegerBinary(), ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.otlpUrl = `http://127.0.0.1:${otlp}`;
    this.queryUrl = `http://127.0.0.1:${query}`;
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`jaeger exited (${child.exitCode}): ${this.log}`);
      const [services, receiver] = await Promise.all([fetch(`${this.queryUrl}/api/services`), fetch(`${this.otlpUrl}/v1/traces`, { method: 'POST' })]);
      // The receiver answers an empty POST with 400 or 415 once it listens.
      return services.ok && receiver.status < 500 ? true : undefined;
    }, 60_000).catch((err: Error) => {
      throw new Error(`jaeger did not come up: ${err.message}\n${this.log}`);
    });
    return this;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child?.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

  /** The trace's spans, each with its service's name, or [] while Jaeger has none of it. */
  async trace(traceId: string): Promise<JaegerSpan[]> {
    const res = await fetch(`${this.queryUrl}/api/traces/${traceId}`);
    if (res.status === 404) return [];
    if (!res.ok) throw new Error(`jaeger answered ${res.status}: ${await res.text()}`);
    const { data } = (await res.json()) as { data: JaegerTrace[] };
    return data.flatMap((t) => t.spans.map((s) => ({ ...s, service: t.processes[s.processID]?.serviceName ?? '?' })));
  }

  /** Ids of the traces with a span of `service` carrying all of `tags` (the last hour). */
  async find(service: string, tags: Record<string, string>): Promise<string[]> {
    const query = new URLSearchParams({ service, tags: JSON.stringify(tags), lookback: '1h', limit: '100' });
    const res = await fetch(`${this.queryUrl}/api/traces?${query.toString()}`);
    if (!res.ok) throw new Error(`jaeger answered ${res.status}: ${await res.text()}`);
    const { data } = (await res.json()) as { data: JaegerTrace[] | null };
    return (data ?? []).map((t) => t.traceID);
  }
}
