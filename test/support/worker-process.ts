/**
 * A worker as its own process, for tests that kill it with SIGKILL. Configured from the
 * environment like the real one; uses the test run's workflow bundle.
 */
import { loadConfig } from '../../src/config';
import { createWorker } from '../../src/worker/worker';
import { testEnv } from './env';

async function main(): Promise<void> {
  const aire = await createWorker(loadConfig(), { workflowBundle: { codePath: testEnv().workflowBundlePath } });
  process.stdout.write('worker ready\n');
  await aire.run();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
