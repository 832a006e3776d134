import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the global setup prepared for the test files: written to a file, since jest workers are separate processes. */
export interface TestEnv {
  temporalAddress: string;
  adminUrl: string;
  appUrl: string;
  workflowBundlePath: string;
  stateDir: string;
  temporalPid: number;
}

/** AIRE_TEST_STATE_DIR lets two test runs share a machine (each with its own AIRE_TEST_DATABASE_ADMIN_URL). */
export const TEST_STATE_DIR = process.env.AIRE_TEST_STATE_DIR ?? join(__dirname, '..', '..', '.aire', 'test');
export const TEST_ENV_FILE = join(TEST_STATE_DIR, 'env.json');

export function testEnv(): TestEnv {
  return JSON.parse(readFileSync(TEST_ENV_FILE, 'utf8')) as TestEnv;
}
