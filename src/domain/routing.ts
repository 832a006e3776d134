/**
 * Who hears about an incident, and when: response SLAs, notification routing and escalation tiers
 * over a tenant's settings. Schema-free, like every module the incident workflow imports.
 */
import { DEFAULT_RESPONSE_SLA_MS, type Severity, isAtLeast } from './severity-scale';
import type { ChannelRoute, IncidentSettings } from './incident-settings';
import type { NotificationEvent } from './tenant-settings';

export function responseSlaMs(settings: IncidentSettings, severity: Severity): number {
  return settings.responseSla[severity] ?? DEFAULT_RESPONSE_SLA_MS[severity];
}

/** The channels that want this event for this incident. */
export function routeChannels(settings: IncidentSettings, event: NotificationEvent, incident: { severity: Severity; category?: string }): ChannelRoute[] {
  return settings.channels.filter(
    (c) =>
      isAtLeast(incident.severity, c.minSeverity) &&
      (c.events === undefined || c.events.includes(event)) &&
      (c.categories === undefined || (incident.category !== undefined && c.categories.includes(incident.category))),
  );
}

/** The escalation tiers in the order they fire, the last one repeated `repeat` times. */
export function escalationSequence(settings: IncidentSettings): { after: number; channels: ChannelRoute[] }[] {
  if (!settings.escalation) return [];
  const { tiers, repeat } = settings.escalation;
  const repeated = Array.from({ length: repeat }, () => {
    const last = tiers[tiers.length - 1];
    if (last === undefined) throw new Error(`escalation: no tier to repeat ${repeat} times`);
    return last;
  });
  const all = [...tiers, ...repeated];
  return all.map((t) => ({ after: t.after, channels: settings.channels.filter((c) => t.channels.includes(c.name)) }));
}
