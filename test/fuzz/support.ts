import type { Pool } from '../../src/db/pool';

/** Rows of every table that has a tenant_id, for one tenant, plus its settings: what "nothing written" compares. */
export async function tenantFootprint(admin: Pool, tenantId: string): Promise<Record<string, unknown>> {
  const { rows: tables } = await admin.query<{ table_name: string }>(
    `SELECT DISTINCT table_name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`,
  );
  const counts: Record<string, unknown> = {};
  for (const { table_name: table } of tables) {
    const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE tenant_id = $1`, [tenantId]);
    counts[table] = rows[0]!.n;
  }
  const { rows } = await admin.query<{ settings: unknown; updated: string }>('SELECT settings FROM tenants WHERE id = $1', [tenantId]);
  counts['tenants.settings'] = rows[0]?.settings ?? null;
  return counts;
}

/** Runs `tasks` with at most `concurrency` at a time. */
export async function pool<T>(tasks: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  });
  await Promise.all(lanes);
  return results;
}
