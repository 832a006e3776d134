/**
 * Incident command: people edit the incident, hand roles over, tell stakeholders where things
 * stand, and run another runbook on it. Each is an Update (registered in messages.ts) with one
 * refusal and one way to apply it; every change is recorded with old → new.
 */
import * as wf from '@temporalio/workflow';
import type { EditMessage, EditableField, EditableFields, IncidentRoles, RoleMessage, RunRunbookMessage, StatusUpdateMessage } from '../../domain/command';
import { channelNamed, personOf, responseSlaMs, routeChannels } from '../../domain/routing';
import { type MessageOutcome, REFUSED_CONFLICT } from '../definitions';
import { AireCommander, AireSeverity } from '../search-attributes';
import type { Refusal } from './decisions';
import type { IncidentRun } from './run';

/** Edits, roles and status updates apply until the incident is closed (or closing). */
export function openRefusal(run: IncidentRun): Refusal | undefined {
  if (run.state.status === 'closed') return { refusal: REFUSED_CONFLICT, why: 'the incident is closed' };
  if (run.closing()) return { refusal: REFUSED_CONFLICT, why: 'the incident is closing' };
  return undefined;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The field's value now: what people set, else what the incident opened with. */
function current(run: IncidentRun, field: EditableField): unknown {
  const edited = run.state.edited?.[field];
  if (edited !== undefined) return edited;
  if (field === 'severity') return run.state.severity;
  if (field === 'impact' || field === 'rootCause') return undefined;
  return run.draft[field];
}

export function applyEdit(run: IncidentRun, m: EditMessage): MessageOutcome {
  const changes: Partial<Record<EditableField, { from: unknown; to: unknown }>> = {};
  const applied: EditableFields = {};
  for (const [field, to] of Object.entries(m.changes) as [EditableField, unknown][]) {
    if (to === undefined) continue;
    const from = current(run, field);
    if (same(from, to)) continue;
    changes[field] = { from: from ?? null, to };
    Object.assign(applied, { [field]: to });
  }
  if (Object.keys(changes).length === 0) return 'unchanged';
  run.state.edited = { ...run.state.edited, ...applied };
  const { severity, ...fields } = applied;
  if (severity !== undefined) changeSeverity(run, severity);
  run.record('incident.edited', m.actor, {
    incident: { ...(severity ? { severity } : {}), ...(Object.keys(fields).length > 0 ? { fields } : {}) },
    detail: { changes, ...(m.reason ? { reason: m.reason } : {}) },
  });
  return 'edited';
}

/**
 * Severity up or down. The acknowledgement deadline follows it (same start, the new severity's
 * SLA); raising to critical gates every step not yet run (runbook.ts checks before each step);
 * a gate already waiting stays as it is.
 */
function changeSeverity(run: IncidentRun, to: NonNullable<EditableFields['severity']>): void {
  const from = run.state.severity;
  run.state.severity = to;
  wf.upsertSearchAttributes([{ key: AireSeverity, value: to }]);
  if (run.sla.breached) return;
  run.sla.deadline += responseSlaMs(run.settings, to) - responseSlaMs(run.settings, from);
  run.state.ackBy = new Date(run.sla.deadline).toISOString();
}

// ---- roles ----

export function roleRefusal(run: IncidentRun, m: RoleMessage): Refusal | undefined {
  const open = openRefusal(run);
  if (open || !m.unassign) return open;
  const roles = rolesOf(run);
  const holds = m.role === 'assignee' ? roles.assignees.includes(m.person) : roles[m.role] === m.person;
  return holds ? undefined : { refusal: REFUSED_CONFLICT, why: `${m.person} is not the incident's ${m.role}` };
}

const rolesOf = (run: IncidentRun): IncidentRoles => run.state.roles ?? { assignees: [] };

export function applyRole(run: IncidentRun, m: RoleMessage): MessageOutcome {
  const roles = { ...rolesOf(run) };
  const from = m.role === 'assignee' ? undefined : roles[m.role];
  if (m.role === 'assignee') {
    roles.assignees = m.unassign ? roles.assignees.filter((p) => p !== m.person) : [...new Set([...roles.assignees, m.person])];
  } else {
    roles[m.role] = m.unassign ? undefined : m.person;
  }
  setRoles(run, roles, m.actor, { role: m.role, person: m.person, from: from ?? null, unassigned: m.unassign });
  if (!m.unassign) {
    const channel = run.settings.people?.find((p) => p.name === m.person)?.channel;
    run.notifier.notify('role.assigned', `${m.actor} made ${m.person} ${roleName(m.role)} of "${title(run)}"`, channelNamed(run.settings, channel));
  }
  return m.unassign ? 'role-unassigned' : 'role-assigned';
}

/** Acknowledging makes the acknowledger commander when nobody is. */
export function commanderOnAcknowledge(run: IncidentRun, actor: string): void {
  const roles = rolesOf(run);
  if (roles.commander !== undefined) return;
  setRoles(run, { ...roles, commander: personOf(run.settings, actor) }, actor, {
    role: 'commander',
    person: personOf(run.settings, actor),
    from: null,
    reason: 'acknowledged with no commander',
  });
}

function setRoles(run: IncidentRun, roles: IncidentRoles, actor: string, detail: Record<string, unknown>): void {
  const commanderChanged = roles.commander !== rolesOf(run).commander;
  run.state.roles = roles;
  if (commanderChanged) wf.upsertSearchAttributes([{ key: AireCommander, value: roles.commander ?? null }]);
  run.record(detail.unassigned === true ? 'role.unassigned' : 'role.assigned', actor, { incident: { roles }, detail });
}

const roleName = (role: RoleMessage['role']): string =>
  ({ commander: 'incident commander', assignee: 'an assignee', comms: 'communications lead', scribe: 'scribe' })[role];
export const title = (run: IncidentRun): string => run.state.edited?.title ?? run.draft.title;

// ---- status updates ----

export function statusUpdateRefusal(run: IncidentRun, m: StatusUpdateMessage): Refusal | undefined {
  const open = openRefusal(run);
  if (open) return open;
  if (m.audience === 'external' && run.settings.statusUpdates?.allowExternal !== true) {
    return { refusal: REFUSED_CONFLICT, why: 'the tenant does not allow external status updates (settings statusUpdates.allowExternal)' };
  }
  return undefined;
}

export function applyStatusUpdate(run: IncidentRun, m: StatusUpdateMessage): MessageOutcome {
  const posted = { message: m.message, audience: m.audience, ...(m.eta ? { eta: m.eta } : {}), at: new Date().toISOString(), actor: m.actor };
  run.state.latestStatusUpdate = posted;
  const channels = routeChannels(run.settings, 'status.update', { severity: run.state.severity, category: run.draft.category }, m.audience);
  run.record('status_update.posted', m.actor, { incident: { latestStatusUpdate: posted }, detail: { ...posted, channels: channels.map((c) => c.name) } });
  const eta = m.eta ? ` (ETA ${m.eta})` : '';
  run.notifier.notify('status.update', `Status of "${title(run)}": ${m.message}${eta}`, channels);
  return 'status-update-posted';
}

/**
 * Nudges the commander (their channel, else the channels that take `status.update-due`) when no
 * status update was posted for the severity's `statusUpdates.every`, until the incident resolves.
 */
export async function remindStatusUpdates(run: IncidentRun): Promise<void> {
  const every = (): number | undefined => run.settings.statusUpdates?.every[run.state.severity];
  const over = (): boolean => run.closing() || run.state.status === 'resolved' || run.state.status === 'closed';
  for (;;) {
    const period = every();
    const last = run.state.latestStatusUpdate?.at;
    const changed = (): boolean => over() || every() !== period || run.state.latestStatusUpdate?.at !== last;
    if (period === undefined) await wf.condition(changed);
    if (period === undefined || (await wf.condition(changed, period))) {
      if (over()) return;
      continue;
    }
    const commander = rolesOf(run).commander;
    const own = channelNamed(run.settings, run.settings.people?.find((p) => p.name === commander)?.channel);
    const channels = own.length > 0 ? own : routeChannels(run.settings, 'status.update-due', { severity: run.state.severity, category: run.draft.category });
    run.record('status_update.due', 'aire', { detail: { everyMs: period, commander: commander ?? null, channels: channels.map((c) => c.name) } });
    run.notifier.notify(
      'status.update-due',
      `No status update on "${title(run)}" for ${Math.round(period / 60_000)} min: post one (aire incident status-update)`,
      channels,
    );
  }
}

// ---- another runbook ----

export function runbookRefusal(run: IncidentRun, m: RunRunbookMessage): Refusal | undefined {
  const open = openRefusal(run);
  if (open) return open;
  const { status } = run.state;
  const why = !run.settled
    ? `the incident's own runbook has not finished (status ${status})`
    : run.queuedRunbook
      ? `runbook "${run.queuedRunbook.runbook.id}" is about to run`
      : status === 'resolved'
        ? 'the incident is resolved'
        : status === 'remediating' || status === 'awaiting_approval'
          ? `a runbook is running (status ${status})`
          : undefined;
  return why ? { refusal: REFUSED_CONFLICT, why: `cannot run "${m.runbook.id}": ${why}` } : undefined;
}

export function applyRunbook(run: IncidentRun, m: RunRunbookMessage): MessageOutcome {
  run.queuedRunbook = m;
  run.record('runbook.requested', m.actor, { detail: { runbookId: m.runbook.id, version: m.version } });
  return 'runbook-queued';
}
