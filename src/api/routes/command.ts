import type { WorkflowHandle } from '@temporalio/client';
import type { Principal } from '../../domain/access';
import { IncidentEditBody, RoleBody, RunRunbookBody, StatusUpdateBody } from '../../domain/command';
import { redact } from '../../domain/redact';
import { type MessageAnswer, assignRoleUpdate, editUpdate, postStatusUpdate, runRunbookUpdate } from '../../workflows/definitions';
import { actorOf } from '../auth';
import type { Deps } from '../deps';
import { problemsFor } from '../openapi';
import { notFound } from '../problem';
import { defineRoute } from '../route';
import { checkPerson, runbookToRun } from '../services/command';
import { findIncident } from '../services/incidents';
import { IdParams, type MessageAnswerBody, ask, messageAnswered } from './incidents';

/**
 * Incident command: edit the incident, hand roles over, post status updates, run another runbook.
 * Each is a Workflow Update: the workflow orders concurrent changes, records each with old → new,
 * and answers with what it did and its state after (409 once the incident is closed).
 */
const DESCRIPTION =
  'The workflow answers from its own state: 409 when the incident is closed or closing (or, for a runbook, while one runs), 503 when no worker answers in time.';

type Base = { actor: string; incidentId: string };

/**
 * Sends an update to the incident's workflow and answers with its account of it. The incident is
 * found first (404 for another tenant's), then `prepare` checks the body against the tenant
 * (a person on the roster, a runbook of its own) and makes the message.
 */
async function sendToIncident<M>(
  deps: Deps,
  principal: Principal,
  id: string,
  accepted: string,
  prepare: () => M | Promise<M>,
  send: (handle: WorkflowHandle, message: M & Base) => Promise<MessageAnswer>,
): Promise<MessageAnswerBody> {
  const incident = await findIncident(deps, principal, id);
  if (!incident) throw notFound(`incident ${id}`);
  const message = { ...(await prepare()), actor: actorOf(principal), incidentId: id };
  const handle = deps.temporal.workflow.getHandle(incident.workflowId);
  const answer = await ask(deps, () => send(handle, message));
  return redact({ id, accepted, actor: message.actor, outcome: answer.outcome, state: answer.state }, deps.config.AIRE_SENSITIVE_KEYS);
}

/** What every incident-command route shares. */
const common = {
  tag: 'incidents',
  description: DESCRIPTION,
  roles: ['responder', 'approver'],
  params: IdParams,
  responses: messageAnswered,
  problems: problemsFor(true, true),
} as const;

export const commandRoutes = [
  defineRoute({
    ...common,
    method: 'patch',
    path: '/api/incidents/:id',
    operationId: 'editIncident',
    summary: 'Change title, summary, severity (with a reason), category, affected services, impact, confirmed root cause or labels',
    body: { component: 'IncidentEdit', schema: IncidentEditBody },
    handler: async ({ params: { id }, body: { reason, ...changes }, principal, deps, res }) => {
      const prepare = () => ({ changes, ...(reason ? { reason } : {}) });
      res.json(await sendToIncident(deps, principal, id, 'edit', prepare, (h, m) => h.executeUpdate(editUpdate, { args: [m] })));
    },
  }),
  defineRoute({
    ...common,
    method: 'post',
    path: '/api/incidents/:id/roles',
    operationId: 'assignRole',
    summary: 'Assign (or with `unassign: true` take away) commander, assignee, comms or scribe; the person hears of it on their channel',
    body: { component: 'RoleChange', schema: RoleBody },
    handler: async ({ params: { id }, body, principal, deps, res }) => {
      const prepare = async () => (await checkPerson(deps, principal, body), body);
      res.json(await sendToIncident(deps, principal, id, 'role', prepare, (h, m) => h.executeUpdate(assignRoleUpdate, { args: [m] })));
    },
  }),
  defineRoute({
    ...common,
    method: 'post',
    path: '/api/incidents/:id/status-updates',
    operationId: 'postStatusUpdate',
    summary: 'Tell stakeholders where things stand: sent to channels that take `status.update` (external ones only when the tenant allows)',
    body: { component: 'StatusUpdate', schema: StatusUpdateBody },
    handler: async ({ params: { id }, body, principal, deps, res }) => {
      res.json(
        await sendToIncident(
          deps,
          principal,
          id,
          'status-update',
          () => body,
          (h, m) => h.executeUpdate(postStatusUpdate, { args: [m] }),
        ),
      );
    },
  }),
  defineRoute({
    ...common,
    method: 'post',
    path: '/api/incidents/:id/runbooks',
    operationId: 'runRunbookOnIncident',
    summary: 'Run a runbook (latest version, or `version`) on the incident after its own: same gates, same compensation; a rollback undoes every runbook run',
    body: { component: 'RunRunbook', schema: RunRunbookBody },
    handler: async ({ params: { id }, body, principal, deps, res }) => {
      const prepare = () => runbookToRun(deps, principal, body.runbookId, body.version);
      res.json(await sendToIncident(deps, principal, id, 'runbook', prepare, (h, m) => h.executeUpdate(runRunbookUpdate, { args: [m] })));
    },
  }),
];
