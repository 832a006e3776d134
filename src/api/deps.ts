import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Pool } from '../db/pool';
import type { Logger } from '../logger';

/** What every route and service of the API works with; built once in src/api/main.ts (tests build their own). */
export interface Deps {
  pool: Pool;
  temporal: Client;
  config: Config;
  /** Structured (JSON) log; routes add tenant, incident and workflow ids. */
  log?: Logger;
}
