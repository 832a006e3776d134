import { performance } from 'node:perf_hooks';
import { first } from '../../src/domain/must';
import { call, closedLoop, until } from '../load';
import { rate, summarize } from '../stats';
import type { BenchContext, Scenario, ScenarioOutcome } from '../types';
import { benchTenant, fmt } from './common';

const FINGERPRINT = 'bench-storm-0001';

/** One Alertmanager webhook notification (version 4) holding one firing alert; `n` makes it a distinct firing. */
function notification(n: number, base: number): Record<string, unknown> {
  const labels = { alertname: 'BenchStorm', severity: 'warning', service: 'bench' };
  return {
    version: '4',
    groupKey: '{}:{alertname="BenchStorm"}',
    status: 'firing',
    receiver: 'aire',
    groupLabels: { alertname: 'BenchStorm' },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: [
      {
        status: 'firing',
        labels,
        annotations: { summary: 'bench alert storm' },
        // A distinct startsAt per alert: each is a separate firing, so each must be counted.
        startsAt: new Date(base + n * 1000).toISOString(),
        fingerprint: FINGERPRINT,
      },
    ],
  };
}

/**
 * 5. Alert storm: 10,000 firing alerts with one fingerprint, as fast as the client sends them
 * (closed loop). Exactly one incident must open and count every alert (occurrences).
 */
async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { stack, quick, concurrency, log } = ctx;
  const tenant = await benchTenant(ctx, 'bench-storm', []);
  const count = quick ? 2_000 : 10_000;
  const base = Date.UTC(2025, 0, 1);
  const url = `${stack.apiUrl}/api/intake/alertmanager`;
  const incidents = new Set<string>();
  const outcomes = new Map<string, number>();
  log(`storm: ${count} alerts, one fingerprint, ${concurrency} in flight`);
  const loop = await closedLoop(count, concurrency, quick ? 60_000 : 150_000, async (i) => {
    const answer = await call('POST', url, tenant.ingestKey, notification(i, base));
    if (answer.status !== 202) throw new Error(`alertmanager intake answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
    for (const a of (answer.body as { alerts: { outcome: string; incidentId?: string | null }[] }).alerts) {
      outcomes.set(a.outcome, (outcomes.get(a.outcome) ?? 0) + 1);
      if (a.incidentId) incidents.add(a.incidentId);
    }
    return answer.ms;
  });
  const latencies = loop.results.filter((r): r is number => r !== undefined);
  const acceptedPerS = rate(latencies.length, loop.elapsedMs);

  // Every accepted alert must be counted on the one incident.
  const sentDone = performance.now();
  const occurrences = async (): Promise<number> =>
    first(
      (await stack.admin.query<{ n: number }>('SELECT COALESCE(max(occurrences), 0)::int AS n FROM incidents WHERE tenant_id = $1', [tenant.id])).rows,
      'the occurrences',
    ).n;
  const counted = await until(async () => (await occurrences()) >= latencies.length, 120_000, 500);
  const recordedAfterMs = performance.now() - sentDone;
  const finalOccurrences = await occurrences();
  const rows = first(
    (await stack.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE tenant_id = $1', [tenant.id])).rows,
    'the count of incidents',
  ).n;
  log(`storm: cleaning up`);
  await stack.closeAll(tenant.id);
  const lost = latencies.length - finalOccurrences;
  return {
    throughput: { value: acceptedPerS, unit: 'alerts/s accepted' },
    latency: { what: 'alert POST → 202', ...summarize(latencies) },
    aims: [
      {
        figure: 'incidents opened by the storm',
        aim: 'exactly 1',
        measured: `${rows} (${incidents.size} id(s) answered)`,
        met: rows === 1 && incidents.size === 1,
      },
      { figure: 'alerts accepted per second', aim: '≥ 1,000/s', measured: `${fmt(acceptedPerS)}/s`, met: acceptedPerS >= 1_000 },
      {
        figure: 'alerts lost (accepted − occurrences)',
        aim: '0',
        measured: `${lost} (${finalOccurrences} counted of ${latencies.length} accepted)`,
        met: counted && lost === 0,
      },
    ],
    details: {
      alerts: count,
      sent: count - loop.notStarted,
      notSentBeforeDeadline: loop.notStarted,
      accepted: latencies.length,
      errors: loop.errors.length,
      firstError: loop.errors[0] ?? null,
      concurrency,
      outcomes: JSON.stringify(Object.fromEntries(outcomes)),
      occurrences: finalOccurrences,
      allCountedWithinS: counted ? Math.round(recordedAfterMs / 100) / 10 : null,
    },
  };
}

export const storm: Scenario = { id: 5, name: 'Alert storm: 10,000 alerts, one fingerprint', run };
