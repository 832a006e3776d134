import { Pool, PoolClient } from 'pg';
import type { Config } from '../config';

export type { Pool, PoolClient };

/** Bounds on waiting for PostgreSQL; 0 (the default) waits as long as it takes. */
export interface PoolTimeouts {
  /**
   * For a connection, new or free in the pool; running out fails the query with "timeout exceeded
   * when trying to connect" or "Connection terminated due to connection timeout".
   */
  connectTimeoutMs?: number;
  /**
   * For the answer to each query, on the client side (pg's `query_timeout`): an established
   * connection whose peer went silent (a partition, a host that froze) gets no RST, so without it a
   * query waits as long as TCP takes to give up — many minutes. Fails with "Query read timeout".
   */
  queryTimeoutMs?: number;
}

/**
 * The application's pool, as the API and the worker use it: `DATABASE_URL`, `DATABASE_POOL_SIZE`
 * connections, and the bounded waits of DATABASE_CONNECT_TIMEOUT / DATABASE_QUERY_TIMEOUT (see
 * src/config.ts for why both processes need them).
 */
export function createAppPool(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_SIZE' | 'DATABASE_CONNECT_TIMEOUT' | 'DATABASE_QUERY_TIMEOUT'>): Pool {
  return createPool(config.DATABASE_URL, config.DATABASE_POOL_SIZE, {
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT,
    queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT,
  });
}

export function createPool(connectionString: string, max = 10, timeouts: PoolTimeouts = {}): Pool {
  const pool = new Pool({
    connectionString,
    max,
    application_name: 'aire',
    connectionTimeoutMillis: timeouts.connectTimeoutMs ?? 0,
    ...(timeouts.queryTimeoutMs ? { query_timeout: timeouts.queryTimeoutMs } : {}),
  });
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
  // Set when the connection is no longer usable: released with it, the pool discards the client.
  let broken: Error | undefined;
  // While checked out, a client has no error listener of the pool's: a connection reset in the
  // middle of the transaction (PostgreSQL restarted, a partition ending in a RST) would be an
  // unhandled 'error' event and crash the process. The query in flight fails with the same error;
  // this listener only marks the client as broken.
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('aire.tenant_id', $1, true)`, [tenantId]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // After a query timeout the connection still waits for that answer: a ROLLBACK would only queue
    // behind it (and time out too), and the next request to get this client would wait the same.
    if (err instanceof Error && err.message === 'Query read timeout') broken = err;
    else await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
