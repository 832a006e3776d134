import { Command, Option } from 'commander';
import { SampleIncidentSchema } from '../../domain/dry-run';
import { SlugSchema } from '../../domain/incident';
import { isSeedRunbook, slugFromName } from '../../domain/seed-runbook';
import { fieldErrors } from '../../domain/validation';
import { LocalError, RunbookView, notFoundError } from '../api-client';
import { dryRun, runbookDetail, runbookList, runbookVersions } from '../format';
import { ApiOptions, apiCommand, emit, group, isObject, positiveInt, readDataFile, run } from './common';

/** `aire runbooks list` and `aire runbook show|versions|test|apply`. */

interface ShowOptions extends ApiOptions {
  version?: number;
}

interface TestOptions extends ApiOptions {
  incident: string;
  version?: number;
}

interface ApplyOptions extends ApiOptions {
  file: string;
}

/**
 * The sample incident of a dry run, checked with the API's own schema so a bad file is reported
 * against the file (exit 1) rather than as a refused request. A file holding `{incident: {...}}`
 * (the request body itself) is accepted too. What is sent is the file's content, not the parsed value.
 */
function sampleIncident(file: string): Record<string, unknown> {
  let value = readDataFile(file);
  if (isObject(value) && isObject(value.incident) && value.title === undefined) value = value.incident;
  if (!isObject(value)) throw new LocalError(`${file}: expected an incident object with at least a title and a severity`);
  const parsed = SampleIncidentSchema.safeParse(value);
  if (!parsed.success) {
    throw new LocalError(
      `${file} is not a valid sample incident:\n${fieldErrors(parsed.error)
        .map((e) => `  ${e.path}: ${e.message}`)
        .join('\n')}`,
    );
  }
  return value;
}

/** The runbook definition in a file, with the id the API path needs. Everything else is for the API to judge. */
function runbookFile(file: string): { id: string; definition: Record<string, unknown> } {
  const definition = readDataFile(file);
  if (!isObject(definition)) throw new LocalError(`${file}: expected a runbook (an object with id, name, steps…)`);
  // A seed 000 runbook has no id: the API makes it from the name, and so does apply, so the same file adds versions.
  if (isSeedRunbook(definition) && definition.id === undefined && typeof definition.name === 'string') return { id: slugFromName(definition.name), definition };
  if (definition.id === undefined) throw new LocalError(`${file}: id: a runbook file needs an id (the runbook it creates or adds a version to)`);
  const id = SlugSchema.safeParse(definition.id);
  if (!id.success) throw new LocalError(`${file}: id: ${id.error.issues.map((i) => i.message).join('; ')}`);
  return { id: id.data, definition };
}

export function registerRunbookCommands(program: Command): void {
  const runbooks = group(program, 'runbooks', 'list runbooks', 'aire runbooks list');

  apiCommand(runbooks, {
    name: 'list',
    description: 'the latest version of every runbook',
    examples: ['aire runbooks list'],
  }).action((opts: ApiOptions) =>
    run(opts, async (client) => {
      const answer = await client.listRunbooks();
      emit(opts, answer.text, () => runbookList(answer.body.items));
    }),
  );

  const runbook = group(program, 'runbook', 'show, test and apply one runbook', 'aire runbook apply -f runbooks/capacity-forecast.yaml');

  apiCommand(runbook, {
    name: 'show <id>',
    description: 'a runbook: triggers, gates and steps (the latest version unless --version)',
    options: [new Option('--version <n>', 'this version instead of the latest').argParser(positiveInt)],
    examples: ['aire runbook show capacity-forecast', 'aire runbook show capacity-forecast --version 2 --json'],
  }).action((id: string, opts: ShowOptions) =>
    run(opts, async (client) => {
      if (opts.version === undefined) {
        const answer = await client.getRunbook(id);
        emit(opts, answer.text, () => runbookDetail(answer.body));
        return;
      }
      // The API serves older versions only in the history: answer in the shape of GET /api/runbooks/:id.
      const versions = await client.runbookVersions(id);
      const found = versions.body.items.find((v) => v.version === opts.version);
      if (!found) {
        const known = versions.body.items.map((v) => v.version).join(', ');
        throw notFoundError(`GET /api/runbooks/${id}/versions`, `runbook ${id} has no version ${opts.version} (it has ${known})`);
      }
      const view: RunbookView = { ...found.definition, version: found.version, createdAt: found.createdAt, createdBy: found.createdBy };
      emit(opts, JSON.stringify(view), () => runbookDetail(view));
    }),
  );

  apiCommand(runbook, {
    name: 'versions <id>',
    description: 'every version of a runbook, newest first',
    examples: ['aire runbook versions capacity-forecast'],
  }).action((id: string, opts: ApiOptions) =>
    run(opts, async (client) => {
      const answer = await client.runbookVersions(id);
      emit(opts, answer.text, () => runbookVersions(id, answer.body.items));
    }),
  );

  apiCommand(runbook, {
    name: 'test <id>',
    description: 'dry run: would the runbook match this incident, what would wait for approval, what would be sent',
    options: [
      new Option('--incident <file>', 'a sample incident, YAML or JSON: title, severity, optionally source, category, labels, context…').makeOptionMandatory(),
      new Option('--version <n>', 'test this version instead of the latest').argParser(positiveInt),
    ],
    examples: ['aire runbook test capacity-forecast --incident incident.yaml'],
  }).action((id: string, opts: TestOptions) =>
    run(opts, async (client) => {
      const incident = sampleIncident(opts.incident);
      const answer = await client.testRunbook(id, opts.version === undefined ? { incident } : { incident, version: opts.version });
      emit(opts, answer.text, () => dryRun(answer.body, incident));
    }),
  );

  apiCommand(runbook, {
    name: 'apply',
    description: 'create a runbook or add a version of it, from a YAML or JSON file (role admin)',
    options: [new Option('-f, --file <file>', 'the runbook definition, YAML or JSON ("-" reads stdin)').makeOptionMandatory()],
    examples: ['aire runbook apply -f runbooks/capacity-forecast.yaml'],
  }).action((opts: ApplyOptions) =>
    run(opts, async (client) => {
      const { id, definition } = runbookFile(opts.file);
      const answer = await client.putRunbook(id, definition);
      emit(opts, answer.text, () => `runbook ${answer.body.id}: version ${answer.body.version}${answer.status === 201 ? ' (new runbook)' : ''}`);
    }),
  );
}
