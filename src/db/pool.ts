import { Pool, PoolClient } from 'pg';

export type { Pool, PoolClient };

export function createPool(connectionString: string, max = 10): Pool {
  const pool = new Pool({ connectionString, max, application_name: 'aire' });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Runs `fn` in one transaction acting for `tenantId`. Row-level security reads the tenant from
 * this transaction-local setting, so every query inside is confined to that tenant's rows.
 */
export async function withTenant<T>(pool: Pool, tenantId: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('aire.tenant_id', $1, true)`, [tenantId]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
