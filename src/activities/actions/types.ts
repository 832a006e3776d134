import type { z } from 'zod';
import type { ActionSpec } from '../../domain/actions';
import type { SwitchKind, SwitchState } from '../../domain/actions/switch';

/** The tenant's switches (the `controls` table), read and thrown by `disable_feature` and `block`. */
export interface ControlsPort {
  /** Whether the switch has a row, and whether it is on. */
  read(kind: SwitchKind, key: string): Promise<SwitchState>;
  write(change: { kind: SwitchKind; key: string; active: boolean; reason: string | null; incidentId: string }): Promise<void>;
}

/**
 * What actions may use of the worker, and no more: built in one place (src/activities/ports.ts)
 * from the configuration and the database pool, which actions never see.
 */
export interface ActionPorts {
  /** Hosts outbound calls may reach (AIRE_EGRESS_ALLOWLIST): pass it to `callOut`. */
  egress: { allowlist: readonly string[] };
  /** Executables `command` may run (AIRE_COMMAND_ALLOWLIST). */
  commands: { allowlist: readonly string[] };
  /** The relay `notify` emails through unless a step names one, and the sender (AIRE_SMTP_*). */
  smtp: { host: string; port: number; from: string };
  /** Signs webhook notifications when set (AIRE_WEBHOOK_SECRET). */
  webhookSecret?: string;
  /** Keys redacted besides the built-in ones (AIRE_SENSITIVE_KEYS). */
  sensitiveKeys: readonly string[];
  controls: ControlsPort;
}

/** What every action gets besides its parameters. */
export interface ActionContext extends ActionPorts {
  tenantId: string;
  incidentId: string;
  stepId: string;
  incident: { id: string; title: string; severity: string; source: string };
  /**
   * Derived from the incident and step, not the attempt: a retried activity sends the same key, so
   * a target that honours `Idempotency-Key` applies the change once.
   */
  idempotencyKey: string;
  /** Returns the value stored under `key` for this step, producing and storing it the first time. */
  remember<T>(key: string, produce: () => Promise<T>): Promise<T>;
}

type Execute<S extends ActionSpec> = (this: void, ctx: ActionContext, params: z.output<S['params']>) => Promise<z.output<S['output']>>;
type Compensate<S extends ActionSpec> = (this: void, ctx: ActionContext, params: z.output<S['params']>, output: z.output<S['output']>) => Promise<unknown>;

/** `execute`, and `compensate` exactly when the spec says the action is compensable. */
export type ExecutorFunctions<S extends ActionSpec> = { execute: Execute<S> } & (S['compensable'] extends true
  ? { compensate: Compensate<S> }
  : { compensate?: never });

/**
 * What an action does, bound to its catalogue entry (src/domain/actions): `execute` answers what
 * the spec's `output` describes, and `compensate`, present wherever the spec is compensable, gets
 * it back to undo the step. Its functions never use `this` (`this: void`).
 */
export interface ActionExecutor<S extends ActionSpec = ActionSpec> {
  spec: S;
  execute(this: void, ctx: ActionContext, params: z.output<S['params']>): Promise<z.output<S['output']>>;
  /** Absent where the effect cannot be undone; compensation then records that and moves on. */
  compensate?(this: void, ctx: ActionContext, params: z.output<S['params']>, output: z.output<S['output']>): Promise<unknown>;
}

/** Binds `execute` (and `compensate`) to `spec`. (`F` rather than `ExecutorFunctions<S>` as the parameter's type keeps literal answers such as `blocked: true` literal.) */
export function defineExecutor<S extends ActionSpec, F extends ExecutorFunctions<S>>(spec: S, functions: F): ActionExecutor<S> {
  return { spec, execute: functions.execute, ...(functions.compensate ? { compensate: functions.compensate } : {}) };
}
