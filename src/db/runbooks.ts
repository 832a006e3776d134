import { PoolClient } from 'pg';
import { first } from '../domain/must';
import { Runbook, RunbookSchema, RunbookVersion } from '../domain/runbook';

interface RunbookRow {
  id: string;
  version: number;
  definition: unknown;
  created_at: Date;
  created_by: string;
}

function toVersion(row: RunbookRow): RunbookVersion & { createdAt: string; createdBy: string } {
  // Stored definitions were validated on write; parsing again fills defaults added since.
  return { runbook: RunbookSchema.parse(row.definition), version: row.version, createdAt: row.created_at.toISOString(), createdBy: row.created_by };
}

/** The newest version of every runbook of the tenant. */
export async function latestRunbooks(client: PoolClient): Promise<ReturnType<typeof toVersion>[]> {
  const { rows } = await client.query<RunbookRow>(
    `SELECT DISTINCT ON (id) id, version, definition, created_at, created_by FROM runbooks ORDER BY id, version DESC`,
  );
  return rows.map(toVersion);
}

export async function getRunbook(client: PoolClient, id: string, version?: number): Promise<ReturnType<typeof toVersion> | null> {
  const { rows } = await client.query<RunbookRow>(
    version === undefined
      ? 'SELECT id, version, definition, created_at, created_by FROM runbooks WHERE id = $1 ORDER BY version DESC LIMIT 1'
      : 'SELECT id, version, definition, created_at, created_by FROM runbooks WHERE id = $1 AND version = $2',
    version === undefined ? [id] : [id, version],
  );
  return rows[0] ? toVersion(rows[0]) : null;
}

export async function listRunbookVersions(client: PoolClient, id: string): Promise<ReturnType<typeof toVersion>[]> {
  const { rows } = await client.query<RunbookRow>('SELECT id, version, definition, created_at, created_by FROM runbooks WHERE id = $1 ORDER BY version DESC', [
    id,
  ]);
  return rows.map(toVersion);
}

/**
 * Adds a version: 1 for a new runbook, previous + 1 otherwise. Versions are never changed, so an
 * incident pinned to one keeps running exactly what it started with.
 */
export async function insertRunbookVersion(client: PoolClient, tenantId: string, runbook: Runbook, createdBy: string): Promise<number> {
  // Serialise writers of the same runbook id so two PUTs cannot claim the same version.
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1 || $2))', [tenantId, runbook.id]);
  const { rows } = await client.query<{ version: number }>(
    `INSERT INTO runbooks (tenant_id, id, version, definition, created_by)
     SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4 FROM runbooks WHERE tenant_id = $1 AND id = $2
     RETURNING version`,
    [tenantId, runbook.id, JSON.stringify(runbook), createdBy],
  );
  return first(rows, `the new version of runbook ${runbook.id}`).version;
}
