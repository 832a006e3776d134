import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Config } from '../config';
import { Pool, createAppPool } from '../db/pool';
import { aireDataConverter } from '../temporal/payload-codec';
import { activeTracing } from '../tracing';
import { WORKFLOWS_PATH, WORKFLOW_INTERCEPTOR_MODULES } from './workflow-code';

export { WORKFLOWS_PATH } from './workflow-code';

/**
 * Workflows of traced incidents send their spans to the `exporter` sink whether or not this worker
 * traces (the API may trace while a worker does not): without tracing they are dropped here.
 */
const DROP_WORKFLOW_SPANS = { exporter: { export: { fn: () => undefined } } };

export interface AireWorker {
  worker: Worker;
  pool: Pool;
  connection: NativeConnection;
  /** Stops polling, lets in-flight activities finish (up to the grace time), then closes connections. */
  run(): Promise<void>;
}

/**
 * Builds a worker for the incident task queue. `workflowBundle` lets tests bundle the workflow code
 * once and share it; production bundles on start from `WORKFLOWS_PATH`.
 */
export async function createWorker(
  config: Config,
  overrides: Partial<Pick<WorkerOptions, 'workflowBundle' | 'taskQueue' | 'maxConcurrentActivityTaskExecutions' | 'maxCachedWorkflows'>> = {},
): Promise<AireWorker> {
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const pool = createAppPool(config);
  const tracing = activeTracing();
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: overrides.taskQueue ?? config.AIRE_TASK_QUEUE,
    ...(overrides.workflowBundle ? { workflowBundle: overrides.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({ pool, config }),
    // workflowModules count when the worker bundles; a bundle built ahead has them in it (./workflow-code.ts).
    interceptors: {
      ...(overrides.workflowBundle ? {} : { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
      activity: tracing?.activityInterceptors ?? [],
    },
    sinks: tracing?.workflowSinks ?? DROP_WORKFLOW_SPANS,
    dataConverter: aireDataConverter(config.AIRE_PAYLOAD_KEYS),
    shutdownGraceTime: config.AIRE_WORKER_SHUTDOWN_GRACE,
    ...(overrides.maxConcurrentActivityTaskExecutions ? { maxConcurrentActivityTaskExecutions: overrides.maxConcurrentActivityTaskExecutions } : {}),
    ...(overrides.maxCachedWorkflows ? { maxCachedWorkflows: overrides.maxCachedWorkflows } : {}),
  });
  return {
    worker,
    pool,
    connection,
    async run() {
      try {
        await worker.run();
      } finally {
        await pool.end().catch(() => undefined);
        await connection.close().catch(() => undefined);
      }
    },
  };
}
