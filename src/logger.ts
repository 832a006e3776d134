import pino from 'pino';
import type { Config } from './config';
import { prettyStream } from './log-pretty';

export type Logger = pino.Logger;

/**
 * JSON lines by default, for log pipelines; AIRE_LOG_FORMAT=pretty for a person at a terminal
 * (`npm run dev` sets it): the same entries, one readable line each (src/log-pretty.ts).
 */
export function createLogger(config: Pick<Config, 'AIRE_LOG_LEVEL' | 'AIRE_LOG_FORMAT'>, component: string): Logger {
  const options = { level: config.AIRE_LOG_LEVEL, base: { component } };
  return config.AIRE_LOG_FORMAT === 'pretty' ? pino(options, prettyStream()) : pino(options);
}
