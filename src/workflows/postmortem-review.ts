/**
 * The post-mortem review reminder of one incident: records the review date, sleeps until it, then
 * reminds the channels subscribing to `postmortem.review_due`, unless the post-mortem was published
 * by then. Started at resolution of a critical or high incident by the incident workflow, as an
 * abandoned child (its id: postmortemReviewWorkflowId), so closing the incident does not end it.
 * Durable: a worker restart or a days-long sleep loses nothing; what it did is in the audit trail
 * (`postmortem.review_scheduled`, `notification.sent`, `postmortem.review_due`).
 */
import * as wf from '@temporalio/workflow';
import type { NotificationActivities, PostmortemActivities } from '../activities';
import { POSTMORTEM_REVIEW_EVENT, type PostmortemReviewInput, type PostmortemReviewResult, needsPostmortemReview } from '../domain/postmortem-review';

/** Its writes retry until PostgreSQL answers, like the incident's store writes. */
const store = wf.proxyActivities<PostmortemActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
});

/** A reminder retries a little, then gives up on that channel (recorded): the others still hear. */
const notifier = wf.proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 },
});

export async function postmortemReviewWorkflow(input: PostmortemReviewInput): Promise<PostmortemReviewResult> {
  if (!needsPostmortemReview(input.incident.severity)) return { reviewDueAt: null, outcome: 'not-reviewed', reminded: [] };

  const { reviewDueAt } = await store.schedulePostmortemReview(input);
  // Date.now() is the workflow's deterministic clock; a date already past reminds at once.
  const wait = Date.parse(reviewDueAt) - Date.now();
  if (wait > 0) await wf.sleep(wait);

  const due = await store.postmortemReviewDue(input);
  if (due.status === 'published') return { reviewDueAt, outcome: 'already-published', reminded: [] };

  const message =
    `Post-mortem review due: "${input.incident.title}" (${input.incident.severity}), resolved ${input.resolvedAt}. ` +
    `The post-mortem is ${due.status === 'in_review' ? 'in review' : 'a draft'}: write it with PUT /api/incidents/${input.incidentId}/postmortem ` +
    `(aire incident postmortem ${input.incidentId}), read it at GET /api/incidents/${input.incidentId}/report?format=markdown.`;
  const outcomes = await Promise.all(
    due.channels.map(async (channel) => {
      try {
        await notifier.deliverNotification({
          tenantId: input.tenantId,
          incidentId: input.incidentId,
          event: POSTMORTEM_REVIEW_EVENT,
          key: `postmortem-review:${Date.parse(input.resolvedAt)}:${channel}`,
          channel: { name: channel },
          incident: { id: input.incidentId, title: input.incident.title, severity: input.incident.severity, source: input.incident.source },
          message,
        });
        return { channel, error: null };
      } catch (err) {
        return { channel, error: wf.rootCause(err) ?? String(err) };
      }
    }),
  );
  const reminded = outcomes.filter((o) => o.error === null).map((o) => o.channel);
  const failed = outcomes.flatMap((o) => (o.error === null ? [] : [{ channel: o.channel, error: o.error }]));
  await store.postmortemReviewReminded(input, { reminded, failed });
  return { reviewDueAt, outcome: 'reminded', reminded };
}
