import type { Config } from '../config';
import { readControl, writeControl } from '../db/controls';
import { Pool, withTenant } from '../db/pool';
import type { ActionPorts, ControlsPort } from './actions/types';

/** What the ports are built from: the worker's configuration and database pool, which actions never see. */
export interface PortDeps {
  pool: Pool;
  config: Config;
}

/** The tenant's switches, each read and write in a transaction of its own under the tenant's row-level security. */
export function controlsPort(pool: Pool, tenantId: string): ControlsPort {
  return {
    read: (kind, key) => withTenant(pool, tenantId, (client) => readControl(client, kind, key)),
    write: (change) => withTenant(pool, tenantId, (client) => writeControl(client, { tenantId, ...change })),
  };
}

/** Everything an action may use besides its step (src/activities/actions/types.ts), for one tenant. */
export function actionPorts(deps: PortDeps, tenantId: string): ActionPorts {
  const { config } = deps;
  return {
    egress: { allowlist: config.AIRE_EGRESS_ALLOWLIST },
    commands: { allowlist: config.AIRE_COMMAND_ALLOWLIST },
    smtp: { host: config.AIRE_SMTP_HOST, port: config.AIRE_SMTP_PORT, from: config.AIRE_SMTP_FROM },
    webhookSecret: config.AIRE_WEBHOOK_SECRET,
    sensitiveKeys: config.AIRE_SENSITIVE_KEYS,
    controls: controlsPort(deps.pool, tenantId),
  };
}
