import { ApplicationFailure } from '@temporalio/activity';
import type { Config } from '../config';
import { appendLog } from '../db/incidents';
import { Pool, withTenant } from '../db/pool';
import type { Channel, NotificationEvent } from '../domain/tenant-settings';
import { notifyAction } from './actions/notify';
import { ActionContext } from './actions/types';
import { NON_RETRYABLE } from './egress';

export interface NotificationDeps {
  pool: Pool;
  config: Config;
}

/** One notification to one channel; the workflow sends these without waiting on them. */
export interface NotificationCall {
  tenantId: string;
  incidentId: string;
  event: NotificationEvent;
  /** Unique per delivery within the incident: the idempotency key and audit key derive from it. */
  key: string;
  channel: Channel;
  incident: { id: string; title: string; severity: string; source: string };
  message: string;
}

/** PagerDuty follows the incident: one alert (one dedup key), acknowledged and resolved with it. */
function pagerdutyAction(call: NotificationCall): { eventAction?: 'trigger' | 'acknowledge' | 'resolve' } {
  if (call.channel.target.channel !== 'pagerduty') return {};
  if (call.event === 'incident.resolved') return { eventAction: 'resolve' };
  if (call.event === 'incident.acknowledged') return { eventAction: 'acknowledge' };
  return { eventAction: 'trigger' };
}

/**
 * Routing notifications (incident opened, approval needed, SLA breach, escalation, step failed,
 * resolved) through the tenant's channels, with the same `notify` action runbooks use.
 */
export function createNotificationActivities(deps: NotificationDeps) {
  async function deliverNotification(call: NotificationCall): Promise<{ channel: string; delivered: true }> {
    const parsed = notifyAction.params.safeParse({ ...call.channel.target, message: call.message, ...pagerdutyAction(call) });
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(`channel "${call.channel.name}" is misconfigured: ${parsed.error.issues[0]?.message}`, NON_RETRYABLE.invalidParams);
    }
    const ctx: ActionContext = {
      tenantId: call.tenantId,
      incidentId: call.incidentId,
      stepId: `notify:${call.event}`,
      incident: call.incident,
      idempotencyKey: `aire:${call.incidentId}:n:${call.key}`,
      config: deps.config,
      pool: deps.pool,
      remember: (_key, produce) => produce(),
    };
    await notifyAction.execute(ctx, parsed.data);
    await withTenant(deps.pool, call.tenantId, (client) =>
      appendLog(client, {
        tenantId: call.tenantId,
        incidentId: call.incidentId,
        eventKey: `n:${call.key}`,
        kind: 'notification.sent',
        actor: 'aire',
        detail: { event: call.event, channel: call.channel.name },
      }),
    );
    return { channel: call.channel.name, delivered: true };
  }
  return { deliverNotification };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
