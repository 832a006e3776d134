import { call, closedLoop } from '../load';
import { rate, summarize } from '../stats';
import type { BenchContext, Scenario, ScenarioOutcome } from '../types';
import { benchTenant, fmt, forecast, threeStepRunbook } from './common';

export const INTAKE_TENANT = 'bench-intake';

/** Reads `aire_step_duration_seconds` sums and counts from the worker's Prometheus endpoint. */
async function stepMetrics(url: string): Promise<Record<string, number>> {
  const text = await fetch(url).then(
    (r) => r.text(),
    () => '',
  );
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^aire_step_duration_seconds_(sum|count)\{action="([^"]+)",outcome="succeeded"\} ([\d.e+-]+)$/.exec(line);
    if (m) out[`${m[2]}_${m[1]}`] = Number(m[3]);
  }
  return out;
}

/** What one incident costs Temporal: activities and workflow tasks in its history so far. */
async function historyShape(ctx: BenchContext, workflowId: string): Promise<Record<string, number>> {
  const history = await ctx.stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const count = (key: 'activityTaskScheduledEventAttributes' | 'workflowTaskCompletedEventAttributes' | 'timerStartedEventAttributes'): number =>
    events.filter((e) => e[key] != null).length;
  return {
    historyEventsPerIncident: events.length,
    activitiesPerIncident: count('activityTaskScheduledEventAttributes'),
    workflowTasksPerIncident: count('workflowTaskCompletedEventAttributes'),
    timersPerIncident: count('timerStartedEventAttributes'),
  };
}

/**
 * 2. Intake throughput: forecasts through the API, each running the three-step runbook against the
 * receiver; a lane sends the next forecast when its incident's third action arrived (closed loop).
 */
async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { stack, receiver, quick, concurrency, log } = ctx;
  const tenant = await benchTenant(ctx, INTAKE_TENANT, [threeStepRunbook(receiver.url, 'r')]);
  const url = `${stack.apiUrl}/api/incident/from-forecast`;
  const statuses = new Map<number, number>();
  const accepted: number[] = [];
  const once = async (benchId: string): Promise<number> => {
    const answer = await call('POST', url, tenant.ingestKey, forecast(benchId));
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    if (answer.status !== 201) throw new Error(`intake answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
    accepted.push(answer.ms);
    const last = await receiver.waitFor(`/r/${benchId}/3`, 300_000);
    if (last === undefined) throw new Error(`incident ${benchId} did not reach its third step in 300 s`);
    return last - answer.sentAt;
  };
  await closedLoop(10, 2, 60_000, (i) => once(`s2-warm-${i}`));
  accepted.length = 0;
  statuses.clear();
  const before = await stepMetrics(stack.workerMetricsUrl);

  const count = quick ? 100 : 250;
  log(`intake: ${count} forecasts, ${concurrency} in flight`);
  const loop = await closedLoop(count, concurrency, quick ? 60_000 : 120_000, (i) => once(`s2-${i}`));
  const done = loop.results.filter((r): r is number => r !== undefined);
  const throughput = rate(done.length, loop.elapsedMs);
  const after = await stepMetrics(stack.workerMetricsUrl);
  const stepMs = (action: string): number => {
    const n = (after[`${action}_count`] ?? 0) - (before[`${action}_count`] ?? 0);
    return n > 0 ? Math.round((((after[`${action}_sum`] ?? 0) - (before[`${action}_sum`] ?? 0)) / n) * 10_000) / 10 : Number.NaN;
  };

  const baseline = ctx.results.get(1);
  const baseRate = baseline?.status === 'ok' ? (baseline.throughput?.value ?? Number.NaN) : Number.NaN;
  const ratio = throughput / baseRate;
  const intakeLatency = summarize(accepted);
  const history = await historyShape(ctx, `incident/${tenant.slug}/forecast:s2-0`);
  log(`intake: cleaning up`);
  await stack.closeAll(tenant.id);
  return {
    throughput: { value: throughput, unit: 'incidents/s (3 steps done)' },
    latency: { what: 'forecast sent → third action received', ...summarize(done) },
    aims: [
      {
        figure: 'intake throughput vs baseline',
        aim: '≥ 0.8 × baseline',
        measured: Number.isFinite(ratio)
          ? `${fmt(throughput, 1)}/s = ${fmt(ratio, 2)} × baseline ${fmt(baseRate, 1)}/s`
          : `${fmt(throughput, 1)}/s (no baseline in this run)`,
        met: Number.isFinite(ratio) ? ratio >= 0.8 : null,
      },
    ],
    details: {
      incidents: count,
      completed: done.length,
      errors: loop.errors.length,
      firstError: loop.errors[0] ?? null,
      concurrency,
      ratioToBaseline: Number.isFinite(ratio) ? Math.round(ratio * 100) / 100 : null,
      httpStatuses: JSON.stringify(Object.fromEntries(statuses)),
      intakeP50Ms: intakeLatency.p50,
      intakeP99Ms: intakeLatency.p99,
      notifyStepMeanMs: stepMs('notify'),
      httpStepMeanMs: stepMs('http'),
      receiverDuplicates: receiver.duplicates,
      ...history,
    },
  };
}

export const intake: Scenario = { id: 2, name: 'Intake throughput: forecast → 3-step runbook', run };
