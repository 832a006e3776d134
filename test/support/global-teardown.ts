import { testEnv } from './env';

export default async function globalTeardown(): Promise<void> {
  const { temporalPid } = testEnv();
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
