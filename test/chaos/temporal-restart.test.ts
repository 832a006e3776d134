import { join } from 'node:path';
import { testEnv } from '../support/env';
import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';
import { Driver, setUpMixed, verifyMixed } from './mixed';
import { OwnTemporal, PARAMS, WorkerFleet, randomBetween, scenario, sleep } from './support';

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

      // All incidents opened up front (one more during each restart, below); the driver follows them and approves gates.
      let restarting = true;
      const d = new Driver(stack, tenant, rb);
      driver = d;
      for (let n = 0; n < PARAMS.temporalIncidents; n += 1) await d.open();
      d.start(() => 0, () => restarting);

      let downSeconds = 0;
      const declaredWhileDown: Promise<void>[] = [];
      try {
        for (let r = 0; r < PARAMS.temporalRestarts && !d.ended; r += 1) {
          // Somewhere in the middle of the runbooks: steps in flight, gates waiting, compensations running.
          await sleep(randomBetween(1_500, 4_000));
          const down = Date.now();
          // A crash first, then a clean stop, alternately.
          await temporal.stop(r % 2 === 0 ? 'SIGKILL' : 'SIGTERM');
          // While it is down, an incident is declared: the API answers 503 (or waits for the server),
          // and the declaration is retried with the same Idempotency-Key until it is taken.
          declaredWhileDown.push(d.open());
          await sleep(randomBetween(1_000, 3_000));
          await temporal.start();
          downSeconds += (Date.now() - down) / 1000;
        }
        await Promise.all(declaredWhileDown);
      } finally {
        restarting = false;
      }
      figures.temporalDownSeconds = Math.round(downSeconds);
      figures.declarationsRetried = d.refusals.filter((r) => r.startsWith('declare')).length;

      const finished = await d.finish(240_000);
      figures.workerStartFailures = fleet.startFailures.length;
      // The workers rode through the restarts: none died, none had to be replaced.
      figures.workerCrashes = fleet.unexpectedExits.length;
      expect(fleet.unexpectedExits).toEqual([]);
      expect(fleet.ready.length).toBe(2);
      expect(d.incidents.length).toBe(PARAMS.temporalIncidents + PARAMS.temporalRestarts);
      await verifyMixed(stack, tenant, target, rb, d.incidents, finished, figures);
      // Every workflow is still known to the restarted server, running (incidents stay open until closed).
      for (const i of d.incidents) expect((await stack.temporal.workflow.getHandle(i.workflowId).describe()).status.name).toBe('RUNNING');
    });
  }, 900_000);
});
