import { execFile } from 'node:child_process';
import { testEnv } from '../support/env';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';
import { Driver, FINAL, restartTemporalWhileRunning, setUpMixed } from './mixed';
import { WorkerFleet, sleep } from './support';

/**
 * The PostgreSQL-backed Temporal server (scripts/temporal-postgres.sh, deploy/temporal/) goes away
 * in the middle of runbooks, by crash (SIGKILL) and cleanly (SIGTERM) in turn, and is started again
 * on the same databases. The same workload and checks as temporal-restart.test.ts (which does this
 * to the dev server), plus: the restarted server's visibility store (PostgreSQL too) lists every
 * incident with its final status.
 *
 * Runs in the PostgreSQL lane only (scripts/test-temporal-postgres.sh), on its own after the
 * integration suite, since it stops the server the run uses: the lane sets
 * AIRE_TEST_TEMPORAL_CONTROL to the script that kills, stops and starts that server. Skipped
 * everywhere else (`npm test`, `npm run chaos`).
 */
const CONTROL = process.env.AIRE_TEST_TEMPORAL_CONTROL;
const RESTARTS = 3;
const INCIDENTS = 12;

/** `<control> kill|stop|start`, with this process's environment (the lane's ports and databases). */
function control(command: 'kill' | 'stop' | 'start'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [CONTROL as string, command], { env: process.env, timeout: 180_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`${CONTROL} ${command} failed: ${err.message}\n${stderr}`)) : resolve(),
    );
  });
}

(CONTROL ? describe : describe.skip)('chaos: PostgreSQL-backed Temporal server restarted mid-runbook', () => {
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let fleet: WorkerFleet;
  let driver: Driver | undefined;

  beforeAll(async () => {
    stack = await Stack.start('pg-temporal-restart', { worker: false });
    target = await new Receiver().start();
    tenant = await stack.tenant('pg-temporal-restart');
    fleet = new WorkerFleet(
      { DATABASE_URL: stack.config.DATABASE_URL, TEMPORAL_ADDRESS: testEnv().temporalAddress, AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE },
      2,
    );
  }, 120_000);
  afterAll(async () => {
    driver?.stop();
    await fleet?.stop();
    await stack?.stop();
    await target?.stop();
  });

  test(`${RESTARTS} restarts of the PostgreSQL-backed Temporal server while ${INCIDENTS} incidents run: everything completes, nothing lost`, async () => {
    const rb = uniqueId('pgtmp');
    const figures: Record<string, number | string | boolean> = { restarts: RESTARTS, incidents: INCIDENTS };
    const started = Date.now();
    await setUpMixed(stack, tenant, target, rb);
    await fleet.start();

    try {
      const d = await restartTemporalWhileRunning(
        stack,
        tenant,
        target,
        rb,
        fleet,
        { down: (crash) => control(crash ? 'kill' : 'stop'), up: () => control('start') },
        { incidents: INCIDENTS, restarts: RESTARTS, onDriver: (created) => (driver = created) },
        figures,
      );

      // The visibility store lists each incident with its final status (it catches up asynchronously).
      const expected = Object.fromEntries(d.incidents.map((i) => [i.workflowId, FINAL[i.kind]]));
      let listed: Record<string, string> = {};
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(1_000)) {
        listed = {};
        for await (const wf of stack.temporal.workflow.list({ query: `AireTenant = "${tenant.slug}"` })) {
          listed[wf.workflowId] = String(wf.searchAttributes.AireStatus?.[0] ?? '');
        }
        if (JSON.stringify(Object.entries(listed).sort()) === JSON.stringify(Object.entries(expected).sort())) break;
      }
      expect(listed).toEqual(expected);
    } finally {
      figures.seconds = Math.round((Date.now() - started) / 1000);
      process.stdout.write(
        `\n[temporal-postgres restart] ${Object.entries(figures)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}\n`,
      );
    }
  }, 900_000);
});
