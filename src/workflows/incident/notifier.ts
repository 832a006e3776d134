/**
 * Who hears about the incident: notifications to the tenant's channels, in order per channel and
 * never waited on, and the escalation tiers walked while nobody answers.
 */
import * as wf from '@temporalio/workflow';
import type { IncidentDraft } from '../../domain/incident';
import type { ChannelRoute, IncidentSettings } from '../../domain/incident-settings';
import { channelNamed, escalationSequence, routeChannels } from '../../domain/routing';
import { isAtLeast } from '../../domain/severity-scale';
import type { NotificationEvent } from '../../domain/tenant-settings';
import type { IncidentState } from '../definitions';
import { notifier } from './options';
import type { Recorder } from './recorder';

export class Notifier {
  /** Deliveries numbered so far: each one's idempotency key, carried across continue-as-new. */
  seq: number;
  /** Per channel, the last delivery: a channel gets its notifications in order (PagerDuty trigger before resolve). */
  private readonly channelQueues = new Map<string, Promise<unknown>>();
  private readonly deliveries: Promise<unknown>[] = [];

  constructor(
    private readonly ids: { tenantId: string; incidentId: string },
    private readonly draft: IncidentDraft,
    private readonly settings: IncidentSettings,
    private readonly state: IncidentState,
    private readonly recorder: Recorder,
    seq: number,
  ) {
    this.seq = seq;
  }

  /** Sends `message` to the channels that want `event` (or to `channels`), without waiting. */
  notify(event: NotificationEvent, message: string, channels?: ChannelRoute[]): void {
    const { draft, state } = this;
    const to = channels ?? routeChannels(this.settings, event, { severity: state.severity, category: draft.category });
    for (const channel of to) {
      const key = `${++this.seq}:${channel.name}`;
      const call = {
        ...this.ids,
        event,
        key,
        // By name: the activity reads the target from the tenant's settings, so it stays out of history.
        channel: { name: channel.name },
        incident: { id: this.ids.incidentId, title: draft.title, severity: state.severity, source: draft.source },
        message,
      };
      const delivery = (this.channelQueues.get(channel.name) ?? Promise.resolve())
        .then(() => notifier.deliverNotification(call))
        .catch((err: unknown) =>
          this.recorder.record('notification.failed', 'aire', { detail: { event, channel: channel.name, error: wf.rootCause(err) ?? String(err) } }),
        );
      this.channelQueues.set(channel.name, delivery);
      this.deliveries.push(delivery);
    }
  }

  /**
   * Walks the tenant's escalation tiers until `done()`: each tier fires when the previous one (or the
   * breach) went unanswered for its `after`. Returns whether it was answered in the end.
   */
  async escalate(reason: string, done: () => boolean): Promise<boolean> {
    const tiers = escalationSequence(this.settings);
    for (const [n, tier] of tiers.entries()) {
      if (await wf.condition(done, tier.after)) return true;
      this.recorder.record('escalation', 'aire', { detail: { reason, tier: n + 1, channels: tier.channels.map((c) => c.name) } });
      this.notify('escalation', `Escalation, tier ${n + 1}: ${reason} — ${this.draft.title}`, tier.channels);
    }
    const last = tiers[tiers.length - 1];
    return last ? wf.condition(done, last.after) : done();
  }

  /**
   * With no escalation tiers, nobody would hear of an unacknowledged incident: page the tenant's
   * on-call channel (settings `onCall`), again every `repeatEvery`, until `done()`.
   */
  async page(reason: string, title: string, done: () => boolean): Promise<void> {
    const onCall = this.settings.onCall;
    if (!onCall || !isAtLeast(this.state.severity, onCall.minSeverity)) return;
    const channels = channelNamed(this.settings, onCall.channel);
    for (let n = 1; !done(); n += 1) {
      this.recorder.record('incident.paged', 'aire', { detail: { channel: onCall.channel, page: n, reason } });
      this.notify('page', `Page ${n}, ${this.state.severity.toUpperCase()}: ${title}: ${reason}; acknowledge to stop paging`, channels);
      if (await wf.condition(done, onCall.repeatEvery)) return;
    }
  }

  /** Waits until every notification sent so far was delivered or given up on. */
  async delivered(): Promise<void> {
    await Promise.all(this.deliveries);
  }
}
