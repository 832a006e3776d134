import { z } from 'zod';
import { DurationSchema } from './domain/duration';
import { canonicalIp } from './domain/egress';

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== ''),
);

/** An egress allowlist entry as src/domain/egress.ts matches it: a name, `*.` and a name, or an IP address. */
function isEgressEntry(entry: string): boolean {
  return /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i.test(entry) || canonicalIp(entry.replace(/^\[(.*)\]$/, '$1')) !== undefined;
}

/** `id:base64` → a 32-byte key with its id (AIRE_PAYLOAD_KEYS). */
function payloadKey(entry: string, ctx: z.RefinementCtx): { id: string; key: Buffer } {
  const [, id, base64] = /^([A-Za-z0-9._-]{1,64}):([A-Za-z0-9+/_-]+={0,2})$/.exec(entry) ?? [];
  const key = base64 !== undefined ? Buffer.from(base64, 'base64') : Buffer.alloc(0);
  if (id === undefined || key.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'write each key as id:base64 of 32 bytes, e.g. k2026:$(openssl rand -base64 32)' });
    return z.NEVER;
  }
  return { id, key };
}

const uniqueIds = (keys: { id: string }[]): boolean => new Set(keys.map((k) => k.id)).size === keys.length;

/**
 * Every setting comes from the environment (twelve-factor) and is checked at start, so a typo fails
 * loudly with the variable's name instead of surfacing at 3 a.m. as a strange runtime error.
 */
export const ConfigSchema = z.object({
  DATABASE_URL: z.string().url().default('postgres://aire_app@127.0.0.1:5432/aire'),
  DATABASE_ADMIN_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/aire'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * How long the API and the worker wait for a PostgreSQL connection (a new one, or a free one from
   * the pool), and for the answer to each query. Without these bounds a database that stops
   * answering (a network partition, a host down or frozen without refusing connections) leaves
   * requests, and /readyz, hanging for as long as it is away; with them they fail and are answered
   * 503 with Retry-After (src/api/problem.ts). The worker's pool has the same bounds: an activity
   * that times out does not free the connection it waits on, so after a failover that no client was
   * told of (the old server's connections silent for ever) every pooled connection would hang its
   * next activity, until TCP gives up. Queries take milliseconds; the query bound is a backstop, not
   * a budget. A query that hits it fails as the database being away: retried, never half-applied.
   */
  DATABASE_CONNECT_TIMEOUT: DurationSchema.default(5_000),
  DATABASE_QUERY_TIMEOUT: DurationSchema.default(10_000),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  AIRE_TASK_QUEUE: z.string().min(1).default('aire-incidents'),
  /**
   * How long a request waits for the incident workflow's own answer (for intake: which incident took
   * the event, src/api/event-delivery.ts). Past it, with no worker answering, the request is
   * answered 503 with Retry-After and counts as not accepted; a repeated event with the same event id
   * counts once. Workers answer in milliseconds; the bound is for a fleet that is down.
   */
  AIRE_WORKFLOW_ANSWER_TIMEOUT: DurationSchema.default(10_000),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Hosts outbound actions may reach: exact names or `*.example.com`. Loopback only by default. */
  AIRE_EGRESS_ALLOWLIST: csv
    .pipe(
      z.array(
        z.string().refine(isEgressEntry, 'each entry must be a host name (api.example.com), *.example.com or an IP address, without scheme, port or path'),
      ),
    )
    .default(['127.0.0.1', 'localhost', '::1']),
  /**
   * Executables the `command` action may run: absolute paths, compared exactly. Empty (the
   * default) means no command may run.
   */
  AIRE_COMMAND_ALLOWLIST: csv
    .pipe(z.array(z.string().regex(/^\//, 'each entry must be an absolute path to an executable, e.g. /usr/local/bin/restart-cache')))
    .default([]),
  /** Keys whose values are replaced by "[REDACTED]" in the action log, notifications and API answers. */
  AIRE_SENSITIVE_KEYS: csv.default([]),
  /**
   * Keys that encrypt every payload exchanged with Temporal (AES-256-GCM, src/temporal/payload-codec.ts):
   * `id:base64` pairs, comma-separated, each key 32 bytes (`openssl rand -base64 32`). The first
   * encrypts, all decrypt: to rotate, put the new key first and keep the old ones while open
   * incidents' histories need them. Unset: payloads are stored as readable JSON (development).
   */
  AIRE_PAYLOAD_KEYS: csv
    .pipe(z.array(z.string().transform(payloadKey)))
    .pipe(z.array(z.object({ id: z.string(), key: z.instanceof(Buffer) })).refine(uniqueIds, 'each key id may appear once'))
    .default([]),
  /** Origins the codec endpoint answers (CORS): the Temporal Web UI's address. */
  AIRE_CODEC_CORS_ORIGINS: csv.pipe(z.array(z.string().url())).default(['http://localhost:8233', 'http://127.0.0.1:8233']),
  /** Signs outbound webhook notifications (HMAC-SHA256) when set. */
  AIRE_WEBHOOK_SECRET: z.string().optional(),
  /** The SMTP relay `notify` with `channel: email` sends through, unless the step names one; it must be on the egress allowlist. */
  AIRE_SMTP_HOST: z.string().min(1).default('127.0.0.1'),
  AIRE_SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(25),
  AIRE_SMTP_FROM: z
    .string()
    .regex(/^[^\s@<>]+@[^\s@<>]+$/, 'write an address like aire@example.com')
    .default('aire@localhost'),
  AIRE_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'write e.g. 256kb or 1mb')
    .default('256kb'),
  /** Requests per minute per API key on the intake routes (forecasts, events, declarations, Alertmanager); 0: no limit. */
  AIRE_RATE_LIMIT_INTAKE: z.coerce.number().int().min(0).max(10_000_000).default(6_000),
  /** Requests per minute per API key on approve and reject; 0: no limit. */
  AIRE_RATE_LIMIT_APPROVALS: z.coerce.number().int().min(0).max(10_000_000).default(600),
  AIRE_WORKER_SHUTDOWN_GRACE: DurationSchema.default(30_000),
  /** The worker serves Prometheus metrics on HOST at this port (`GET /metrics`); 0 turns it off. */
  AIRE_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /**
   * Incident workflows a worker keeps in memory between their tasks (Temporal's sticky cache). An
   * incident that waits (for an approval, a person, its close) stays cached until evicted; an evicted
   * one is replayed from its history when it next wakes. A cached incident costs about 0.15 MB now
   * that the workflow bundle holds no schemas (it was 1.5 MB); 250 keeps a worker with 1,000 waiting
   * incidents under 400 MB, measured (docs/performance.md). 0: the SDK's default, sized from the heap.
   */
  AIRE_WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(250),
  /**
   * Heap limit (MiB) of the thread that runs workflow code. Without it V8 lets that heap grow toward
   * the process default (about 4 GB) before collecting; keep it well above the cache's needs. 0: no limit.
   */
  AIRE_WORKFLOW_HEAP_MB: z.coerce.number().int().min(0).max(65_536).default(192),
  /** Activities (store writes, steps, notifications) one worker runs at once; 0: the SDK's default (100). */
  AIRE_WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(0).max(10_000).default(0),
  /**
   * A workflow bundle built ahead (`npm run bundle:workflows -- <file>`). Unset: the worker bundles
   * src/workflows with webpack when it starts, which leaves webpack's memory in the worker for good.
   */
  AIRE_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  AIRE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `json` (one JSON object per line, for log pipelines) or `pretty` (one coloured line per entry, for a terminal; `npm run dev`). */
  AIRE_LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
});
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = ConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}
