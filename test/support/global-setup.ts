import { spawn } from 'node:child_process';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Client } from 'pg';
import { migrate } from '../../src/db/migrate';
import { devServerArgs } from '../../src/temporal/dev-server';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../src/worker/workflow-code';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/workflows/search-attributes';
import { TEST_ENV_FILE, TEST_STATE_DIR, TestEnv, temporalBinary } from './env';
import { freePort } from './processes';

async function waitForTemporal(address: string, pid: number, logFile: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      throw new Error(`the Temporal dev server exited; see ${logFile}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`the Temporal dev server did not answer on ${address} within 90 s; see ${logFile}`);
}

/** A fresh database for every run, so tests never see a previous run's rows. */
async function freshDatabase(adminUrl: string): Promise<void> {
  const url = new URL(adminUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  await migrate(adminUrl);
}

/** The default: a dev server of the test run's own on a free port, stopped by the global teardown. */
async function startDevServer(): Promise<{ address: string; pid: number; ready: Promise<void> }> {
  const port = await freePort();
  const logFile = join(TEST_STATE_DIR, 'temporal.log');
  const log = openSync(logFile, 'a');
  const args = devServerArgs(port, join(TEST_STATE_DIR, 'temporal.db'), [
    // Alert storms signal one workflow many times at once; the default (100 buffered events per task)
    // makes the server fail the workflow task over and over under load. Same value as deploy/temporal.
    '--dynamic-config-value',
    'history.maximumBufferedEventsBatch=1000',
  ]);
  const temporal = spawn(temporalBinary(), args, { stdio: ['ignore', log, log], detached: true });
  temporal.unref();
  const address = `127.0.0.1:${port}`;
  return { address, pid: temporal.pid as number, ready: waitForTemporal(address, temporal.pid as number, logFile) };
}

/** A server someone else runs: it must answer, and know AIRE's search attributes in the namespace `default`. */
async function existingTemporal(address: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 10_000 }).catch((err: Error) => {
    throw new Error(`AIRE_TEST_TEMPORAL_ADDRESS=${address}: no Temporal server answers there (${err.message})`);
  });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    const missing = SEARCH_ATTRIBUTE_NAMES.filter((n) => !customAttributes?.[n]);
    if (missing.length > 0) throw new Error(`AIRE_TEST_TEMPORAL_ADDRESS=${address}: namespace default lacks the search attributes ${missing.join(', ')}`);
  } finally {
    await connection.close();
  }
}

export default async function globalSetup(): Promise<void> {
  rmSync(TEST_STATE_DIR, { recursive: true, force: true });
  mkdirSync(TEST_STATE_DIR, { recursive: true });
  const adminUrl = process.env.AIRE_TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/aire_test';
  // The test database is dropped and recreated: refuse anything that does not look like one.
  if (!/test/.test(new URL(adminUrl).pathname)) throw new Error(`AIRE_TEST_DATABASE_ADMIN_URL must name a database with "test" in it, not ${adminUrl}`);
  const app = new URL(adminUrl);
  app.username = 'aire_app';
  app.password = '';

  // AIRE_TEST_TEMPORAL_ADDRESS: run against a Temporal server that is already up (the PostgreSQL-backed
  // lane, scripts/test-temporal-postgres.sh) instead of starting a dev server; it is not stopped after.
  const existing = process.env.AIRE_TEST_TEMPORAL_ADDRESS;
  const { address, pid: temporalPid, ready } = existing ? { address: existing, pid: 0, ready: existingTemporal(existing) } : await startDevServer();

  const [bundle] = await Promise.all([
    bundleWorkflowCode({
      // As production bundles it: the workflows and the tracing interceptor module.
      ...WORKFLOW_BUNDLE_OPTIONS,
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    }),
    freshDatabase(adminUrl),
    ready,
  ]);
  const workflowBundlePath = join(TEST_STATE_DIR, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);

  const env: TestEnv = {
    temporalAddress: address,
    adminUrl,
    appUrl: app.toString(),
    workflowBundlePath,
    stateDir: TEST_STATE_DIR,
    temporalPid,
  };
  writeFileSync(TEST_ENV_FILE, JSON.stringify(env, null, 2));
}
