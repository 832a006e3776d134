import type { Pool, PoolClient } from './pool';

/** One row of `aire_health_gauges()` (db/011_health_gauges.sql): aggregates across tenants, nothing that names one. */
export interface HealthGauge {
  metric: 'open' | 'quiet' | 'breakers';
  status: string | null;
  severity: string | null;
  value: number;
}

/**
 * AIRE's own health, read for GET /metrics: unsettled incidents by status and severity, the longest
 * silence per status, open breakers. Runs outside any tenant: the function is SECURITY DEFINER and
 * answers with counts only.
 */
export async function healthGauges(pool: Pool): Promise<HealthGauge[]> {
  const { rows } = await pool.query<HealthGauge>('SELECT metric, status, severity, value FROM aire_health_gauges()');
  return rows;
}

/**
 * Seconds from the latest approval request of a gate (a step, or the runbook when `stepId` is
 * undefined) to `at`, in the tenant's transaction; null when the request is not in the audit trail.
 * Both timestamps are the workflow's own, so the latency is the workflow's view of the wait.
 */
export async function approvalWaitSeconds(client: PoolClient, incidentId: string, stepId: string | undefined, at: string): Promise<number | null> {
  const { rows } = await client.query<{ seconds: number }>(
    `SELECT EXTRACT(EPOCH FROM $3::timestamptz - at)::float8 AS seconds
       FROM action_log
      WHERE incident_id = $1 AND kind = 'approval.requested' AND step_id IS NOT DISTINCT FROM $2
      ORDER BY id DESC LIMIT 1`,
    [incidentId, stepId ?? null, at],
  );
  return rows[0]?.seconds ?? null;
}
