import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { loadConfig } from '../../src/config';
import { aireDataConverter } from '../../src/temporal/payload-codec';

/** What the global setup prepared for the test files: written to a file, since jest workers are separate processes. */
export interface TestEnv {
  temporalAddress: string;
  adminUrl: string;
  appUrl: string;
  workflowBundlePath: string;
  stateDir: string;
  temporalPid: number;
}

/**
 * Every test stack, and every process a test starts, encrypts its Temporal payloads as production
 * should (src/temporal/payload-codec.ts), under this fixed test key: the suite runs through the codec,
 * and histories recorded as fixtures replay in later runs. Set here, in the environment, so spawned
 * workers and APIs inherit it; a run may give its own.
 */
export const TEST_PAYLOAD_KEYS = 'aire-test:' + Buffer.from('aire-test-payload-key-32-bytes!!').toString('base64');
process.env.AIRE_PAYLOAD_KEYS ??= TEST_PAYLOAD_KEYS;

/** The data converter of a test stack, for replaying what it recorded. */
export function testDataConverter(): DataConverter | undefined {
  return aireDataConverter(loadConfig().AIRE_PAYLOAD_KEYS);
}

/** AIRE_TEST_STATE_DIR lets two test runs share a machine (each with its own AIRE_TEST_DATABASE_ADMIN_URL). */
export const TEST_STATE_DIR = process.env.AIRE_TEST_STATE_DIR ?? join(__dirname, '..', '..', '.aire', 'test');
export const TEST_ENV_FILE = join(TEST_STATE_DIR, 'env.json');

export function testEnv(): TestEnv {
  return JSON.parse(readFileSync(TEST_ENV_FILE, 'utf8')) as TestEnv;
}

/** The Temporal CLI: AIRE_TEMPORAL_BIN (set by `npm test`), the Go install location, or PATH. */
export function temporalBinary(): string {
  const candidates = [process.env.AIRE_TEMPORAL_BIN, join(homedir(), 'go', 'bin', 'temporal')].filter((p): p is string => !!p);
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  try {
    return execFileSync('which', ['temporal']).toString().trim();
  } catch {
    throw new Error('no temporal binary: run `npm test` (it installs one) or set AIRE_TEMPORAL_BIN');
  }
}
