import { z } from 'zod';
import { SlugSchema } from '../../domain/incident';
import { BlockActionsSchema, SLACK_ACTIONS, SlackFormSchema, gateName, slackActor, slackDecisionRefusal } from '../../domain/slack';
import { MESSAGE_OUTCOMES, type MessageAnswer, approveUpdate, rejectUpdate, stateQuery } from '../../workflows/definitions';
import { hostileInputErrors } from '../hostile-input';
import { HttpProblem, conflict, notFound } from '../problem';
import { defineRoute } from '../route';
import { answerInSlack, slackEscape, slackInteractionMiddleware, slackRequestOf } from '../slack';
import { slackIncident } from '../services/slack';
import { noAnswer } from '../workflow-answer';
import { ask } from './incidents';

/**
 * Approve and Reject from Slack: the buttons on an `approval.needed` message
 * (src/activities/actions/notify/slack.ts) post here, signed by the tenant's Slack app. The click
 * becomes the same Workflow Update as POST /api/incidents/:id/approve or /reject, from the roster
 * person the Slack user is mapped to (settings `slack.users`), recorded as `slack:<person>`.
 */

/** `payload`, decoded: JSON, free of what breaks code after it (depth, NUL, `__proto__`), and a button click. */
const InteractionPayload = z
  .string()
  .transform((text, ctx): unknown => {
    try {
      const value: unknown = JSON.parse(text);
      const hostile = hostileInputErrors(value);
      if (hostile.length === 0) return value;
      for (const e of hostile) ctx.addIssue({ code: 'custom', message: `${e.path}: ${e.message}` });
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON' });
    }
    return z.NEVER;
  })
  .pipe(BlockActionsSchema);

export const SlackInteractionBody = SlackFormSchema.extend({ payload: SlackFormSchema.shape.payload.pipe(InteractionPayload) });

export const SlackDecisionSchema = z.object({
  id: z.uuid(),
  stepId: z.string().nullable().describe('the gate decided: null for the runbook gate'),
  accepted: z.enum(['approve', 'reject']),
  outcome: z.enum(MESSAGE_OUTCOMES),
  actor: z.string(),
  text: z.string().describe('what was said in Slack'),
});
export type SlackDecision = z.infer<typeof SlackDecisionSchema>;

/** What the channel is told of a decision the workflow took. */
function saidInSlack(answer: MessageAnswer, who: string, gate: string, incidentId: string): string {
  const pending = answer.state.pendingApproval;
  if (answer.outcome === 'approval-recorded' && pending) return `${who} approved ${gate}: ${pending.approvals.length} of ${pending.required} approvals so far.`;
  if (answer.outcome === 'rejected') return `:x: ${who} rejected ${gate} of incident ${incidentId}.`;
  return `:white_check_mark: ${who} approved ${gate} of incident ${incidentId}.`;
}

export const slackRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/slack/interactions/:tenant',
    operationId: 'slackInteraction',
    tag: 'slack',
    summary: "Slack's request when someone clicks Approve or Reject on an approval.needed message",
    description:
      "The Slack app's Interactivity Request URL, one per tenant. No API key: the request is authenticated by Slack's signature (`x-slack-signature`, `x-slack-request-timestamp` within 5 minutes) under the tenant's `slack.signingSecret` (401 otherwise); the Slack user must be mapped to a person in `slack.users` (403 otherwise). The decision is the same Workflow Update as approve/reject, with the same rules (403 four-eyes, 409 nothing waiting, already decided, an approver counts once); the answer, or the refusal's reason, is also posted to the interaction's `response_url`.",
    roles: null,
    params: z.object({ tenant: SlugSchema }),
    middleware: slackInteractionMiddleware,
    body: { component: 'SlackInteraction', schema: SlackInteractionBody, contentType: 'application/x-www-form-urlencoded' },
    responses: { 200: { description: 'the workflow took the decision', component: 'SlackDecision', schema: SlackDecisionSchema } },
    problems: [400, 401, 403, 404, 409, 413, 415, 500, 503],
    handler: async ({ body: { payload: interaction }, deps, res }) => {
      const { tenantId, slack, people } = slackRequestOf(res);
      const [action] = interaction.actions;
      if (!action) throw new HttpProblem(400, 'Invalid request', 'no action in the interaction');
      const kind = SLACK_ACTIONS[action.action_id];
      const gate = action.value;
      const slackUser = interaction.user.id;
      try {
        const person = slack.users[slackUser];
        if (person === undefined) throw new HttpProblem(403, 'Forbidden', `Slack user ${slackUser} is not mapped to an AIRE approver (settings slack.users)`);
        const incident = await slackIncident(deps, tenantId, gate.incidentId);
        if (!incident) throw notFound(`incident ${gate.incidentId}`);
        if (incident.status === 'closed') throw conflict('the incident is closed');
        const handle = deps.temporal.workflow.getHandle(incident.workflowId);
        const timeout = deps.config.AIRE_WORKFLOW_ANSWER_TIMEOUT;
        const state = await deps.temporal.withDeadline(Date.now() + timeout, () => handle.query(stateQuery)).catch(() => null);
        if (!state || state.incidentId !== incident.id) throw noAnswer(timeout, 'the decision was not applied');
        const refusal = slackDecisionRefusal({
          kind,
          person,
          gate,
          severity: state.severity,
          declaredBy: incident.declaredBy,
          pending: state.pendingApproval,
          people,
        });
        if (refusal) throw new HttpProblem(refusal.status, refusal.status === 403 ? 'Forbidden' : 'Conflict', refusal.why);

        const sent = {
          actor: slackActor(person),
          reason: `from Slack (user ${slackUser})`,
          incidentId: incident.id,
          ...(gate.stepId ? { stepId: gate.stepId } : {}),
        };
        const answer = await ask(deps, () => handle.executeUpdate(kind === 'approve' ? approveUpdate : rejectUpdate, { args: [sent] }));
        const text = saidInSlack(answer, `${person} (<@${slackEscape(slackUser)}>)`, gateName(gate.stepId), incident.id);
        deps.log?.info({ tenantId, incidentId: incident.id, stepId: gate.stepId, actor: sent.actor, outcome: answer.outcome }, 'decision from Slack');
        await answerInSlack(deps, interaction, { text, audience: 'in_channel' });
        const decided: SlackDecision = { id: incident.id, stepId: gate.stepId, accepted: kind, outcome: answer.outcome, actor: sent.actor, text };
        res.json(decided);
      } catch (err) {
        // Refused (or not applied): the person who clicked reads why, in Slack; the HTTP answer is the same problem.
        if (err instanceof HttpProblem)
          await answerInSlack(deps, interaction, { text: `AIRE did not ${kind}: ${slackEscape(err.message)}`, audience: 'ephemeral' });
        throw err;
      }
    },
  }),
];
