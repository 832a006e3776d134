import { z } from 'zod';
import { DurationSchema } from '../duration';
import { redactText } from '../redact';
import { defineActionSpec } from './spec';

export const CommandInvocation = z
  .object({
    /** An absolute path, exactly as listed in AIRE_COMMAND_ALLOWLIST. */
    command: z.string().min(1).max(4_096).regex(/^\//, 'an absolute path to an executable on AIRE_COMMAND_ALLOWLIST'),
    /** Passed to the executable as its argument vector, as is: no shell ever sees them. */
    args: z.array(z.string().max(32_768)).max(256).default([]),
  })
  .strict();
export type CommandInvocation = z.infer<typeof CommandInvocation>;

export const CommandParams = CommandInvocation.extend({
  /** The command is killed when it runs longer. */
  timeout: DurationSchema.default(60_000),
  /** The command that undoes this one; absent = not undoable. */
  compensate: CommandInvocation.optional(),
}).strict();
export type CommandParams = z.infer<typeof CommandParams>;

/** What a command that ran answers: stdout and stderr redacted, then cut to CAPTURE_BYTES each. */
export const CommandResultSchema = z.object({
  command: z.string(),
  /** Always 0: a non-zero exit fails the step. */
  exitCode: z.literal(0),
  stdout: z.string(),
  stderr: z.string(),
  stdoutTruncated: z.boolean(),
  stderrTruncated: z.boolean(),
  durationMs: z.number(),
});
export type CommandResult = z.infer<typeof CommandResultSchema>;

/** Runs a command from the allowlist; optionally a second command undoes it. */
export const commandSpec = defineActionSpec({
  type: 'command',
  description:
    'Run an allowlisted executable with an argument vector (no shell), a timeout and captured, redacted output; optionally a second command undoes it',
  params: CommandParams,
  output: CommandResultSchema,
  compensable: true,
  describeCompensation: (params) =>
    params.compensate
      ? redactText(`run ${[params.compensate.command, ...params.compensate.args].map((a) => JSON.stringify(a)).join(' ')}`)
      : 'nothing: no compensate command configured',
});
