import { PoolClient } from 'pg';
import { first } from '../domain/must';

/** Which attempt of which run of a step a record comes from. */
export interface StepAttemptRef {
  incidentId: string;
  stepId: string;
  /** `stepId`, or `stepId:r<round>` for a run a person asked for after the step failed. */
  stepKey: string;
  round: number;
  phase: 'execute' | 'compensate';
  attempt: number;
}

/**
 * True when a record of `ref` would come too late: a later attempt of the same run has recorded
 * its start, or the workflow has moved past the run (it failed for good, or is being undone).
 * A run that has already recorded success is not "past": an attempt after one whose completion
 * never reached Temporal (its worker was killed) must run and record again. Records of an attempt that
 * Temporal gave up on (its timeout passed while PostgreSQL was unreachable, the worker was cut
 * off) can reach the database after that: they must not turn a step back to `running`, or a
 * compensated one back to `succeeded`.
 *
 * Takes a transaction-scoped lock on the step, so that two attempts' records are checked and
 * written one after the other: call it first in the transaction that writes the record.
 */
export async function stepRecordIsStale(client: PoolClient, ref: StepAttemptRef): Promise<boolean> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))', [`${ref.incidentId}/${ref.stepId}`]);
  // A later attempt of the same run recorded its start (event keys `<prefix><attempt>:started`).
  const laterAttempt = `CASE WHEN starts_with(event_key, $3) AND substr(event_key, length($3) + 1) ~ '^[0-9]+:started$'
                        THEN split_part(substr(event_key, length($3) + 1), ':', 1)::int ELSE 0 END > $4`;
  // …or the run failed for good or is being undone (execute), or the undoing failed for good (compensate).
  const ended =
    ref.phase === 'execute'
      ? `(kind = 'step.failed' AND COALESCE(detail->>'round', '0') = $5) OR starts_with(event_key, $6)`
      : `kind = 'step.compensation_failed' AND $5::text IS NULL AND $6::text IS NULL`;
  const { rows } = await client.query<{ stale: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM action_log WHERE incident_id = $1 AND step_id = $2 AND (${laterAttempt} OR ${ended})) AS stale`,
    ref.phase === 'execute'
      ? [ref.incidentId, ref.stepId, `step:${ref.stepKey}:execute:`, ref.attempt, String(ref.round), `step:${ref.stepId}:compensat`]
      : [ref.incidentId, ref.stepId, `step:${ref.stepId}:compensate:`, ref.attempt, null, null],
  );
  if (rows.length !== 1) throw new Error(`step record check: expected one row from PostgreSQL, got ${rows.length}`);
  return first(rows, 'the step record check').stale;
}
