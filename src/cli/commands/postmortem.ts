import { Command, Option } from 'commander';
import { POSTMORTEM_STATUSES } from '../../domain/postmortem';
import type { SavedPostmortemView } from '../../api/routes/postmortems';
import { LocalError } from '../api-client';
import { ApiOptions, apiCommand, emit, isObject, readDataFile, run } from './common';

/** `aire incident postmortem` (write it) and `aire incident report` (read it), in the `incident` group. */

interface PostmortemOptions extends ApiOptions {
  file?: string;
  factor?: string[];
  wentWell?: string[];
  wentBadly?: string[];
  lesson?: string[];
  status?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The body: the file's fields, then each list given by flags replacing that field. The API validates it all. */
function bodyOf(opts: PostmortemOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (opts.file !== undefined) {
    const data = readDataFile(opts.file);
    if (!isObject(data)) throw new LocalError(`${opts.file} must hold an object: {contributingFactors, wentWell, wentBadly, lessons, status}`);
    Object.assign(body, data);
  }
  if (opts.factor) body.contributingFactors = opts.factor;
  if (opts.wentWell) body.wentWell = opts.wentWell;
  if (opts.wentBadly) body.wentBadly = opts.wentBadly;
  if (opts.lesson) body.lessons = opts.lesson;
  if (opts.status) body.status = opts.status;
  if (Object.keys(body).length === 0) throw new LocalError('nothing to save: give --file, or --factor, --went-well, --went-badly, --lesson or --status');
  return body;
}

function saved(id: string, pm: SavedPostmortemView): string {
  const what = pm.changed.length > 0 ? `saved (${pm.changed.join(', ')})` : 'unchanged';
  const counts = `${pm.narrative.contributingFactors.length} contributing factors, ${pm.narrative.wentWell.length} went well, ${pm.narrative.wentBadly.length} went badly, ${pm.narrative.lessons.length} lessons`;
  const review = pm.reviewDueAt ? `; review due ${pm.reviewDueAt}` : '';
  return `post-mortem of incident ${id} ${what}: ${pm.status}, ${counts}${review}\nsee aire incident report ${id} --markdown`;
}

export function registerPostmortemCommands(program: Command): void {
  const incident = program.commands.find((c) => c.name() === 'incident');
  if (!incident) throw new Error('register the incident commands first');

  apiCommand(incident, {
    name: 'postmortem <id>',
    description:
      "write the incident's post-mortem (role responder or approver): lists from --file or flags (each replaces that list), and its status draft → in_review → published",
    options: [
      new Option('-f, --file <file>', 'a JSON or YAML file: {contributingFactors, wentWell, wentBadly, lessons, status}, any of them (- reads stdin)'),
      new Option('--factor <text>', 'a contributing factor (repeat for more)').argParser(collect),
      new Option('--went-well <text>', 'what went well (repeat for more)').argParser(collect),
      new Option('--went-badly <text>', 'what went badly (repeat for more)').argParser(collect),
      new Option('--lesson <text>', 'a lesson (repeat for more)').argParser(collect),
      new Option('--status <status>', 'move it: in_review once the incident is resolved, then published (final; an admin can reopen)').choices(
        POSTMORTEM_STATUSES,
      ),
    ],
    examples: [
      'aire incident postmortem <id> --file postmortem.json',
      'aire incident postmortem <id> --factor "replica count pinned by the last deploy" --lesson "alert on pinned replicas"',
      'aire incident postmortem <id> --status in_review',
    ],
  }).action((id: string, opts: PostmortemOptions) =>
    run(opts, async (client) => {
      const answer = await client.savePostmortem(id, bodyOf(opts));
      emit(opts, answer.text, () => saved(id, answer.body));
    }),
  );

  apiCommand(incident, {
    name: 'report <id>',
    description: 'the post-incident report with the post-mortem: JSON with --json, Markdown with --markdown, else a summary',
    options: [new Option('--markdown', 'the report as Markdown, for the wiki or a pull request')],
    examples: ['aire incident report <id> --markdown > postmortem.md', 'aire incident report <id> --json'],
  }).action((id: string, opts: ApiOptions & { markdown?: boolean }) =>
    run(opts, async (client) => {
      if (opts.markdown && !opts.json) {
        process.stdout.write((await client.reportMarkdown(id)).body);
        return;
      }
      const answer = await client.report(id);
      emit(opts, answer.text, () => {
        const r = answer.body;
        const pm = r.postMortem;
        return [
          `${r.title} (${r.severity}, ${r.status}${r.final ? ', final' : ''})`,
          `post-mortem: ${pm.status}${pm.review.dueAt ? `, review due ${pm.review.dueAt}` : ''}`,
          `participants: ${pm.participants.map((p) => p.who).join(', ') || 'none yet'}`,
          `contributing factors ${pm.narrative.contributingFactors.length}, went well ${pm.narrative.wentWell.length}, went badly ${pm.narrative.wentBadly.length}, lessons ${pm.narrative.lessons.length}, key notes ${pm.keyNotes.length}, action items ${pm.actionItems.length}`,
          `the whole report: aire incident report ${id} --markdown`,
        ].join('\n');
      });
    }),
  );
}
