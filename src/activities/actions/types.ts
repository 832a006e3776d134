import { z } from 'zod';
import type { Config } from '../../config';
import type { Pool } from '../../db/pool';

/** What every action gets besides its parameters. */
export interface ActionContext {
  tenantId: string;
  incidentId: string;
  stepId: string;
  incident: { id: string; title: string; severity: string; source: string };
  /**
   * Derived from the incident and step, not the attempt: a retried activity sends the same key, so
   * a target that honours `Idempotency-Key` applies the change once.
   */
  idempotencyKey: string;
  config: Config;
  pool: Pool;
  /** Returns the value stored under `key` for this step, producing and storing it the first time. */
  remember<T>(key: string, produce: () => Promise<T>): Promise<T>;
}

/**
 * One action type: its parameter schema, what it does, and how to undo it. Adding an action type
 * means adding one module like this and listing it in ./index.ts. Its functions never use `this`
 * (`this: void`), so they can be called detached from the module.
 */
export interface ActionModule<S extends z.ZodType = z.ZodType, O = unknown> {
  type: string;
  description: string;
  params: S;
  execute(this: void, ctx: ActionContext, params: z.infer<S>): Promise<O>;
  /** Absent where the effect cannot be undone; compensation then records that and moves on. */
  compensate?(this: void, ctx: ActionContext, params: z.infer<S>, output: O): Promise<unknown>;
  /**
   * True when `execute` only hands the work to a person: the step stays running until someone
   * reports it done (POST /api/incidents/:id/steps/:stepId/complete).
   */
  awaitsPerson?: boolean;
  /** A sentence for dry runs and the audit trail: what compensation would do. */
  describeCompensation(this: void, params: z.infer<S>): string;
}

export function defineAction<S extends z.ZodType, O>(module: ActionModule<S, O>): ActionModule<S, O> {
  return module;
}
