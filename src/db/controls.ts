import type { PoolClient } from './pool';

/**
 * The `controls` table: kill switches (kind `feature`) and blocks (kind `block`) that steps throw
 * and GET /api/controls serves. Every function runs in the caller's tenant transaction (withTenant):
 * row-level security keeps each tenant to its own.
 */
export type ControlKind = 'feature' | 'block';

export interface ControlInForce {
  kind: ControlKind;
  key: string;
  reason: string | null;
  incidentId: string | null;
  since: string;
}

export async function controlsInForce(client: PoolClient, kind?: ControlKind): Promise<ControlInForce[]> {
  const { rows } = await client.query<ControlInForce>(
    `SELECT kind, key, reason, incident_id AS "incidentId", updated_at AS "since"
       FROM controls WHERE active AND ($1::text IS NULL OR kind = $1) ORDER BY kind, key`,
    [kind ?? null],
  );
  return rows;
}

/** Whether the switch has a row, and whether it is on. */
export async function readControl(client: PoolClient, kind: ControlKind, key: string): Promise<{ existed: boolean; active: boolean }> {
  const { rows } = await client.query<{ active: boolean }>('SELECT active FROM controls WHERE kind = $1 AND key = $2', [kind, key]);
  return { existed: rows.length > 0, active: rows[0]?.active ?? false };
}

export async function writeControl(
  client: PoolClient,
  control: { tenantId: string; kind: ControlKind; key: string; active: boolean; reason: string | null; incidentId: string },
): Promise<void> {
  await client.query(
    `INSERT INTO controls (tenant_id, kind, key, active, reason, incident_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (tenant_id, kind, key) DO UPDATE SET active = EXCLUDED.active, reason = EXCLUDED.reason,
       incident_id = EXCLUDED.incident_id, updated_at = now()`,
    [control.tenantId, control.kind, control.key, control.active, control.reason, control.incidentId],
  );
}
