/**
 * Builds the workflow bundle ahead of time: `npm run bundle:workflows -- <file>`. A worker started
 * with AIRE_WORKFLOW_BUNDLE=<file> loads it instead of running webpack in its own long-lived
 * process (the bundle must be rebuilt whenever src/workflows or what it imports changes).
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_OPTIONS } from './workflow-code';

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: npm run bundle:workflows -- <output file>');
  const { code } = await bundleWorkflowCode(WORKFLOW_BUNDLE_OPTIONS);
  writeFileSync(out, code);
  console.error(`workflow bundle written to ${out} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
