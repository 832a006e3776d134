/**
 * The worker's lifecycle metrics, taken from the transitions it writes (src/activities/store.ts):
 * the workflow decides, the activity that writes the decision counts it. A transition is counted
 * only when its audit entry was new, and only once its transaction committed, so a retried write
 * (an activity run twice, a rolled-back transaction) counts once.
 */
import type { PoolClient } from 'pg';
import { approvalWaitSeconds } from '../db/health';
import { approvalLatency, breakersOpened, incidentTransitions, slaBreaches, stepsFinished } from '../metrics';
import type { Transition } from './store';

/** What one new transition adds to the metrics, worked out inside its transaction. */
export type Observation =
  | { metric: 'transition'; status: string }
  | { metric: 'step'; action: string; outcome: 'succeeded' | 'failed' }
  | { metric: 'approval'; gate: 'runbook' | 'step'; decision: 'approve' | 'reject' | 'timed_out'; seconds: number }
  | { metric: 'sla'; severity: string }
  | { metric: 'breaker' };

const DECISIONS = { 'approval.granted': 'approve', 'approval.rejected': 'reject', 'approval.timed_out': 'timed_out' } as const;

/** The observations of a transition just written (its audit entry was new), read in its transaction. */
export async function observationsOf(client: PoolClient, t: Transition): Promise<Observation[]> {
  const found: Observation[] = [];
  if (t.incident?.status) found.push({ metric: 'transition', status: t.incident.status });
  if ((t.kind === 'step.succeeded' || t.kind === 'step.failed') && t.step) {
    found.push({ metric: 'step', action: t.step.row.action, outcome: t.kind === 'step.succeeded' ? 'succeeded' : 'failed' });
  }
  if (t.kind === 'sla.breached') {
    const severity = t.detail?.severity;
    found.push({ metric: 'sla', severity: typeof severity === 'string' ? severity : 'unknown' });
  }
  if (t.kind === 'approval.granted' || t.kind === 'approval.rejected' || t.kind === 'approval.timed_out') {
    const seconds = await approvalWaitSeconds(client, t.incidentId, t.stepId, t.at);
    if (seconds !== null) found.push({ metric: 'approval', gate: t.stepId ? 'step' : 'runbook', decision: DECISIONS[t.kind], seconds: Math.max(0, seconds) });
  }
  return found;
}

/** Counts what committed. */
export function observe(observations: readonly Observation[]): void {
  for (const o of observations) {
    if (o.metric === 'transition') incidentTransitions.inc({ status: o.status });
    else if (o.metric === 'step') stepsFinished.inc({ action: o.action, outcome: o.outcome });
    else if (o.metric === 'approval') approvalLatency.observe({ gate: o.gate, decision: o.decision }, o.seconds);
    else if (o.metric === 'sla') slaBreaches.inc({ severity: o.severity });
    else breakersOpened.inc();
  }
}
