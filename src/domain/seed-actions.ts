/**
 * Seed 000's action types (its `performAction`: notify, block, scale_down, disable_feature, restart)
 * and the AIRE action each one means, with how a seed `payload` becomes step `params` and back.
 * The seed's payloads name no destination (its actions only logged), so what the native action needs
 * and the payload leaves out is read from the incident's context at run time, like the native runbooks
 * do (`{{incident.context.service}}`); a missing value fails the step loudly, never silently.
 */

type Json = Record<string, unknown>;

export interface SeedAction {
  seedType: string;
  aireType: string;
  toParams(this: void, payload: Json): Json;
  toPayload(this: void, params: Json): Json;
  /** The payload key a native parameter came from, for error paths (`flag` → `feature`). */
  payloadKey(this: void, paramKey: string): string;
}

/** What the converter fills in when a seed payload leaves it out, and export leaves out again. */
export const SEED_DEFAULTS = {
  message: '{{incident.title}}',
  slackUrl: '{{incident.context.slackWebhookUrl}}',
  webhookUrl: '{{incident.context.webhookUrl}}',
  pagerdutyRoutingKey: '{{incident.context.pagerdutyRoutingKey}}',
  platformUrl: '{{incident.context.platformUrl}}',
  healthUrl: '{{incident.context.healthUrl}}',
} as const;

const same = (key: string): string => key;

/** Renames keys (`from` → `to`), leaving the others as they are. */
function renamed(source: Json, names: Record<string, string>): Json {
  return Object.fromEntries(Object.entries(source).map(([k, v]) => [names[k] ?? k, v]));
}

function withoutDefault(source: Json, key: string, value: unknown): Json {
  if (source[key] !== value) return source;
  const { [key]: _dropped, ...rest } = source;
  return rest;
}

// `priority` (the seed pages PagerDuty "P1") has no native field: it leads the message, `[P1] …`.
const PRIORITY_MESSAGE = /^\[([^\]]+)\] \{\{incident\.title\}\}$/;

const notify: SeedAction = {
  seedType: 'notify',
  aireType: 'notify',
  toParams(payload) {
    const { priority, ...rest } = payload;
    const channel = typeof rest.channel === 'string' ? rest.channel : 'webhook';
    const message = typeof priority === 'string' ? `[${priority}] ${SEED_DEFAULTS.message}` : SEED_DEFAULTS.message;
    const params: Json = { ...rest, message: rest.message ?? message };
    if (priority !== undefined && typeof priority !== 'string') params.priority = priority; // refused by the schema, with its path
    if (channel === 'slack') params.url ??= SEED_DEFAULTS.slackUrl;
    if (channel === 'webhook') params.url ??= SEED_DEFAULTS.webhookUrl;
    if (channel === 'pagerduty') params.routingKey ??= SEED_DEFAULTS.pagerdutyRoutingKey;
    return params;
  },
  toPayload(params) {
    let payload: Json = { ...params };
    const priority = typeof payload.message === 'string' ? PRIORITY_MESSAGE.exec(payload.message)?.[1] : undefined;
    if (priority !== undefined) {
      const { message: _message, ...rest } = payload;
      payload = { ...rest, priority };
    }
    payload = withoutDefault(payload, 'message', SEED_DEFAULTS.message);
    if (payload.channel === 'slack') payload = withoutDefault(payload, 'url', SEED_DEFAULTS.slackUrl);
    if (payload.channel === 'webhook' || payload.channel === undefined) payload = withoutDefault(payload, 'url', SEED_DEFAULTS.webhookUrl);
    if (payload.channel === 'pagerduty') payload = withoutDefault(payload, 'routingKey', SEED_DEFAULTS.pagerdutyRoutingKey);
    return payload;
  },
  payloadKey: same,
};

const disableFeature: SeedAction = {
  seedType: 'disable_feature',
  aireType: 'disable_feature',
  toParams: (payload) => renamed(payload, { feature: 'flag' }),
  toPayload: (params) => renamed(params, { flag: 'feature' }),
  payloadKey: (key) => (key === 'flag' ? 'feature' : key),
};

const block: SeedAction = {
  seedType: 'block',
  aireType: 'block',
  toParams: (payload) => renamed(payload, { scope: 'target' }),
  toPayload: (params) => renamed(params, { target: 'scope' }),
  payloadKey: (key) => (key === 'target' ? 'scope' : key),
};

// `service` names the capacity resource on the platform API whose base URL the incident gives.
const CAPACITY_URL = /^\{\{incident\.context\.platformUrl\}\}\/services\/([^/?#]+)\/capacity$/;

const scaleDown: SeedAction = {
  seedType: 'scale_down',
  aireType: 'scale',
  toParams(payload) {
    const { service, percentage, ...rest } = payload;
    const params: Json = { ...rest };
    if (typeof service === 'string' && service !== '') params.url = `${SEED_DEFAULTS.platformUrl}/services/${encodeURIComponent(service)}/capacity`;
    else if (service !== undefined) params.url = service; // not a name: the url schema refuses it, at payload.service
    // The seed's scale_down takes `percentage` off the current capacity; scale keeps `percentOfCurrent` of it.
    if (typeof percentage === 'number') params.percentOfCurrent = 100 - percentage;
    else if (percentage !== undefined) params.percentOfCurrent = percentage;
    return params;
  },
  toPayload(params) {
    const { url, percentOfCurrent, ...rest } = params;
    const payload: Json = { ...rest };
    const service = typeof url === 'string' ? CAPACITY_URL.exec(url)?.[1] : undefined;
    if (service !== undefined) payload.service = decodeURIComponent(service);
    else if (url !== undefined) payload.url = url;
    if (typeof percentOfCurrent === 'number') payload.percentage = 100 - percentOfCurrent;
    return payload;
  },
  payloadKey: (key) => (key === 'url' ? 'service' : key === 'percentOfCurrent' ? 'percentage' : key),
};

// `service` names the service resource on the platform API (restart's http kind); health comes from the incident.
const SERVICE_URL = /^\{\{incident\.context\.platformUrl\}\}\/services\/([^/?#]+)$/;

const restart: SeedAction = {
  seedType: 'restart',
  aireType: 'restart',
  toParams(payload) {
    const { service, ...rest } = payload;
    const params: Json = { ...rest };
    if (typeof service === 'string' && service !== '') params.url = `${SEED_DEFAULTS.platformUrl}/services/${encodeURIComponent(service)}`;
    else if (service !== undefined) params.url = service; // not a name: the url schema refuses it, at payload.service
    if (params.kind === undefined || params.kind === 'http') params.healthUrl ??= SEED_DEFAULTS.healthUrl;
    return params;
  },
  toPayload(params) {
    const { url, ...rest } = params;
    let payload: Json = { ...rest };
    const service = typeof url === 'string' ? SERVICE_URL.exec(url)?.[1] : undefined;
    if (service !== undefined) payload.service = decodeURIComponent(service);
    else if (url !== undefined) payload.url = url;
    payload = withoutDefault(payload, 'healthUrl', SEED_DEFAULTS.healthUrl);
    return payload;
  },
  payloadKey: (key) => (key === 'url' ? 'service' : key),
};

/** The seed types AIRE runs: every type of the seed's performAction. */
export const SEED_ACTIONS: readonly SeedAction[] = [notify, block, scaleDown, disableFeature, restart];
export const SEED_ACTION_TYPES: readonly string[] = SEED_ACTIONS.map((a) => a.seedType);

export function seedActionOf(type: string): SeedAction | undefined {
  return SEED_ACTIONS.find((a) => a.seedType === type);
}
