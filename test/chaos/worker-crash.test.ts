import { Receiver } from '../support/receiver';
import { Stack, TestTenant, uniqueId } from '../support/stack';
import { Driver, setUpMixed, verifyMixed } from './mixed';
import { PARAMS, WorkerFleet, chaosStack, randomBetween, scenario, sleep } from './support';

/**
 * SIGKILL worker processes at random moments, over and over, while twenty incidents run at all
 * times: automated runbooks, runbooks with an approval gate (approved from the test), and runbooks
 * whose last step fails so the others are compensated. A new worker comes up after every kill.
 * Afterwards every incident is where its runbook leads, none is stuck, and the receiver — which
 * honours Idempotency-Key like a real platform API — saw every step and compensation applied once.
 */
describe('chaos: worker processes killed at random', () => {
  let stack: Stack;
  let own: Awaited<ReturnType<typeof chaosStack>> | undefined;
  let target: Receiver;
  let tenant: TestTenant;
  let fleet: WorkerFleet;
  let driver: Driver | undefined;

  beforeAll(async () => {
    own = await chaosStack('chaos-crash');
    stack = own.stack;
    target = await new Receiver().start();
    tenant = await stack.tenant('chaos-crash');
    fleet = new WorkerFleet(
      { DATABASE_URL: stack.config.DATABASE_URL, TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS, AIRE_TASK_QUEUE: stack.config.AIRE_TASK_QUEUE },
      PARAMS.workerFleet,
    );
  });
  afterAll(async () => {
    driver?.stop();
    await fleet?.stop();
    await own?.stop();
    await target?.stop();
  });

  test(`${PARAMS.workerKills} SIGKILLs while ${PARAMS.concurrentIncidents} incidents run mixed runbooks: all complete, nothing applied twice`, async () => {
    const rb = uniqueId('crash');
    const figures: Record<string, number | string | boolean> = { workerKills: PARAMS.workerKills, concurrentIncidents: PARAMS.concurrentIncidents };
    await scenario('worker-crash', figures, async () => {
      await setUpMixed(stack, tenant, target, rb);
      await fleet.start();

      // Twenty incidents in flight at all times while the kills go on; none opened after.
      let killing = true;
      const d = new Driver(stack, tenant, rb);
      driver = d;
      d.start(() => (killing ? PARAMS.concurrentIncidents : 0));
      while (d.incidents.length < PARAMS.concurrentIncidents && !d.ended) await sleep(100);

      const chaosStarted = Date.now();
      try {
        for (let k = 0; k < PARAMS.workerKills && !d.ended; k += 1) {
          await sleep(randomBetween(PARAMS.killGapMs[0], PARAMS.killGapMs[1]));
          await fleet.killOne();
        }
      } finally {
        killing = false;
      }
      figures.chaosSeconds = Math.round((Date.now() - chaosStarted) / 1000);
      figures.killsSurvived = fleet.kills;
      await fleet.settle();
      figures.workerProcessesStarted = fleet.started;
      figures.workerStartFailures = fleet.startFailures.length;
      expect(fleet.startFailures).toEqual([]);
      // Every worker that ended was killed by the test: none crashed on its own.
      figures.workerCrashes = fleet.unexpectedExits.length;
      expect(fleet.unexpectedExits).toEqual([]);

      // Once the kills stop, everything finishes: each incident at its runbook's end, nothing applied twice.
      const finished = await d.finish(240_000);
      await verifyMixed(stack, tenant, target, rb, d.incidents, finished, figures);
    });
  }, 900_000);
});
