import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ApiClient, ApiError, DEFAULT_API_URL, LocalError, clientFrom, exitCodeOf } from '../api-client';
import { problem } from '../format';

/** Options every API command takes. */
export interface ApiOptions {
  apiUrl?: string;
  apiKey?: string;
  json?: boolean;
  timeout?: number;
}

export interface ApiCommandSpec {
  /** Name and arguments, e.g. `show <id>`. */
  name: string;
  /** One line for --help. */
  description: string;
  /** The command's own options, listed before the shared ones. */
  options?: Option[];
  /** Shown under "Example(s):" in --help. */
  examples: string[];
}

/** A command that talks to the API: its own options, then the connection and --json options every API command shares. */
export function apiCommand(parent: Command, spec: ApiCommandSpec): Command {
  const command = parent.command(spec.name).description(spec.description);
  for (const option of spec.options ?? []) command.addOption(option);
  return command
    .option('--json', "print the API's JSON answer as received, for scripts")
    .option('--api-url <url>', `API base URL (env AIRE_API_URL, default ${DEFAULT_API_URL})`)
    .option('--api-key <key>', 'API key (env AIRE_API_KEY, default: the contents of .aire/admin.key)')
    .option('--timeout <seconds>', 'give up on the API after this long (default 30)', seconds)
    .addHelpText('after', `\nExample${spec.examples.length > 1 ? 's' : ''}:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}`);
}

/** A command group (`incident`, `runbook`…): its own --help lists the commands, with an example. */
export function group(parent: Command, name: string, description: string, example: string): Command {
  return parent.command(name).description(description).addHelpText('after', `\nExample:\n  $ ${example}`);
}

/**
 * Runs one API command: builds the client, calls `work`, and turns any failure into a message on
 * stderr and the exit code (with --json, the API's problem+json body also goes to stdout).
 */
export async function run(options: ApiOptions, work: (client: ApiClient) => Promise<void>): Promise<void> {
  try {
    const client = clientFrom({ apiUrl: options.apiUrl, apiKey: options.apiKey, timeout: options.timeout ? options.timeout * 1_000 : undefined });
    await work(client);
  } catch (err) {
    fail(err, options.json === true);
  }
}

export function fail(err: unknown, json: boolean): void {
  if (err instanceof ApiError) {
    if (json && err.text.trim() !== '') process.stdout.write(err.text.endsWith('\n') ? err.text : `${err.text}\n`);
    process.stderr.write(`aire: ${problem(err)}\n`);
  } else {
    process.stderr.write(`aire: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exitCode = exitCodeOf(err);
}

/** Prints the API's body verbatim with --json, else the text made for people. */
export function emit(options: ApiOptions, answerText: string, human: () => string): void {
  if (options.json) {
    process.stdout.write(answerText.endsWith('\n') ? answerText : `${answerText}\n`);
    return;
  }
  const text = human();
  if (text !== '') process.stdout.write(`${text}\n`);
}

/** A note for people that is not part of the answer (goes to stderr, so stdout stays parseable). */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

// ---- option parsers (commander reports their errors as usage errors, exit 1) ----

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

export function pageSize(value: string): number {
  const n = positiveInt(value);
  if (n > 200) throw new InvalidArgumentError('at most 200 per page');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds above 0');
  return n;
}

// ---- local files ----

/**
 * Reads a YAML or JSON file (`-` for stdin) into a value. A file that cannot be read or parsed is a
 * local error (exit 1); what the value means is left to the caller and the API.
 */
export function readDataFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new LocalError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (text.trim() === '') throw new LocalError(`${file} is empty`);
  try {
    return extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 50 });
  } catch (err) {
    throw new LocalError(`${file} is not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML or JSON'}: ${(err as Error).message}`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
