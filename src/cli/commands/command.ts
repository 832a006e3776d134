import { Command, InvalidArgumentError, Option } from 'commander';
import { INCIDENT_ROLES } from '../../domain/command';
import { SEVERITIES } from '../../domain/severity';
import type { MessageAnswerBody } from '../../api/routes/incidents';
import type { Answer } from '../api-client';
import { ApiOptions, apiCommand, emit, run } from './common';

/** `aire incident edit|assign|status-update|run`: incident command (src/api/routes/command.ts). */

interface EditOptions extends ApiOptions {
  title?: string;
  summary?: string;
  severity?: string;
  reason?: string;
  category?: string;
  service?: string[];
  rootCause?: string;
  usersAffected?: number;
  degraded?: string[];
  dataExposure?: boolean;
  label?: Record<string, string>;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function label(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('write a label as key=value');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number, 0 or more');
  return n;
}

function yesNo(value: string): boolean {
  if (value === 'yes' || value === 'no') return value === 'yes';
  throw new InvalidArgumentError('yes or no');
}

/** The PATCH body from the options given; the API refuses an empty one, naming what to give. */
function editBody(o: EditOptions): Record<string, unknown> {
  const impact = {
    ...(o.usersAffected !== undefined ? { usersAffected: o.usersAffected } : {}),
    ...(o.degraded ? { servicesDegraded: o.degraded } : {}),
    ...(o.dataExposure !== undefined ? { dataExposure: o.dataExposure } : {}),
  };
  return {
    ...(o.title !== undefined ? { title: o.title } : {}),
    ...(o.summary !== undefined ? { summary: o.summary } : {}),
    ...(o.severity !== undefined ? { severity: o.severity } : {}),
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(o.category !== undefined ? { category: o.category } : {}),
    ...(o.service ? { affectedServices: o.service } : {}),
    ...(o.rootCause !== undefined ? { rootCause: o.rootCause } : {}),
    ...(Object.keys(impact).length > 0 ? { impact } : {}),
    ...(o.label ? { labels: o.label } : {}),
  };
}

function said(opts: ApiOptions, answer: Answer<MessageAnswerBody>, what: string): void {
  emit(
    opts,
    answer.text,
    () => `${what}: ${answer.body.outcome.replace(/-/g, ' ')} (incident ${answer.body.id}, as ${answer.body.actor}); see aire incident show ${answer.body.id}`,
  );
}

export function registerCommandCommands(incident: Command): void {
  apiCommand(incident, {
    name: 'edit <id>',
    description:
      'change the incident: title, summary, severity (with --reason), category, services, impact, confirmed root cause, labels (role responder or approver)',
    options: [
      new Option('--title <text>'),
      new Option('--summary <text>'),
      new Option('--severity <severity>', 'raising to critical gates every step not yet run; needs --reason').choices(SEVERITIES),
      new Option('--reason <text>', 'why (required with --severity), kept in the audit trail'),
      new Option('--category <text>'),
      new Option('--service <name>', 'an affected service (repeat for more; replaces the list)').argParser(collect),
      new Option('--root-cause <text>', 'the confirmed root cause (the hypothesis stays as it was)'),
      new Option('--users-affected <n>', 'impact: users affected').argParser(count),
      new Option('--degraded <service>', 'impact: a degraded service (repeat for more)').argParser(collect),
      new Option('--data-exposure <yes|no>', 'impact: was data exposed').argParser(yesNo),
      new Option('--label <key=value>', 'a label (repeat for more; replaces the labels)').argParser(label),
    ],
    examples: [
      'aire incident edit <id> --severity critical --reason "payments affected"',
      'aire incident edit <id> --root-cause "expired TLS certificate on the gateway" --users-affected 1200 --data-exposure no',
    ],
  }).action((id: string, opts: EditOptions) => run(opts, async (client) => said(opts, await client.commandIncident(id, 'PATCH', '', editBody(opts)), 'edit')));

  apiCommand(incident, {
    name: 'assign <id> <role> <person>',
    description: `give a role (${INCIDENT_ROLES.join(', ')}) to a person on the roster (settings people) or an API key as key:<name>; they hear of it on their channel`,
    options: [new Option('--unassign', 'take the role away instead')],
    examples: [
      'aire incident assign <id> commander alice',
      'aire incident assign <id> assignee key:oncall-bot',
      'aire incident assign <id> scribe bob --unassign',
    ],
  }).action((id: string, role: string, person: string, opts: ApiOptions & { unassign?: boolean }) =>
    run(opts, async (client) => said(opts, await client.commandIncident(id, 'POST', '/roles', { role, person, unassign: opts.unassign === true }), role)),
  );

  apiCommand(incident, {
    name: 'status-update <id> <message>',
    description: 'tell stakeholders where things stand: sent to channels that take status.update (role responder or approver)',
    options: [
      new Option('--eta <time>', 'when the next milestone is expected, ISO 8601 (2026-12-03T22:00:00Z)'),
      new Option('--external', 'also to external channels (a status page), when the tenant allows'),
    ],
    examples: ['aire incident status-update <id> "Rolling back the 14:02 deploy" --eta 2026-12-03T22:00:00Z'],
  }).action((id: string, message: string, opts: ApiOptions & { eta?: string; external?: boolean }) =>
    run(opts, async (client) => {
      const body = { message, audience: opts.external ? 'external' : 'internal', ...(opts.eta ? { eta: opts.eta } : {}) };
      said(opts, await client.commandIncident(id, 'POST', '/status-updates', body), 'status update');
    }),
  );

  apiCommand(incident, {
    name: 'run <id> <runbook>',
    description: "run a runbook on the incident after its own: same gates, same compensation; its steps' ids get a prefix (r2-…)",
    options: [new Option('--version <n>', 'this version, not the latest').argParser(count)],
    examples: ['aire incident run <id> flush-cache', 'aire incident run <id> failover-db --version 3'],
  }).action((id: string, runbookId: string, opts: ApiOptions & { version?: number }) =>
    run(opts, async (client) => {
      const body = { runbookId, ...(opts.version !== undefined ? { version: opts.version } : {}) };
      said(opts, await client.commandIncident(id, 'POST', '/runbooks', body), `runbook ${runbookId}`);
    }),
  );
}
