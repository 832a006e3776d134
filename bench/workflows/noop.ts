import { proxyActivities } from '@temporalio/workflow';

/** Scenario 1's workflow: the least a workflow can do, one no-op activity. Bundled by the bench's own worker. */
const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '30s' });

export async function noopWorkflow(): Promise<void> {
  await noop();
}
