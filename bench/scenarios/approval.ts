import { call, closedLoop, openLoop, until } from '../load';
import { summarize } from '../stats';
import type { BenchContext, Scenario, ScenarioOutcome } from '../types';
import { benchTenant, fmt, forecast, gatedStepRunbook } from './common';

/**
 * 4. Approval: incidents whose second step waits for an approval; once all wait, approvals go out
 * at a steady rate, each timed from the approve request to that step's action at the receiver.
 */
async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { stack, receiver, quick, log } = ctx;
  const tenant = await benchTenant(ctx, 'bench-approval', [gatedStepRunbook(receiver.url, 'a')]);
  const count = quick ? 20 : 60;
  // Well below saturation (scenario 2 shows a few incidents/s): this measures the path, not a queue.
  const ratePerS = 2;
  const ids: string[] = new Array<string>(count).fill('');
  log(`approval: opening ${count} incidents that wait for approval`);
  const opened = await closedLoop(count, 16, 120_000, async (i) => {
    const answer = await call('POST', `${stack.apiUrl}/api/incident/from-forecast`, tenant.ingestKey, forecast(`s4-${i}`));
    if (answer.status !== 201) throw new Error(`intake answered ${answer.status}`);
    ids[i] = (answer.body as { id: string }).id;
  });
  if (opened.errors.length) throw new Error(`opening incidents failed: ${opened.errors[0]}`);
  const waiting = await until(async () => ((await stack.statusCounts(tenant.id)).awaiting_approval ?? 0) >= count, 180_000, 250);
  if (!waiting) throw new Error(`not all ${count} incidents reached awaiting_approval: ${JSON.stringify(await stack.statusCounts(tenant.id))}`);

  log(`approval: approving at ${ratePerS}/s`);
  const httpMs: number[] = [];
  const loop = await openLoop(count, ratePerS, 200, 120_000, async (i) => {
    const answer = await call('POST', `${stack.apiUrl}/api/incidents/${ids[i]}/approve`, tenant.approverKey, { reason: 'bench' });
    if (answer.status !== 200) throw new Error(`approve answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
    httpMs.push(answer.ms);
    const at = await receiver.waitFor(`/a/s4-${i}/1`, 60_000);
    if (at === undefined) throw new Error(`incident s4-${i}: no action within 60 s of its approval`);
    return at - answer.sentAt;
  });
  const latencies = loop.results.filter((r): r is number => r !== undefined);
  const summary = summarize(latencies);
  log(`approval: cleaning up`);
  await stack.closeAll(tenant.id);
  return {
    throughput: { value: ratePerS, unit: 'approvals/s offered' },
    latency: { what: 'approve sent → next step action received', ...summary },
    aims: [{ figure: 'approve → next action, p99', aim: '≤ 200 ms', measured: `${fmt(summary.p99)} ms`, met: summary.p99 <= 200 }],
    details: {
      incidents: count,
      measured: latencies.length,
      errors: loop.errors.length,
      firstError: loop.errors[0] ?? null,
      approveHttpP50Ms: summarize(httpMs).p50,
      approveHttpP99Ms: summarize(httpMs).p99,
    },
  };
}

export const approval: Scenario = { id: 4, name: 'Approval: approve → next step action', run };
