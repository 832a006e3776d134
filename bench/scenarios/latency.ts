import { call, openLoop } from '../load';
import { round, summarize } from '../stats';
import type { BenchContext, Scenario, ScenarioOutcome } from '../types';
import { benchTenant, fmt, forecast, threeStepRunbook } from './common';
import { INTAKE_TENANT } from './intake';

/**
 * 3. Latency at half the maximum rate: forecasts at 0.5 × scenario 2's throughput (open loop), each
 * timed from the moment it is sent to the moment its first action reaches the receiver.
 */
async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { stack, receiver, quick, log } = ctx;
  const tenant = await benchTenant(ctx, INTAKE_TENANT, [threeStepRunbook(receiver.url, 'r')]);
  const intake = ctx.results.get(2);
  const max = intake?.status === 'ok' ? (intake.throughput?.value ?? Number.NaN) : Number.NaN;
  const ratePerS = Number.isFinite(max) && max > 0 ? Math.max(1, max / 2) : 10;
  const seconds = quick ? 10 : 30;
  const count = Math.max(20, Math.round(ratePerS * seconds));
  const url = `${stack.apiUrl}/api/incident/from-forecast`;
  const fromAccept: number[] = [];
  log(`latency: ${count} forecasts at ${fmt(ratePerS, 1)}/s (${Number.isFinite(max) ? 'half of scenario 2' : 'no scenario 2 figure: fixed'})`);
  const loop = await openLoop(count, ratePerS, 500, seconds * 1000 + 60_000, async (i) => {
    const benchId = `s3-${i}`;
    const answer = await call('POST', url, tenant.ingestKey, forecast(benchId));
    if (answer.status !== 201) throw new Error(`intake answered ${answer.status}`);
    const first = await receiver.waitFor(`/r/${benchId}/1`, 60_000);
    if (first === undefined) throw new Error(`incident ${benchId}: no first action within 60 s`);
    fromAccept.push(Math.max(0, first - answer.doneAt));
    // The incident must finish its runbook before the scenario ends, so nothing spills into the next one.
    await receiver.waitFor(`/r/${benchId}/3`, 60_000);
    return first - answer.sentAt;
  });
  const latencies = loop.results.filter((r): r is number => r !== undefined);
  const summary = summarize(latencies);
  log(`latency: cleaning up`);
  await stack.closeAll(tenant.id);
  return {
    throughput: { value: round(ratePerS), unit: 'incidents/s offered' },
    latency: { what: 'forecast sent → first action received', ...summary },
    aims: [{ figure: 'event → first action, p99', aim: '≤ 250 ms', measured: `${fmt(summary.p99)} ms`, met: summary.p99 <= 250 }],
    details: {
      targetRatePerS: Math.round(ratePerS * 10) / 10,
      incidents: count,
      measured: latencies.length,
      errors: loop.errors.length,
      firstError: loop.errors[0] ?? null,
      skippedAtCap: loop.skipped,
      acceptedToFirstActionP50Ms: summarize(fromAccept).p50,
      acceptedToFirstActionP99Ms: summarize(fromAccept).p99,
    },
  };
}

export const latency: Scenario = { id: 3, name: 'Latency at half the max rate: event → first action', run };
