import { testEnv } from './env';

export default async function globalTeardown(): Promise<void> {
  const { temporalPid } = testEnv();
  if (!temporalPid) return; // AIRE_TEST_TEMPORAL_ADDRESS: someone else's server, left running
  try {
    process.kill(-temporalPid, 'SIGTERM');
  } catch {
    try {
      process.kill(temporalPid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
