import { setFlagsFromString } from 'node:v8';
import { DefaultLogger, LogLevel, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config';
import { Logger, createLogger } from '../logger';
import { startMetricsServer } from '../metrics';
import { startTracing } from '../tracing';
import { createWorker } from './worker';

/**
 * The worker process. Temporal's runtime turns SIGINT/SIGTERM into a graceful shutdown: polling
 * stops, in-flight activities get AIRE_WORKER_SHUTDOWN_GRACE to finish, then are handed back to
 * the server, which retries them on another worker. Nothing is lost either way.
 */
const SDK_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The SDK's own logs (worker state, activity and workflow loggers with their workflow, run and
 * activity ids) go through the same JSON logger as ours, so one log pipeline sees everything.
 */
function routeSdkLogs(log: Logger): void {
  Runtime.install({
    logger: new DefaultLogger('INFO', ({ level, message, meta }) => log[SDK_LEVEL[level]]({ sdk: true, ...meta }, message)),
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config, 'worker');
  routeSdkLogs(log);
  // Before the worker is built: it takes its activity interceptors and workflow span sink from it.
  const tracing = await startTracing('aire-worker');
  if (tracing) log.info('tracing on (OpenTelemetry, OTEL_* variables)');
  const port = config.AIRE_WORKER_METRICS_PORT;
  // Assigned once the worker exists; until then (connecting, bundling) /readyz answers 503.
  let aire: Awaited<ReturnType<typeof createWorker>> | undefined;
  const metrics =
    port === 0
      ? undefined
      : await startMetricsServer(port, config.HOST, () => aire?.worker.getState() === 'RUNNING').catch((err: Error) => {
          throw new Error(`cannot serve worker metrics on ${config.HOST}:${port} (AIRE_WORKER_METRICS_PORT; 0 turns it off): ${err.message}`);
        });
  if (metrics) log.info({ url: `http://${config.HOST}:${port}/metrics` }, 'worker metrics listening');
  // Applies to isolates created from now on: the workflow thread that Worker.create starts below.
  if (config.AIRE_WORKFLOW_HEAP_MB > 0) setFlagsFromString(`--max-old-space-size=${config.AIRE_WORKFLOW_HEAP_MB}`);
  aire = await createWorker(config, {
    maxCachedWorkflows: config.AIRE_WORKER_MAX_CACHED_WORKFLOWS || undefined,
    maxConcurrentActivityTaskExecutions: config.AIRE_WORKER_MAX_CONCURRENT_ACTIVITIES || undefined,
    workflowBundle: config.AIRE_WORKFLOW_BUNDLE ? { codePath: config.AIRE_WORKFLOW_BUNDLE } : undefined,
  });
  log.info({ taskQueue: config.AIRE_TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS }, 'worker started');
  try {
    await aire.run();
  } finally {
    metrics?.close();
    await tracing?.shutdown().catch((err: Error) => log.warn({ err: err.message }, 'spans not sent at shutdown'));
  }
  log.info('worker stopped');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
