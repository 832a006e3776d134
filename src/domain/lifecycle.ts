/**
 * The incident status lifecycle as one transition table. The incident workflow changes status only
 * through it (IncidentRun.setStatus), so an illegal transition is refused in one place: the
 * workflow task fails with the reason, visibly in the Web UI, and the incident waits unchanged for
 * a fixed worker instead of recording a status that cannot be. Schema-free: the workflow imports it.
 *
 * People may roll back, resolve or close at any time until the incident is closed: those three
 * are reachable from every status but `closed`, which is final.
 */
import type { IncidentStatus } from './incident';

const ANY_TIME: readonly IncidentStatus[] = ['resolved', 'rolled_back', 'closed'];
const AGAIN: readonly IncidentStatus[] = ['awaiting_approval', 'remediating'];

export const STATUS_TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  open: ['acknowledged', 'awaiting_approval', 'remediating', ...ANY_TIME],
  acknowledged: ['awaiting_approval', 'remediating', ...ANY_TIME],
  // A gate: approved (remediating), rejected (investigating, or failed when the runbook aborts), timed out (failed).
  awaiting_approval: ['remediating', 'investigating', 'failed', ...ANY_TIME],
  remediating: ['awaiting_approval', 'mitigated', 'failed', ...ANY_TIME],
  // …and people may run another runbook on the incident (its gate, then its steps).
  investigating: [...AGAIN, ...ANY_TIME],
  mitigated: [...AGAIN, ...ANY_TIME],
  failed: [...AGAIN, ...ANY_TIME],
  resolved: ['rolled_back', 'closed'],
  rolled_back: [...AGAIN, 'resolved', 'closed'],
  closed: [],
};

/** Why `from` → `to` is not a transition of the lifecycle, or undefined when it is. */
export function illegalTransition(from: IncidentStatus, to: IncidentStatus): string | undefined {
  if (STATUS_TRANSITIONS[from].includes(to)) return undefined;
  const allowed = STATUS_TRANSITIONS[from];
  return `an incident cannot go from ${from} to ${to} (from ${from}: ${allowed.length > 0 ? allowed.join(', ') : 'nothing, it is final'})`;
}
