import pino from 'pino';
import type { Config } from './config';

export type Logger = pino.Logger;

export function createLogger(config: Pick<Config, 'AIRE_LOG_LEVEL'>, component: string): Logger {
  return pino({ level: config.AIRE_LOG_LEVEL, base: { component } });
}
