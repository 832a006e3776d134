/**
 * The post-mortem review reminder, without schemas: the review workflow (src/workflows/postmortem-review.ts)
 * and the incident workflow that starts it at resolution import this, so it stays free of zod
 * (test/unit/workflow-bundle.test.ts).
 *
 * A critical or high incident gets a review date when it is resolved: `postmortemReviewAfterDays`
 * (tenant setting, default 5) after the resolution. On that date the channels subscribing to
 * `postmortem.review_due` are reminded, unless the post-mortem was published by then.
 */
import type { Severity } from './severity-scale';
import type { NotificationEvent } from './tenant-settings';

export const POSTMORTEM_REVIEW_EVENT = 'postmortem.review_due' satisfies NotificationEvent;

export const DEFAULT_POSTMORTEM_REVIEW_AFTER_DAYS = 5;

/** The severities whose resolution schedules a review. */
export const REVIEWED_SEVERITIES: readonly Severity[] = ['critical', 'high'];

export function needsPostmortemReview(severity: Severity): boolean {
  return REVIEWED_SEVERITIES.includes(severity);
}

/**
 * The review workflow's id: one per incident, readable in the Web UI. Starting it again for the
 * same incident (resolved, rolled back, resolved again) finds the first one running: the review date
 * counts from the first resolution.
 */
export function postmortemReviewWorkflowId(tenantId: string, incidentId: string): string {
  return `postmortem-review/${tenantId}/${incidentId}`;
}

/** What starts postmortemReviewWorkflow. Everything here is written to Temporal history: no secrets. */
export interface PostmortemReviewInput {
  tenantId: string;
  incidentId: string;
  /** When the incident was resolved (ISO 8601): the review date counts from here. */
  resolvedAt: string;
  /** What the reminder says and how it is routed (channels' minSeverity and categories filters). */
  incident: { title: string; severity: Severity; source: string; category?: string };
}

/** What the workflow answers when it ends. */
export interface PostmortemReviewResult {
  /** null when the incident's severity schedules no review. */
  reviewDueAt: string | null;
  outcome: 'not-reviewed' | 'already-published' | 'reminded';
  /** The channels reminded (delivered); failures are in the audit trail. */
  reminded: string[];
}

/** `afterDays` whole days after `resolvedAt`, as ISO 8601. */
export function reviewDueAt(resolvedAt: string, afterDays: number): string {
  return new Date(Date.parse(resolvedAt) + afterDays * 86_400_000).toISOString();
}
