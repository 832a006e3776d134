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
export function routeChannels(
  settings: IncidentSettings,
  event: NotificationEvent,
  incident: { severity: Severity; category?: string },
  audience: 'internal' | 'external' = 'internal',
): ChannelRoute[] {
  return settings.channels.filter(
    (c) =>
      // External channels (a status page) hear only the status updates meant for them.
      (c.audience !== 'external' || (event === 'status.update' && audience === 'external')) &&
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

/** The channel of that name, as a route of its own (a person's channel, the on-call channel). */
export function channelNamed(settings: IncidentSettings, name: string | undefined): ChannelRoute[] {
  return name === undefined ? [] : settings.channels.filter((c) => c.name === name);
}

/** Who `actor` is on the roster: the person whose keys include the API key, else the actor itself (`key:<name>`). */
export function personOf(settings: IncidentSettings, actor: string): string {
  const key = actor.startsWith('key:') ? actor.slice(4) : undefined;
  return settings.people?.find((p) => key !== undefined && p.keys.includes(key))?.name ?? actor;
}
