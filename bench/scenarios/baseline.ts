import { performance } from 'node:perf_hooks';
import { NativeConnection, Worker } from '@temporalio/worker';
import { closedLoop } from '../load';
import { rate, summarize } from '../stats';
import type { BenchContext, Scenario, ScenarioOutcome } from '../types';
import { noopWorkflow } from '../workflows/noop';

const TASK_QUEUE = 'bench-baseline';

/**
 * 1. The limit of the stack: a raw Temporal client starts and awaits a no-op workflow with one
 * no-op activity, `concurrency` at a time, on a tiny worker in this process (SDK defaults).
 */
async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { stack, quick, concurrency, log } = ctx;
  const connection = await NativeConnection.connect({ address: stack.temporalAddress });
  const worker = await Worker.create({
    connection,
    taskQueue: TASK_QUEUE,
    workflowsPath: require.resolve('../workflows/noop'),
    activities: { noop: async (): Promise<void> => undefined },
  });
  const running = worker.run();
  try {
    const once = async (id: string): Promise<number> => {
      const t0 = performance.now();
      await stack.temporal.workflow.execute(noopWorkflow, { taskQueue: TASK_QUEUE, workflowId: id });
      return performance.now() - t0;
    };
    await closedLoop(20, 4, 60_000, (i) => once(`bench-noop-warm-${i}`));
    const count = quick ? 200 : 600;
    log(`baseline: ${count} no-op workflows, ${concurrency} in flight`);
    const loop = await closedLoop(count, concurrency, quick ? 60_000 : 180_000, (i) => once(`bench-noop-${i}`));
    const latencies = loop.results.filter((r): r is number => r !== undefined);
    const throughput = rate(latencies.length, loop.elapsedMs);
    return {
      throughput: { value: throughput, unit: 'workflows/s' },
      latency: { what: 'start → workflow completed', ...summarize(latencies) },
      aims: [],
      details: { workflows: count, completed: latencies.length, errors: loop.errors.length, concurrency, firstError: loop.errors[0] ?? null },
    };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}

export const baseline: Scenario = { id: 1, name: 'Baseline: raw Temporal, no-op workflow + 1 no-op activity', run };
