import { z } from 'zod';
import { DurationSchema } from './domain/duration';

const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''));

/**
 * Every setting comes from the environment (twelve-factor) and is checked at start, so a typo fails
 * loudly with the variable's name instead of surfacing at 3 a.m. as a strange runtime error.
 */
export const ConfigSchema = z.object({
  DATABASE_URL: z.string().url().default('postgres://aire_app@127.0.0.1:5432/aire'),
  DATABASE_ADMIN_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/aire'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  AIRE_TASK_QUEUE: z.string().min(1).default('aire-incidents'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Hosts outbound actions may reach: exact names or `*.example.com`. Loopback only by default. */
  AIRE_EGRESS_ALLOWLIST: csv.default(['127.0.0.1', 'localhost', '::1']),
  /**
   * Executables the `command` action may run: absolute paths, compared exactly. Empty (the
   * default) means no command may run.
   */
  AIRE_COMMAND_ALLOWLIST: csv
    .pipe(z.array(z.string().regex(/^\//, 'each entry must be an absolute path to an executable, e.g. /usr/local/bin/restart-cache')))
    .default([]),
  /** Keys whose values are replaced by "[REDACTED]" in the action log, notifications and API answers. */
  AIRE_SENSITIVE_KEYS: csv.default([]),
  /** Signs outbound webhook notifications (HMAC-SHA256) when set. */
  AIRE_WEBHOOK_SECRET: z.string().optional(),
  /** The SMTP relay `notify` with `channel: email` sends through, unless the step names one; it must be on the egress allowlist. */
  AIRE_SMTP_HOST: z.string().min(1).default('127.0.0.1'),
  AIRE_SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(25),
  AIRE_SMTP_FROM: z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, 'write an address like aire@example.com').default('aire@localhost'),
  AIRE_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'write e.g. 256kb or 1mb').default('256kb'),
  AIRE_WORKER_SHUTDOWN_GRACE: DurationSchema.default(30_000),
  /** The worker serves Prometheus metrics on HOST at this port (`GET /metrics`); 0 turns it off. */
  AIRE_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  AIRE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = ConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}
