import { ApplicationFailure } from '@temporalio/activity';
import type { Config } from '../config';
import { appendLog } from '../db/incidents';
import { Pool, withTenant } from '../db/pool';
import { tenantSettings } from '../db/tenant-settings';
import type { NotificationEvent } from '../domain/tenant-settings';
import { notifySpec } from '../domain/actions';
import { notifyExecutor } from './actions/notify';
import { ActionContext } from './actions/types';
import { NON_RETRYABLE } from './egress';
import { actionPorts } from './ports';

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
  /**
   * The channel, by name: its target (a URL with a token, a routing key) is read from the tenant's
   * settings here, so it never enters workflow history. Calls scheduled before that carry the
   * target they were routed with; it is used only if the channel has since been removed.
   */
  channel: { name: string; target?: Record<string, unknown> };
  incident: { id: string; title: string; severity: string; source: string };
  message: string;
}

/** PagerDuty follows the incident: one alert (one dedup key), acknowledged and resolved with it. */
function pagerdutyAction(call: NotificationCall, target: Record<string, unknown>): { eventAction?: 'trigger' | 'acknowledge' | 'resolve' } {
  if (target.channel !== 'pagerduty') return {};
  if (call.event === 'incident.resolved') return { eventAction: 'resolve' };
  if (call.event === 'incident.acknowledged') return { eventAction: 'acknowledge' };
  return { eventAction: 'trigger' };
}

/**
 * Routing notifications (incident opened, approval needed, SLA breach, escalation, step failed,
 * resolved) through the tenant's channels, with the same `notify` action runbooks use.
 */
export function createNotificationActivities(deps: NotificationDeps) {
  /** The channel's target as the tenant's settings say now: a fixed webhook URL reaches open incidents too. */
  async function targetOf(call: NotificationCall): Promise<Record<string, unknown>> {
    const settings = await tenantSettings(deps.pool, call.tenantId);
    const target = settings.channels.find((c) => c.name === call.channel.name)?.target ?? call.channel.target;
    if (target) return target;
    throw ApplicationFailure.nonRetryable(`channel "${call.channel.name}" is no longer in the tenant's settings`, NON_RETRYABLE.invalidParams);
  }

  async function deliverNotification(call: NotificationCall): Promise<{ channel: string; delivered: true }> {
    const target = await targetOf(call);
    const parsed = notifySpec.params.safeParse({ ...target, message: call.message, ...pagerdutyAction(call, target) });
    if (!parsed.success) {
      throw ApplicationFailure.nonRetryable(`channel "${call.channel.name}" is misconfigured: ${parsed.error.issues[0]?.message}`, NON_RETRYABLE.invalidParams);
    }
    const ctx: ActionContext = {
      tenantId: call.tenantId,
      incidentId: call.incidentId,
      stepId: `notify:${call.event}`,
      incident: call.incident,
      idempotencyKey: `aire:${call.incidentId}:n:${call.key}`,
      ...actionPorts(deps, call.tenantId),
      remember: (_key, produce) => produce(),
    };
    await notifyExecutor.execute(ctx, parsed.data);
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
