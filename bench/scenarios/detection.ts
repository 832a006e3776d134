import { Answer, call, closedLoop } from '../load';
import { rate, summarize } from '../stats';
import { Skip } from '../types';
import type { BenchContext, Scenario, ScenarioOutcome } from '../types';
import { benchTenant, fmt } from './common';

const RULES = 50;
const TYPES = 25;

const missingRoute = (a: Answer): boolean => a.status === 404 && /no route/i.test(JSON.stringify(a.body));

/** Rule k matches events of type t(k mod 25) whose value exceeds k; counted per host, 5 within a minute open an incident. */
function rule(k: number): Record<string, unknown> {
  return {
    id: `bench-rule-${k}`,
    name: `Bench rule ${k}`,
    match: [
      { field: 'type', op: 'equals', value: `bench.t${k % TYPES}` },
      { field: 'value', op: 'gt', value: k },
    ],
    threshold: { count: 5, window: '1m' },
    correlateBy: 'host',
    category: 'bench',
    severity: 'low',
  };
}

/**
 * 7. Detection: generic JSON events through 50 rules with thresholds and correlation
 * (POST /api/events, rules created through /api/rules). Skipped while those routes do not exist.
 */
async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { stack, quick, concurrency, log } = ctx;
  const tenant = await benchTenant(ctx, 'bench-detection', []);
  const events = await call('POST', `${stack.apiUrl}/api/events`, tenant.adminKey, { id: 'probe', type: 'bench.probe' });
  const rules = await call('GET', `${stack.apiUrl}/api/rules`, tenant.adminKey);
  if (missingRoute(events) || missingRoute(rules)) {
    const missing = [missingRoute(events) ? 'POST /api/events' : '', missingRoute(rules) ? '/api/rules' : ''].filter(Boolean).join(' and ');
    throw new Skip(`${missing} not in the API yet (detection rules are being built in another change)`);
  }
  for (let k = 0; k < RULES; k += 1) {
    let answer = await call('PUT', `${stack.apiUrl}/api/rules/bench-rule-${k}`, tenant.adminKey, rule(k));
    if (answer.status === 404 || answer.status === 405) answer = await call('POST', `${stack.apiUrl}/api/rules`, tenant.adminKey, rule(k));
    if (answer.status >= 300) throw new Error(`creating rule ${k} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  }
  const count = quick ? 500 : 3_000;
  log(`detection: ${count} events through ${RULES} rules, ${concurrency} in flight`);
  let matches = 0;
  let incidents = 0;
  const loop = await closedLoop(count, concurrency, quick ? 30_000 : 60_000, async (i) => {
    const event = { id: `s7-${i}`, type: `bench.t${i % TYPES}`, host: `host-${i % 4}`, value: i % 100, service: 'bench' };
    const answer = await call('POST', `${stack.apiUrl}/api/events`, tenant.ingestKey, event);
    if (answer.status >= 300) throw new Error(`events answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
    const outcome = answer.body as { matches?: { incident?: { created?: boolean } | null }[] };
    matches += outcome.matches?.length ?? 0;
    incidents += (outcome.matches ?? []).filter((m) => m.incident?.created === true).length;
    return answer.ms;
  });
  const latencies = loop.results.filter((r): r is number => r !== undefined);
  const perS = rate(latencies.length, loop.elapsedMs);
  log(`detection: closing the incidents (not waited for)`);
  await stack.closeAll(tenant.id, 0);
  return {
    throughput: { value: perS, unit: 'events/s' },
    latency: { what: 'event POST → answer', ...summarize(latencies) },
    aims: [{ figure: 'detection throughput', aim: 'report events/s', measured: `${fmt(perS)} events/s`, met: null }],
    details: {
      events: count,
      accepted: latencies.length,
      errors: loop.errors.length,
      firstError: loop.errors[0] ?? null,
      ruleMatches: matches,
      incidentsOpened: incidents,
      rules: RULES,
    },
  };
}

export const detection: Scenario = { id: 7, name: 'Detection: generic events through 50 rules', run };
