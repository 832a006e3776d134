import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { createAppPool } from '../db/pool';
import { createLogger } from '../logger';
import { aireDataConverter } from '../temporal/payload-codec';
import { startTracing } from '../tracing';
import { createApp } from './app';
import { createApiServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config, 'api');
  // Before the client and the app: both look for it (Temporal interceptors, the request span).
  const tracing = await startTracing('aire-api');
  if (tracing) log.info('tracing on (OpenTelemetry, OTEL_* variables)');
  // Bounded waits for a connection and for each answer: with PostgreSQL away, requests get
  // 503 + Retry-After instead of hanging until it is back (see DATABASE_CONNECT_TIMEOUT in src/config.ts).
  const pool = createAppPool(config);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: aireDataConverter(config.AIRE_PAYLOAD_KEYS),
    interceptors: tracing?.clientInterceptors,
  });
  const app = createApp({ pool, temporal, config }, log);
  // Header, request and keep-alive timeouts against slow clients: see src/api/server.ts.
  const server = createApiServer(app);
  server.listen(config.PORT, config.HOST, () => log.info({ url: `http://${config.HOST}:${config.PORT}` }, 'api listening'));

  // Finish the requests in flight, then let go of the database and Temporal, and send the last spans.
  const stop = (signal: string): void => {
    log.info({ signal }, 'api stopping');
    server.close(() => {
      void Promise.allSettled([pool.end(), connection.close(), tracing?.shutdown()]).then(() => process.exit(0));
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
