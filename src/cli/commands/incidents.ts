import { Command, Option } from 'commander';
import { INCIDENT_SOURCES, INCIDENT_STATUSES } from '../../domain/incident';
import { SEVERITIES } from '../../domain/severity';
import type { Incident } from '../api-client';
import { incidentDetail, incidentList, timelineLines } from '../format';
import { registerCommandCommands } from './command';
import { ApiOptions, apiCommand, emit, group, note, pageSize, run } from './common';

/** `aire incidents list` and `aire incident show|approve|reject|ack|rollback|resolve|close`. */

interface ListOptions extends ApiOptions {
  status?: string;
  severity?: string;
  source?: string;
  limit: number;
  cursor?: string;
  all?: boolean;
}

interface SignalOptions extends ApiOptions {
  reason?: string;
  step?: string;
}

/** The incident actions: CLI name, API path, what it does. */
const ACTIONS: { name: string; path: string; description: string; step: boolean; example: string }[] = [
  {
    name: 'approve',
    path: 'approve',
    description: 'approve what the incident waits for: the pending step, or the runbook gate (role approver)',
    step: true,
    example: 'aire incident approve <id> --step scale --reason "capacity review done"',
  },
  {
    name: 'reject',
    path: 'reject',
    description: "reject the pending approval; the step's onReject (abort or skip) decides what follows (role approver)",
    step: true,
    example: 'aire incident reject <id> --reason "too risky at peak"',
  },
  {
    name: 'ack',
    path: 'acknowledge',
    description: 'acknowledge the incident: someone is on it (role responder or approver)',
    step: false,
    example: 'aire incident ack <id> --reason "looking"',
  },
  {
    name: 'rollback',
    path: 'rollback',
    description: 'undo every step done so far, newest first, once (role approver)',
    step: false,
    example: 'aire incident rollback <id> --reason "made it worse"',
  },
  {
    name: 'resolve',
    path: 'resolve',
    description: 'mark the incident resolved (role responder or approver)',
    step: false,
    example: 'aire incident resolve <id> --reason "fixed by hand"',
  },
  {
    name: 'close',
    path: 'close',
    description: 'close the incident; its workflow ends (role responder or approver)',
    step: false,
    example: 'aire incident close <id>',
  },
];

export function registerIncidentCommands(program: Command): void {
  const incidents = group(program, 'incidents', 'list incidents', 'aire incidents list --status awaiting_approval');

  apiCommand(incidents, {
    name: 'list',
    description: 'list incidents, newest first',
    options: [
      new Option('--status <status>', 'only this status').choices(INCIDENT_STATUSES),
      new Option('--severity <severity>', 'only this severity').choices(SEVERITIES),
      new Option('--source <source>', 'only this source').choices(INCIDENT_SOURCES),
      new Option('--limit <n>', 'incidents per page, 1–200').argParser(pageSize).default(50),
      new Option('--cursor <cursor>', 'start at this page (a nextCursor the API returned)'),
      new Option('--all', 'follow nextCursor and list every page'),
    ],
    examples: ['aire incidents list --status awaiting_approval --severity critical', 'aire incidents list --all --json'],
  }).action((opts: ListOptions) =>
    run(opts, async (client) => {
      const filter = { status: opts.status, severity: opts.severity, source: opts.source, limit: opts.limit, cursor: opts.cursor };
      const first = await client.listIncidents(filter);
      if (!opts.all) {
        emit(opts, first.text, () => incidentList(first.body.items));
        if (!opts.json && first.body.nextCursor) note(`more incidents: --all lists every page, --cursor ${first.body.nextCursor} the next one`);
        return;
      }
      const items: Incident[] = [...first.body.items];
      let cursor = first.body.nextCursor ?? null;
      while (cursor) {
        const page = await client.listIncidents({ ...filter, cursor });
        items.push(...page.body.items);
        cursor = page.body.nextCursor ?? null;
      }
      // Several pages make one answer of the same shape, with no page left to follow.
      emit(opts, JSON.stringify({ items, nextCursor: null }), () => incidentList(items));
    }),
  );

  const incident = group(program, 'incident', 'show one incident and act on it', 'aire incident show <id>');

  apiCommand(incident, {
    name: 'show <id>',
    description: 'the incident, its steps, approvals and action log, and what it is waiting for',
    examples: ['aire incident show <id>', 'aire incident show <id> --json'],
  }).action((id: string, opts: ApiOptions) =>
    run(opts, async (client) => {
      const answer = await client.getIncident(id);
      emit(opts, answer.text, () => incidentDetail(answer.body));
    }),
  );

  apiCommand(incident, {
    name: 'note <id> <text>',
    description: "write a note on the incident's timeline (role responder or approver); --key lists it in the report",
    options: [new Option('--key', 'a key note: listed in the post-incident report')],
    examples: ['aire incident note <id> "rolled back the config push by hand"', 'aire incident note <id> "root cause: expired cert" --key'],
  }).action((id: string, text: string, opts: ApiOptions & { key?: boolean }) =>
    run(opts, async (client) => {
      const answer = await client.addNote(id, { text, key: opts.key === true });
      emit(
        opts,
        answer.text,
        () => `${answer.body.key ? 'key note' : 'note'} added to incident ${id} (as ${answer.body.actor}); see aire incident timeline ${id}`,
      );
    }),
  );

  apiCommand(incident, {
    name: 'timeline <id>',
    description: 'notes, status changes, steps, approvals and notifications in one ordered stream',
    examples: ['aire incident timeline <id>', 'aire incident timeline <id> --json'],
  }).action((id: string, opts: ApiOptions) =>
    run(opts, async (client) => {
      const answer = await client.timeline(id);
      emit(opts, answer.text, () => timelineLines(answer.body.items));
    }),
  );

  registerCommandCommands(incident);

  for (const action of ACTIONS) {
    const options = [new Option('--reason <text>', 'why, kept in the audit trail')];
    if (action.step) options.push(new Option('--step <stepId>', 'the step you mean (the workflow ignores a decision naming another step)'));
    const command = apiCommand(incident, { name: `${action.name} <id>`, description: action.description, options, examples: [action.example] });
    if (action.path === 'acknowledge') command.alias('acknowledge');
    command.action((id: string, opts: SignalOptions) =>
      run(opts, async (client) => {
        const body: { reason?: string; stepId?: string } = {};
        if (opts.reason !== undefined) body.reason = opts.reason;
        if (opts.step !== undefined) body.stepId = opts.step;
        const answer = await client.signalIncident(id, action.path, body);
        const what = answer.body.outcome ? `${answer.body.outcome.replace('-', ' ')}` : 'accepted';
        emit(
          opts,
          answer.text,
          () => `${action.path}: ${what} for incident ${answer.body.id} (as ${answer.body.actor}); see aire incident show ${answer.body.id}`,
        );
      }),
    );
  }
}
