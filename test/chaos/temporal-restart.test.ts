import { join } from 'node:path';
import { testEnv } from '../support/env';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';
import { Driver, restartTemporalWhileRunning, setUpMixed } from './mixed';
import { OwnTemporal, PARAMS, WorkerFleet, scenario } from './support';

/**
 * The Temporal server itself goes away in the middle of runbooks, cleanly (SIGTERM) and by crash
 * (SIGKILL), and comes back on the same port with the same database file. The API and the workers
 * reconnect on their own; every incident completes, and nothing is lost or applied twice.
 * A dev server of this scenario's own, so the other tests' server stays up.
 */
describe('chaos: Temporal server restarted mid-runbook', () => {
  let temporal: OwnTemporal;
  let stack: Stack;
  let target: Receiver;
  let tenant: TestTenant;
  let fleet: WorkerFleet;
  let driver: Driver | undefined;

  beforeAll(async () => {
    temporal = new OwnTemporal(join(testEnv().stateDir, 'chaos'), 'temporal-restart');
    await temporal.start();
    stack = await Stack.start('chaos-temporal', { worker: false, env: { TEMPORAL_ADDRESS: temporal.address } });
    target = await new Receiver().start();
    tenant = await stack.tenant('chaos-temporal');
    fleet = new WorkerFleet({ DATABASE_URL: stack.config.DATABASE_URL, TEMPORAL_ADDRESS: temporal.address, AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE }, 2);
  }, 120_000);
  afterAll(async () => {
    driver?.stop();
    await fleet?.stop();
    await stack?.stop();
    await target?.stop();
    await temporal?.stop('SIGKILL');
  });

  test(`${PARAMS.temporalRestarts} restarts of the Temporal server while ${PARAMS.temporalIncidents} incidents run: everything completes, nothing lost`, async () => {
    const rb = uniqueId('tmprl');
    const figures: Record<string, number | string | boolean> = { temporalRestarts: PARAMS.temporalRestarts, incidents: PARAMS.temporalIncidents };
    await scenario('temporal-restart', figures, async () => {
      await setUpMixed(stack, tenant, target, rb);
      await fleet.start();

      await restartTemporalWhileRunning(
        stack,
        tenant,
        target,
        rb,
        fleet,
        // A crash first, then a clean stop, alternately; back on the same port and database file.
        { down: (crash) => temporal.stop(crash ? 'SIGKILL' : 'SIGTERM'), up: () => temporal.start() },
        { incidents: PARAMS.temporalIncidents, restarts: PARAMS.temporalRestarts, onDriver: (d) => (driver = d) },
        figures,
      );
    });
  }, 900_000);
});
