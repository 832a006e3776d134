import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { approvalRefusal } from './gates';
import { SlugSchema } from './incident';
import type { Severity } from './severity';

/**
 * Approving from Slack: what AIRE puts on an `approval.needed` message (two buttons), and what it
 * reads back when someone clicks one (Slack's signed `block_actions` interaction). Pure: the route
 * is src/api/routes/slack.ts, the message src/activities/actions/notify/slack.ts.
 */

/** How far Slack's `x-slack-request-timestamp` may be from now before the request is refused as a replay. */
export const SLACK_TOLERANCE_S = 300;

/**
 * Slack's v0 request signature: `v0=` and the hex HMAC-SHA256, under the app's signing secret, of
 * `v0:<x-slack-request-timestamp>:<raw body>`.
 */
export function slackSignature(secret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** Why a request is not Slack's, or undefined when it is: a fresh timestamp and a signature that matches (compared in constant time). */
export function slackSignatureProblem(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  rawBody: string,
  nowMs: number,
): string | undefined {
  const { timestamp, signature } = headers;
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) return 'x-slack-request-timestamp is missing or not a Unix time in seconds';
  if (signature === undefined || !/^v0=[0-9a-f]{64}$/.test(signature)) return 'x-slack-signature is missing or not v0=<hex HMAC-SHA256>';
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > SLACK_TOLERANCE_S) return `the request is stale: its timestamp is more than ${SLACK_TOLERANCE_S} s from now`;
  const expected = Buffer.from(slackSignature(secret, timestamp, rawBody));
  if (!timingSafeEqual(expected, Buffer.from(signature))) return 'x-slack-signature does not match the body';
  return undefined;
}

/** The buttons' `action_id`s: which decision a click is. */
export const SLACK_ACTIONS = { aire_approve: 'approve', aire_reject: 'reject' } as const;
export type SlackActionId = keyof typeof SLACK_ACTIONS;

/** The gate an approval.needed message is about: the runbook's (stepId null) or a step's. */
export interface SlackGate {
  incidentId: string;
  stepId: string | null;
}

/** A button's `value`: `<incident id>` for the runbook gate, `<incident id>/<step id>` for a step (a step id has no `/`). */
export function gateValue(gate: SlackGate): string {
  return gate.stepId === null ? gate.incidentId : `${gate.incidentId}/${gate.stepId}`;
}

export const GateValueSchema = z.string().transform((value, ctx): SlackGate => {
  const [incidentId = '', stepId, ...rest] = value.split('/');
  const id = z.uuid().safeParse(incidentId);
  const step = stepId === undefined ? undefined : SlugSchema.safeParse(stepId);
  if (!id.success || rest.length > 0 || (step && !step.success)) {
    ctx.addIssue({ code: 'custom', message: 'not a gate this AIRE sent: <incident id> or <incident id>/<step id>' });
    return z.NEVER;
  }
  return { incidentId: id.data, stepId: step?.data ?? null };
});

/**
 * Which gate an `approval.needed` notification is about, read from its message, which the workflow
 * writes as `Approval needed for step "<id>" of …` or `Approval needed for the runbook of …`
 * (src/workflows/incident/approval.ts). The notification carries no step id of its own; undefined
 * when the message is not one of these (the message then goes out without buttons).
 */
export function approvalGateOf(message: string): { stepId: string | null } | undefined {
  if (message.startsWith('Approval needed for the runbook of ')) return { stepId: null };
  const step = /^Approval needed for step "([a-z0-9][a-z0-9_-]{0,63})" of /.exec(message)?.[1];
  return step === undefined ? undefined : { stepId: step };
}

/**
 * What AIRE reads of a `block_actions` interaction (Slack posts it form-encoded, as the JSON of the
 * `payload` field): who clicked, which button, and where to answer. Slack sends much more; the rest is ignored.
 */
export const BlockActionsSchema = z.object({
  type: z.literal('block_actions', 'only block_actions interactions (button clicks) are handled'),
  user: z.object({ id: z.string().min(1).max(64), username: z.string().max(200).optional(), name: z.string().max(200).optional() }),
  actions: z
    .array(
      z.object({
        action_id: z.enum(Object.keys(SLACK_ACTIONS) as [SlackActionId, ...SlackActionId[]]),
        value: GateValueSchema,
      }),
    )
    .length(1, 'one action per interaction: a button click'),
  /** Where a reply goes (ephemeral or in the channel); valid for 30 minutes. */
  response_url: z.url().max(2_000).optional(),
  trigger_id: z.string().max(200).optional(),
});
export type BlockActions = z.infer<typeof BlockActionsSchema>;

/** The form Slack posts: one field, `payload`, whose value is the JSON of the interaction. */
export const SlackFormSchema = z.object({ payload: z.string().min(2).max(100_000) });

/** Slack user ids: `U…` or `W…` (Enterprise Grid), upper-case letters and digits. */
export const SLACK_USER_ID_HINT = 'a Slack user id, like U024BE7LH';
export const SlackUserIdSchema = z.string().regex(/^[UW][A-Z0-9]{2,30}$/, SLACK_USER_ID_HINT);

/** The audit actor of a Slack decision: the roster person, as `key:<name>` writes an API key. */
export const slackActor = (person: string): string => `slack:${person}`;

/**
 * The roster person behind an audit actor: `slack:<person>`, or the person whose `keys` hold the
 * API key of `key:<name>`; undefined when the actor is nobody on the roster. Four-eyes and "an
 * approver counts once" compare people, so a Slack click and the same person's API key are one person.
 */
export function rosterPersonOf(people: readonly { name: string; keys: readonly string[] }[], actor: string): string | undefined {
  if (actor.startsWith('slack:')) return actor.slice('slack:'.length);
  if (!actor.startsWith('key:')) return undefined;
  const key = actor.slice('key:'.length);
  return people.find((p) => p.keys.includes(key))?.name;
}

export const gateName = (stepId: string | null): string => (stepId ? `step "${stepId}"` : 'the runbook gate');

/** What a Slack decision is checked against before it goes to the workflow: the incident's live state and who declared it. */
export interface SlackDecisionCheck {
  kind: 'approve' | 'reject';
  person: string;
  gate: SlackGate;
  severity: Severity;
  declaredBy: string;
  pending: { stepId: string | null; approvals: readonly string[] } | null;
  people: readonly { name: string; keys: readonly string[] }[];
}

/**
 * Why this Slack decision cannot apply, as the workflow would answer it (409 or 403), but comparing
 * people where the workflow compares actors: the workflow's four-eyes and "counts once" rules see
 * `slack:alice` and `key:alice-laptop` as two approvers, while the roster says they are one person.
 * Also the gate itself: a click on an old message for the runbook gate must not approve a step
 * gate waiting now (the workflow matches a decision without a step id to whatever gate waits). The
 * workflow checks again when the decision reaches it (src/workflows/incident/decisions.ts).
 */
export function slackDecisionRefusal(c: SlackDecisionCheck): { status: 403 | 409; why: string } | undefined {
  if (!c.pending) return { status: 409, why: 'nothing is waiting for approval' };
  if (c.pending.stepId !== c.gate.stepId) {
    return { status: 409, why: `the pending gate is ${gateName(c.pending.stepId)}, not ${gateName(c.gate.stepId)} this message was for` };
  }
  if (c.kind === 'reject') return undefined;
  const declarer = rosterPersonOf(c.people, c.declaredBy);
  const fourEyes = declarer === undefined ? null : approvalRefusal(c.severity, declarer, c.person);
  if (fourEyes) return { status: 403, why: fourEyes };
  if (c.pending.approvals.some((actor) => rosterPersonOf(c.people, actor) === c.person)) {
    return { status: 409, why: `${c.person} has already approved ${gateName(c.pending.stepId)}: an approver counts once` };
  }
  return undefined;
}
