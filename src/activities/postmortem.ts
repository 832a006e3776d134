import { ApplicationFailure } from '@temporalio/activity';
import { appendLog } from '../db/incidents';
import { withTenant } from '../db/pool';
import { getPostmortem, markReviewReminded, scheduleReview } from '../db/postmortems';
import { tenantSettings } from '../db/tenant-settings';
import { incidentSettings } from '../domain/incident-settings';
import type { PostmortemStatus } from '../domain/postmortem';
import { POSTMORTEM_REVIEW_EVENT, type PostmortemReviewInput, reviewDueAt } from '../domain/postmortem-review';
import { routeChannels } from '../domain/routing';
import type { NotificationDeps } from './notifications';

/** What the review workflow learns when the date comes: whether to remind, and whom. */
export interface ReviewDue {
  status: PostmortemStatus;
  /** Channels subscribing to `postmortem.review_due` that match the incident, by name (targets stay out of history). */
  channels: string[];
}

export interface ReviewReminded {
  reminded: string[];
  failed: { channel: string; error: string }[];
}

/** Audit keys per resolution: a retried activity writes its entry once; a later resolution gets its own. */
const auditKey = (input: PostmortemReviewInput, what: string): string => `postmortem-review:${Date.parse(input.resolvedAt)}:${what}`;

/**
 * The post-mortem review reminder's I/O (src/workflows/postmortem-review.ts): the review date in the
 * postmortems row and the audit trail, and who is to be reminded. Delivery itself is the
 * notification activity every channel uses (deliverNotification).
 */
export function createPostmortemActivities(deps: NotificationDeps) {
  /** Works out the review date from the tenant's `postmortemReviewAfterDays` and records it; answers it. */
  async function schedulePostmortemReview(input: PostmortemReviewInput): Promise<{ reviewDueAt: string }> {
    const settings = await tenantSettings(deps.pool, input.tenantId);
    const dueAt = reviewDueAt(input.resolvedAt, settings.postmortemReviewAfterDays);
    const found = await withTenant(deps.pool, input.tenantId, async (c) => {
      if (!(await scheduleReview(c, input.incidentId, dueAt))) return false;
      await appendLog(c, {
        tenantId: input.tenantId,
        incidentId: input.incidentId,
        eventKey: auditKey(input, 'scheduled'),
        kind: 'postmortem.review_scheduled',
        actor: 'aire',
        detail: { reviewDueAt: dueAt, afterDays: settings.postmortemReviewAfterDays, resolvedAt: input.resolvedAt },
      });
      return true;
    });
    if (!found) throw ApplicationFailure.nonRetryable(`incident ${input.incidentId} of tenant ${input.tenantId} does not exist`, 'IncidentNotFound');
    return { reviewDueAt: dueAt };
  }

  /**
   * The post-mortem's status now, and the channels to remind: those whose `events` list
   * `postmortem.review_due` (a channel without a list is not reminded: a reminder must not page the
   * on-call) and whose severity and category filters match the incident.
   */
  async function postmortemReviewDue(input: PostmortemReviewInput): Promise<ReviewDue> {
    const settings = await tenantSettings(deps.pool, input.tenantId);
    const postmortem = await withTenant(deps.pool, input.tenantId, (c) => getPostmortem(c, input.incidentId));
    const channels = routeChannels(incidentSettings(settings), POSTMORTEM_REVIEW_EVENT, input.incident).filter((c) => c.events !== undefined);
    return { status: postmortem?.status ?? 'draft', channels: channels.map((c) => c.name) };
  }

  /** Stamps the reminder on the post-mortem and records who was reminded and who could not be. */
  async function postmortemReviewReminded(input: PostmortemReviewInput, outcome: ReviewReminded): Promise<void> {
    await withTenant(deps.pool, input.tenantId, async (c) => {
      const written = await appendLog(c, {
        tenantId: input.tenantId,
        incidentId: input.incidentId,
        eventKey: auditKey(input, 'due'),
        kind: 'postmortem.review_due',
        actor: 'aire',
        detail: { reminded: outcome.reminded, failed: outcome.failed.map((f) => f.channel), errors: outcome.failed },
      });
      if (written && outcome.reminded.length > 0) await markReviewReminded(c, input.incidentId);
    });
  }

  return { schedulePostmortemReview, postmortemReviewDue, postmortemReviewReminded };
}

export type PostmortemActivities = ReturnType<typeof createPostmortemActivities>;
