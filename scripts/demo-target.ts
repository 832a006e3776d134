/**
 * A stand-in for the systems AIRE acts on, for the quick start: a webhook receiver, a capacity API
 * (GET/PUT /services/<name>/capacity), a feature-flag push endpoint and a deployment history. It
 * prints every request it gets, so you can watch a runbook act, and be undone, from a terminal.
 */
import { styleText } from 'node:util';
import { Receiver } from '../test/support/receiver';

/**
 * The demo target's lines must not pass for AIRE's own: with AIRE's pretty logs in the same terminal
 * (npm run dev), they carry a prefix of their own, on a blue background when the terminal has colour.
 */
const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const PREFIX = colour ? styleText(['bgBlue', 'white', 'bold'], ' demo-target ') : '[demo-target]';
const say = (line: string): void => console.log(`${PREFIX} ${line}`);

async function main(): Promise<void> {
  const port = Number(process.env.AIRE_DEMO_TARGET_PORT ?? 8099);
  const target = new Receiver({ port, log: (line) => say(line) });
  target.capacity.set('/services/checkout/capacity', 2);
  // A deployment history for rollback_deploy: deploymentsUrl http://127.0.0.1:8099/deployments/checkout
  target.on('GET', '/deployments/checkout', {
    body: {
      releases: [
        { version: 'v41', status: 'good' },
        { version: 'v42', status: 'good' },
        { version: 'v43', status: 'bad', current: true },
      ],
    },
  });
  await target.start();
  say(`listening on ${target.url}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
