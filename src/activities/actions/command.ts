import { ExecFileException, execFile } from 'node:child_process';
import { ApplicationFailure } from '@temporalio/activity';
import { type CommandInvocation, type CommandResult, commandSpec } from '../../domain/actions/command';
import { redactText } from '../../domain/redact';
import { cancellationSignal, heartbeat } from '../activity-context';
import { ActionContext, defineExecutor } from './types';

export const COMMAND_FAILURE = {
  /** Not on AIRE_COMMAND_ALLOWLIST, or an argument that cannot be passed safely. */
  denied: 'CommandDenied',
  /** On the allowlist but missing or not executable on this worker. */
  notRunnable: 'CommandNotRunnable',
  outputTooLarge: 'CommandOutputTooLarge',
} as const;

/** Kept of each of stdout and stderr, after redaction. */
export const CAPTURE_BYTES = 4_096;
/** A command writing more than this to stdout or stderr is killed. */
const MAX_OUTPUT_BYTES = 1_048_576;
const HEARTBEAT_EVERY_MS = 1_000;
/** The worker's environment holds database URLs and secrets; commands get only these of it. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

/** Refuses, for good, anything not on the allowlist or not passable as an argument vector. */
export function assertCommandAllowed(invocation: CommandInvocation, allowlist: readonly string[]): void {
  if (invocation.command.includes('\0') || !allowlist.includes(invocation.command)) {
    throw ApplicationFailure.nonRetryable(
      `command denied: "${invocation.command.replace(/\0/g, '\\0')}" is not on the command allowlist (AIRE_COMMAND_ALLOWLIST)`,
      COMMAND_FAILURE.denied,
    );
  }
  const bad = invocation.args.findIndex((arg) => arg.includes('\0'));
  if (bad >= 0) {
    throw ApplicationFailure.nonRetryable(`command denied: argument ${bad} of ${invocation.command} contains a NUL byte`, COMMAND_FAILURE.denied);
  }
}

/** Redacted first, then cut to CAPTURE_BYTES, so a cut can never expose part of a secret. */
function capture(output: Buffer, sensitiveKeys: readonly string[]): { text: string; truncated: boolean } {
  const text = redactText(output.toString('utf8'), sensitiveKeys);
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= CAPTURE_BYTES) return { text, truncated: false };
  // A cut inside a multi-byte character decodes to U+FFFD: drop it.
  return {
    text: bytes
      .subarray(0, CAPTURE_BYTES)
      .toString('utf8')
      .replace(/\uFFFD+$/, ''),
    truncated: true,
  };
}

function childEnv(ctx: ActionContext, idempotencyKey: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return { ...env, AIRE_INCIDENT_ID: ctx.incidentId, AIRE_STEP_ID: ctx.stepId, AIRE_IDEMPOTENCY_KEY: idempotencyKey };
}

function excerpt(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'no output on stderr';
  return `stderr: ${trimmed.length > 500 ? `${trimmed.slice(0, 500)}…` : trimmed}`;
}

/**
 * Runs an allowlisted executable with an argument vector (never through a shell), killing it after
 * `timeoutMs` or when the activity is cancelled. A non-zero exit, a kill or a timeout throws a
 * retryable Error carrying the exit code and an excerpt of stderr.
 */
export function runCommand(ctx: ActionContext, invocation: CommandInvocation, timeoutMs: number, idempotencyKey: string): Promise<CommandResult> {
  assertCommandAllowed(invocation, ctx.commands.allowlist);
  const { command, args } = invocation;
  const signal = cancellationSignal();
  const started = Date.now();
  return new Promise<CommandResult>((resolve, reject) => {
    let beat: NodeJS.Timeout | undefined;
    const child = execFile(
      command,
      args,
      {
        shell: false,
        encoding: 'buffer',
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: MAX_OUTPUT_BYTES,
        env: childEnv(ctx, idempotencyKey),
        windowsHide: true,
        signal,
      },
      (error: ExecFileException | null, stdoutBuf: Buffer, stderrBuf: Buffer) => {
        clearInterval(beat);
        const durationMs = Date.now() - started;
        const stdout = capture(stdoutBuf, ctx.sensitiveKeys);
        const stderr = capture(stderrBuf, ctx.sensitiveKeys);
        if (!error) {
          resolve({
            command,
            exitCode: 0,
            stdout: stdout.text,
            stderr: stderr.text,
            stdoutTruncated: stdout.truncated,
            stderrTruncated: stderr.truncated,
            durationMs,
          });
          return;
        }
        if (signal?.aborted) {
          reject(signal.reason instanceof Error ? signal.reason : error); // the activity was cancelled
        } else if (error.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
          reject(
            ApplicationFailure.nonRetryable(`${command} wrote more than ${MAX_OUTPUT_BYTES} bytes of output and was killed`, COMMAND_FAILURE.outputTooLarge),
          );
        } else if (typeof error.code === 'string') {
          // Could not be started at all: ENOENT, EACCES, ENOEXEC...
          reject(ApplicationFailure.nonRetryable(`${command} could not be run: ${error.code}`, COMMAND_FAILURE.notRunnable));
        } else if (error.killed && durationMs >= timeoutMs) {
          reject(new Error(`${command} timed out after ${timeoutMs} ms and was killed; ${excerpt(stderr.text)}`));
        } else if (typeof error.code === 'number') {
          reject(new Error(`${command} exited with code ${error.code}; ${excerpt(stderr.text)}`));
        } else {
          reject(new Error(`${command} was killed by ${error.signal ?? 'a signal'}; ${excerpt(stderr.text)}`));
        }
      },
    );
    beat = setInterval(() => heartbeat({ command, runningMs: Date.now() - started }), HEARTBEAT_EVERY_MS);
    // Nothing is fed to the command: a command reading stdin sees its end instead of hanging.
    child.stdin?.end();
  });
}

/** `command` (src/domain/actions/command.ts): runs a command from the allowlist; optionally a second command undoes it. */
export const commandExecutor = defineExecutor(commandSpec, {
  async execute(ctx, params) {
    // Refuse a step whose undo would be refused before doing anything that could not be undone.
    if (params.compensate) assertCommandAllowed(params.compensate, ctx.commands.allowlist);
    return runCommand(ctx, params, params.timeout, ctx.idempotencyKey);
  },
  async compensate(ctx, params) {
    if (!params.compensate) return { compensated: false, reason: 'no compensate command configured' };
    const result = await runCommand(ctx, params.compensate, params.timeout, `${ctx.idempotencyKey}:compensate`);
    return { compensated: true, ...result };
  },
});
