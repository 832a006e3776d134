import { performance } from 'node:perf_hooks';
import { call, closedLoop, sleep, until } from '../load';
import { rate, summarize } from '../stats';
import type { BenchContext, Scenario, ScenarioOutcome } from '../types';
import { benchTenant, fmt, forecast, gatedRunbook } from './common';

/**
 * 6. Backlog: 1,000 incidents open at once, each waiting for approval of its runbook; RSS of the
 * API and worker while they wait; then every one is approved and the time to drain is measured
 * (first approve sent → last step action received).
 */
async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { stack, receiver, quick, log } = ctx;
  const tenant = await benchTenant(ctx, 'bench-backlog', [gatedRunbook(receiver.url, 'b')]);
  const count = quick ? 200 : 1_000;
  const idle = stack.rss();
  const ids: string[] = new Array<string>(count).fill('');
  log(`backlog: opening ${count} incidents that wait for approval`);
  const openStart = performance.now();
  const opened = await closedLoop(count, 32, 300_000, async (i) => {
    const answer = await call('POST', `${stack.apiUrl}/api/incident/from-forecast`, tenant.ingestKey, forecast(`s6-${i}`));
    if (answer.status !== 201) throw new Error(`intake answered ${answer.status}`);
    ids[i] = (answer.body as { id: string }).id;
  });
  if (opened.errors.length) throw new Error(`opening incidents failed: ${opened.errors[0]}`);
  const waiting = await until(async () => ((await stack.statusCounts(tenant.id)).awaiting_approval ?? 0) >= count, 300_000, 250);
  const allWaitingS = (performance.now() - openStart) / 1000;
  if (!waiting) throw new Error(`not all ${count} incidents reached awaiting_approval: ${JSON.stringify(await stack.statusCounts(tenant.id))}`);

  // RSS while all of them wait: sampled for a few seconds, the highest reading kept.
  const waitingRss = { api: 0, worker: 0 };
  for (let i = 0; i < 10; i += 1) {
    const r = stack.rss();
    waitingRss.api = Math.max(waitingRss.api, r.api);
    waitingRss.worker = Math.max(waitingRss.worker, r.worker);
    await sleep(500);
  }
  log(`backlog: RSS while ${count} wait: api ${waitingRss.api} MB, worker ${waitingRss.worker} MB; approving all`);
  Object.assign(ctx.interim, {
    incidents: count,
    idleWorkerRssMb: idle.worker,
    waitingApiRssMb: waitingRss.api,
    waitingWorkerRssMb: waitingRss.worker,
    allWaitingAfterS: Math.round(allWaitingS * 10) / 10,
  });

  const drainStart = performance.now();
  const approvals = await closedLoop(count, 32, 300_000, async (i) => {
    const answer = await call('POST', `${stack.apiUrl}/api/incidents/${ids[i]}/approve`, tenant.approverKey, { reason: 'bench' });
    if (answer.status !== 200) throw new Error(`approve answered ${answer.status}`);
    return answer.sentAt;
  });
  const drained = await until(() => receiver.countUnder('/b/s6-') >= count, 300_000, 100);
  const arrivals = ids.map((_, i) => receiver.arrived(`/b/s6-${i}/1`)).filter((t): t is number => t !== undefined);
  const lastArrival = arrivals.length ? Math.max(...arrivals) : Number.NaN;
  const drainS = (lastArrival - drainStart) / 1000;
  const perIncident = approvals.results.map((sent, i) => {
    const at = receiver.arrived(`/b/s6-${i}/1`);
    return sent !== undefined && at !== undefined ? at - sent : undefined;
  });
  log(`backlog: closing the incidents (not waited for)`);
  await stack.closeAll(tenant.id, 0);
  return {
    throughput: { value: rate(arrivals.length, lastArrival - drainStart), unit: 'approved incidents/s drained' },
    latency: { what: 'approve sent → step action received (under drain)', ...summarize(perIncident.filter((v): v is number => v !== undefined)) },
    aims: [
      { figure: `worker RSS with ${count} waiting`, aim: '≤ 400 MB', measured: `${fmt(waitingRss.worker)} MB`, met: waitingRss.worker <= 400 },
      { figure: `API RSS with ${count} waiting`, aim: 'report', measured: `${fmt(waitingRss.api)} MB`, met: null },
      { figure: `time to drain ${count} approvals`, aim: 'report', measured: `${fmt(drainS, 1)} s`, met: drained ? null : false },
    ],
    details: {
      incidents: count,
      idleApiRssMb: idle.api,
      idleWorkerRssMb: idle.worker,
      waitingApiRssMb: waitingRss.api,
      waitingWorkerRssMb: waitingRss.worker,
      openedPerS: rate(count, allWaitingS * 1000),
      allWaitingAfterS: Math.round(allWaitingS * 10) / 10,
      drainS: Math.round(drainS * 10) / 10,
      drained,
      approveErrors: approvals.errors.length,
      firstError: approvals.errors[0] ?? null,
    },
  };
}

export const backlog: Scenario = { id: 6, name: 'Backlog: 1,000 waiting for approval, then approve all', run };
