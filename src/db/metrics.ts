import { PoolClient } from 'pg';
import { INCIDENT_SOURCES, INCIDENT_STATUSES } from '../domain/incident';
import { first } from '../domain/must';
import { SEVERITIES, Severity } from '../domain/severity';

/** How each severity is judged: acknowledged within this many milliseconds of opening. */
export type ResponseSla = Record<Severity, number>;

export interface SlaCompliance {
  /** The response SLA (time to acknowledge), in seconds. */
  slaSeconds: number;
  /** Acknowledged within the SLA. */
  met: number;
  /** Acknowledged late, or not acknowledged and already past the SLA. */
  breached: number;
  /** Not acknowledged and still within the SLA: not judged yet, so not counted in `compliance`. */
  pending: number;
  /** met / (met + breached), 0…1; null when nothing could be judged. */
  compliance: number | null;
}

export interface MetricsSummary {
  window: { from: string; to: string; seconds: number };
  incidents: number;
  /** Mean time from opening to acknowledgement, in seconds, over the acknowledged incidents. */
  mttaSeconds: number | null;
  /** Mean time from opening to resolution, in seconds, over the resolved incidents. */
  mttrSeconds: number | null;
  /** Mean time between incident openings, in seconds; null below two incidents. */
  mtbfSeconds: number | null;
  slaBySeverity: Record<Severity, SlaCompliance>;
  byStatus: Record<string, number>;
  bySeverity: Record<string, number>;
  bySource: Record<string, number>;
}

const zeros = (keys: readonly string[]): Record<string, number> => Object.fromEntries(keys.map((k) => [k, 0]));

/**
 * Operator metrics over the incidents opened in the last `windowMs`, as of the transaction's
 * `now()`. Run it inside `withTenant`: row-level security confines every query to that tenant.
 */
export async function metricsSummary(client: PoolClient, windowMs: number, sla: ResponseSla): Promise<MetricsSummary> {
  const since = `now() - make_interval(secs => $1::float8 / 1000)`;

  const totals = await client.query<{
    from: Date;
    to: Date;
    incidents: number;
    mtta: number | null;
    mttr: number | null;
    mtbf: number | null;
  }>(
    `SELECT ${since} AS "from", now() AS "to", count(*)::int AS incidents,
            EXTRACT(EPOCH FROM avg(acknowledged_at - created_at))::float8 AS mtta,
            EXTRACT(EPOCH FROM avg(resolved_at - created_at))::float8 AS mttr,
            -- the mean of the gaps between consecutive openings is the span over (n - 1)
            CASE WHEN count(*) > 1
                 THEN EXTRACT(EPOCH FROM max(created_at) - min(created_at))::float8 / (count(*) - 1) END AS mtbf
       FROM incidents
      WHERE created_at >= ${since}`,
    [windowMs],
  );

  const severities = [...SEVERITIES];
  const slaRows = await client.query<{ severity: Severity; met: number; breached: number; pending: number }>(
    `WITH sla AS (SELECT * FROM unnest($2::text[], $3::float8[]) AS s(severity, ms))
     SELECT i.severity,
            count(*) FILTER (WHERE i.acknowledged_at IS NOT NULL
                               AND i.acknowledged_at - i.created_at <= make_interval(secs => sla.ms / 1000))::int AS met,
            count(*) FILTER (WHERE COALESCE(i.acknowledged_at, now()) - i.created_at > make_interval(secs => sla.ms / 1000))::int AS breached,
            count(*) FILTER (WHERE i.acknowledged_at IS NULL
                               AND now() - i.created_at <= make_interval(secs => sla.ms / 1000))::int AS pending
       FROM incidents i JOIN sla ON sla.severity = i.severity
      WHERE i.created_at >= ${since}
      GROUP BY i.severity`,
    [windowMs, severities, severities.map((s) => sla[s])],
  );

  const counts = await client.query<{ status: string | null; severity: string | null; source: string | null; n: number }>(
    `SELECT status, severity, source, count(*)::int AS n
       FROM incidents
      WHERE created_at >= ${since}
      GROUP BY GROUPING SETS ((status), (severity), (source))`,
    [windowMs],
  );

  const t = first(totals.rows, 'the metrics totals');
  const slaBySeverity = {} as Record<Severity, SlaCompliance>;
  for (const severity of severities) {
    const row = slaRows.rows.find((r) => r.severity === severity) ?? { met: 0, breached: 0, pending: 0 };
    const judged = row.met + row.breached;
    slaBySeverity[severity] = {
      slaSeconds: sla[severity] / 1000,
      met: row.met,
      breached: row.breached,
      pending: row.pending,
      compliance: judged === 0 ? null : row.met / judged,
    };
  }
  const byStatus = zeros(INCIDENT_STATUSES);
  const bySeverity = zeros(SEVERITIES);
  const bySource = zeros(INCIDENT_SOURCES);
  for (const r of counts.rows) {
    if (r.status !== null) byStatus[r.status] = r.n;
    else if (r.severity !== null) bySeverity[r.severity] = r.n;
    else if (r.source !== null) bySource[r.source] = r.n;
  }
  return {
    window: { from: t.from.toISOString(), to: t.to.toISOString(), seconds: windowMs / 1000 },
    incidents: t.incidents,
    mttaSeconds: t.mtta,
    mttrSeconds: t.mttr,
    mtbfSeconds: t.mtbf,
    slaBySeverity,
    byStatus,
    bySeverity,
    bySource,
  };
}
