import { z } from 'zod';

/**
 * One action type as the catalogue knows it: what runbooks write (`type`, `params`), what a step
 * of it answers (`output`), and whether a rollback can undo it. No code that acts: the executors
 * are in src/activities/actions, so the API, the CLI and runbook validation read this without
 * loading them. Its function never uses `this` (`this: void`), so it can be called detached.
 */
export interface ActionSpec<T extends string = string, P extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType, C extends boolean = boolean> {
  /** The name runbooks write in a step's `action:`; also the activity names `<type>.execute` and `<type>.compensate`. */
  type: T;
  description: string;
  /** A strict schema, so errors name the path. */
  params: P;
  /** What `execute` answers: the step's output, which compensation gets back. */
  output: O;
  /** True when the executor has a `compensate`: a rollback undoes the step. */
  compensable: C;
  /**
   * True when `execute` only hands the work to a person: the step stays running until someone
   * reports it done (POST /api/incidents/:id/steps/:stepId/complete).
   */
  awaitsPerson?: boolean;
  /** A sentence for dry runs and the audit trail: what compensation would do. */
  describeCompensation(this: void, params: z.output<P>): string;
}

export function defineActionSpec<const T extends string, P extends z.ZodType, O extends z.ZodType, const C extends boolean>(
  spec: ActionSpec<T, P, O, C>,
): ActionSpec<T, P, O, C> {
  return spec;
}
