import { randomBytes } from 'node:crypto';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { type Payload, defaultPayloadConverter } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { createApiServer } from '../../src/api/server';
import { Config, loadConfig } from '../../src/config';
import { Pool, createPool } from '../../src/db/pool';
import { createApiKey, ensureTenant } from '../../src/db/tenants';
import { ROLES, Role } from '../../src/domain/access';
import { aireDataConverter } from '../../src/temporal/payload-codec';
import { AireWorker, createWorker } from '../../src/worker/worker';
import type { IncidentState } from '../../src/workflows/definitions';
import { testEnv } from './env';

export interface TestTenant {
  id: string;
  slug: string;
  keys: Record<Role, string>;
}

export interface HttpAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** The SDK logs every retried activity at WARN; tests provoke failures on purpose, so keep only errors. */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this jest worker
  }
}

/** The configuration a test stack runs with: the shared test server and database, its own task queue. */
export function testConfig(taskQueue: string, extra: Record<string, string> = {}): Config {
  const env = testEnv();
  return loadConfig({
    DATABASE_URL: env.appUrl,
    DATABASE_ADMIN_URL: env.adminUrl,
    TEMPORAL_ADDRESS: env.temporalAddress,
    AIRE_TASK_QUEUE: taskQueue,
    AIRE_LOG_LEVEL: 'silent',
    AIRE_WORKER_SHUTDOWN_GRACE: '2s',
    // Encrypted like the processes tests spawn, which inherit it (test/support/env.ts).
    AIRE_PAYLOAD_KEYS: process.env.AIRE_PAYLOAD_KEYS,
    ...extra,
  });
}

/** API in-process on a random port, a worker on the file's own task queue, and clients for both stores. */
export class Stack {
  baseUrl = '';
  readonly admin: Pool;
  readonly pool: Pool;
  temporal!: Client;
  private connection!: Connection;
  private server!: Server;
  private worker?: AireWorker;
  private workerRun?: Promise<void>;

  private constructor(readonly config: Config) {
    this.admin = createPool(config.DATABASE_ADMIN_URL, 2);
    this.pool = createPool(config.DATABASE_URL, 5);
  }

  static async start(name: string, opts: { worker?: boolean; env?: Record<string, string> } = {}): Promise<Stack> {
    quietRuntime();
    const stack = new Stack(testConfig(uniqueId(`tq-${name}`), opts.env));
    stack.connection = await Connection.connect({ address: stack.config.TEMPORAL_ADDRESS });
    stack.temporal = new Client({ connection: stack.connection, dataConverter: aireDataConverter(stack.config.AIRE_PAYLOAD_KEYS) });
    // AIRE_TEST_API_LOG=error (or debug…) shows the in-process API's log while a test runs.
    const app = createApp({ pool: stack.pool, temporal: stack.temporal, config: stack.config }, pino({ level: process.env.AIRE_TEST_API_LOG ?? 'silent' }));
    stack.server = await new Promise<Server>((resolve) => {
      // The server as src/api/main.ts makes it: header and request timeouts, problem+json for parser errors.
      const s = createApiServer(app);
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    stack.baseUrl = `http://127.0.0.1:${(stack.server.address() as AddressInfo).port}`;
    if (opts.worker !== false) await stack.startWorker();
    return stack;
  }

  /** A payload from a raw history, through the stack's codec (payloads are encrypted: test/support/env.ts). */
  async decodePayload<T>(payload: Payload | null | undefined): Promise<T> {
    if (!payload) throw new Error('no payload');
    const [decoded] = await (this.temporal.options.loadedDataConverter.payloadCodecs[0]?.decode([payload]) ?? [payload]);
    return defaultPayloadConverter.fromPayload<T>(decoded);
  }

  async startWorker(): Promise<void> {
    this.worker = await createWorker(this.config, { workflowBundle: { codePath: testEnv().workflowBundlePath } });
    this.workerRun = this.worker.run();
  }

  async stopWorker(): Promise<void> {
    this.worker?.worker.shutdown();
    await this.workerRun;
    this.worker = undefined;
  }

  async stop(): Promise<void> {
    await this.stopWorker();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([this.pool.end(), this.admin.end(), this.connection.close()]);
  }

  /** A new tenant with one key per role. */
  async tenant(prefix = 'tenant'): Promise<TestTenant> {
    const slug = uniqueId(prefix);
    const tenant = await ensureTenant(this.admin, slug, slug);
    const keys = {} as Record<Role, string>;
    for (const role of ROLES) keys[role] = (await createApiKey(this.admin, tenant.id, `${role}-key`, [role])).key;
    return { id: tenant.id, slug, keys };
  }

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    key: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
  }

  /** Reads an incident until `until` holds (the workflow writes asynchronously). */
  async incidentWhen(tenant: TestTenant, id: string, until: (i: IncidentView) => boolean, timeoutMs = 30_000): Promise<IncidentView> {
    let last: IncidentView | undefined;
    const found = await eventually(async () => {
      const res = await this.call<IncidentView>('GET', `/api/incidents/${id}`, tenant.keys.viewer);
      last = res.body;
      return res.status === 200 && until(res.body) ? res.body : undefined;
    }, timeoutMs).catch(() => undefined);
    if (!found) throw new Error(`incident ${id} did not reach the expected state; last seen:\n${JSON.stringify(last, null, 2)}`);
    return found;
  }
}

export interface IncidentView {
  incident: { id: string; status: string; severity: string; workflowId: string; runbookId: string | null; runbookVersion: number | null } & Record<
    string,
    unknown
  >;
  steps: { stepId: string; status: string; output: unknown; error: string | null; attempts: number }[];
  approvals: { stepId: string | null; decision: string; approver: string; reason: string | null }[];
  actionLog: { kind: string; actor: string; stepId: string | null; detail: Record<string, unknown> }[];
  live: IncidentState | null;
}

/** Polls `probe` until it returns something other than undefined. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}
