import { PoolClient } from 'pg';
import { Runbook } from '../domain/runbook';
import { first } from '../domain/must';

/** The service a runbook acts on, for brakes: the incident's first affected service, or any. */
export const brakeTarget = (affectedServices: readonly string[]): string => affectedServices[0] ?? '*';

export interface Breaker {
  runbookId: string;
  target: string;
  reason: string;
  openedAt: string;
}

/**
 * Checks the runbook's brakes for this incident, opening a circuit breaker when failures pile up.
 * Returns the reasons it must wait for a person (empty: it may run alone), and the breaker it opened.
 * Runs inside the tenant's transaction that selects the runbook, so two incidents at once see one count.
 */
export async function checkBrakes(
  client: PoolClient,
  tenantId: string,
  incidentId: string,
  runbook: Runbook,
  affectedServices: readonly string[],
): Promise<{ reasons: string[]; opened: Breaker | null }> {
  const target = brakeTarget(affectedServices);
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1 || $2 || $3))', [tenantId, runbook.id, target]);
  const scope = `runbook_id = $1 AND id <> $2 AND ($3 = '*' OR $3 = ANY(affected_services))`;
  const { maxRuns, breaker } = runbook.limits;
  const reasons: string[] = [];

  let open = (
    await client.query<{ reason: string; opened_at: Date }>(
      `SELECT reason, opened_at FROM breakers WHERE runbook_id = $1 AND target = $2 AND reset_at IS NULL`,
      [runbook.id, target],
    )
  ).rows[0];
  let opened: Breaker | null = null;
  if (!open) {
    const failureRows = (
      await client.query<{ n: number }>(
        // Failures before the last reset were forgiven by whoever reset the breaker.
        `SELECT count(*)::int AS n FROM incidents WHERE ${scope} AND status IN ('failed', 'rolled_back')
           AND updated_at > GREATEST(now() - ($4::bigint * interval '1 millisecond'),
                                     COALESCE((SELECT max(reset_at) FROM breakers WHERE runbook_id = $1 AND target = $3), '-infinity'))`,
        [runbook.id, incidentId, target, breaker.window],
      )
    ).rows;
    const failures = first(failureRows, 'the count of failures').n;
    if (failures >= breaker.failures) {
      const reason = `${failures} failures or rollbacks of runbook "${runbook.id}" on ${target === '*' ? 'any service' : target} within ${breaker.window / 1000} s`;
      const inserted = await client.query<{ opened_at: Date }>(
        `INSERT INTO breakers (tenant_id, runbook_id, target, reason) VALUES ($1, $2, $3, $4) RETURNING opened_at`,
        [tenantId, runbook.id, target, reason],
      );
      const openedAt = first(inserted.rows, 'the opened breaker').opened_at;
      open = { reason, opened_at: openedAt };
      opened = { runbookId: runbook.id, target, reason, openedAt: openedAt.toISOString() };
    }
  }
  if (open)
    reasons.push(`circuit breaker open for runbook "${runbook.id}" on ${target === '*' ? 'any service' : target}: ${open.reason}; a person must reset it`);

  const runRows = (
    await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM incidents WHERE ${scope} AND created_at > now() - ($4::bigint * interval '1 millisecond')`,
      [runbook.id, incidentId, target, maxRuns.window],
    )
  ).rows;
  const runs = first(runRows, 'the count of runs').n;
  if (runs >= maxRuns.count)
    reasons.push(
      `runbook "${runbook.id}" already ran ${runs} times on ${target === '*' ? 'any service' : target} within ${maxRuns.window / 1000} s (limit ${maxRuns.count})`,
    );
  return { reasons, opened };
}

export async function listBreakers(client: PoolClient, includeReset: boolean): Promise<Record<string, unknown>[]> {
  const { rows } = await client.query<Record<string, unknown>>(
    `SELECT id, runbook_id AS "runbookId", target, reason, opened_at AS "openedAt", reset_at AS "resetAt", reset_by AS "resetBy"
       FROM breakers ${includeReset ? '' : 'WHERE reset_at IS NULL'} ORDER BY opened_at DESC LIMIT 200`,
  );
  return rows;
}

/** Closes the open breakers for a service (and one runbook, if given); returns how many. */
export async function resetBreakers(client: PoolClient, target: string, runbookId: string | undefined, by: string): Promise<number> {
  const { rowCount } = await client.query(
    `UPDATE breakers SET reset_at = now(), reset_by = $3 WHERE reset_at IS NULL AND target = $1 AND ($2::text IS NULL OR runbook_id = $2)`,
    [target, runbookId ?? null, by],
  );
  return rowCount ?? 0;
}
