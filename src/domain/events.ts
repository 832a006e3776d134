import { z } from 'zod';
import { ValidationError, fieldErrors } from './validation';

/**
 * Events for the detection rules (POST /api/events): any JSON object, or a CloudEvents 1.0 event in
 * structured mode. Both become one object the rules read their fields from.
 */

export const CLOUDEVENTS_MEDIA_TYPE = 'application/cloudevents+json';

const required = (what: string) => (issue: { input: unknown }) => (issue.input === undefined ? `required: ${what}` : undefined);

/** CloudEvents 1.0, structured mode: the required context attributes, and the optional ones AIRE reads. */
export const CloudEventSchema = z.looseObject({
  specversion: z.literal('1.0', {
    error: (issue) => (issue.input === undefined ? 'required: the CloudEvents version, "1.0"' : 'must be "1.0" (CloudEvents 1.0)'),
  }),
  id: z
    .string({ error: required('the event id, unique per source') })
    .min(1)
    .max(500),
  source: z
    .string({ error: required('the source, a URI-reference such as /auth/login or https://idp.example.com') })
    .min(1)
    .max(2_000),
  type: z
    .string({ error: required('the event type, such as com.example.login.failed') })
    .min(1)
    .max(500),
  time: z.iso.datetime({ offset: true, message: 'an RFC 3339 timestamp, e.g. 2025-06-01T12:00:00Z' }).optional(),
  subject: z.string().max(2_000).optional(),
  datacontenttype: z.string().max(200).optional(),
  dataschema: z.string().max(2_000).optional(),
  data: z.unknown().optional(),
  data_base64: z.string().optional(),
});
export type CloudEvent = z.infer<typeof CloudEventSchema>;

/** Any JSON object; `id`, `source` and `time` mean something when present. */
export const GenericEventSchema = z.looseObject({
  id: z.union([z.string().trim().min(1).max(500), z.number()]).optional(),
  source: z.string().trim().min(1).max(2_000).optional(),
  time: z.union([z.string().max(100), z.number()]).optional(),
});

export interface IncomingEvent {
  format: 'cloudevents' | 'json';
  /** The event's own id, when it has one (a CloudEvent always does). */
  id?: string;
  source?: string;
  /** What rules read fields from. */
  view: Record<string, unknown>;
  /** What the incident keeps as its context: the view, without the payload twice. */
  context: Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A CloudEvent as rules see it: the payload's fields (when `data` is an object), with the context
 * attributes (`id`, `source`, `type`, `time`, `subject`, extensions) over them, and `data` itself. So
 * `actor.ip` finds `data.actor.ip`, `data.actor.ip` works too, and `type` is the CloudEvents type.
 */
export function cloudEventView(event: CloudEvent): { view: Record<string, unknown>; context: Record<string, unknown> } {
  const { data, data_base64: _base64, ...attributes } = event;
  const payload = isPlainObject(data) ? data : {};
  const context: Record<string, unknown> = { ...payload, ...attributes };
  if (!isPlainObject(data) && data !== undefined) context.data = data;
  return { view: data === undefined ? context : { ...context, data }, context };
}

/**
 * Reads the body of POST /api/events. `cloudEvent` is true for `Content-Type:
 * application/cloudevents+json`; a JSON body with a `specversion` is read as a CloudEvent too.
 * Throws ValidationError naming the failing field.
 */
export function parseEvent(body: unknown, cloudEvent: boolean): IncomingEvent {
  if (!isPlainObject(body)) {
    const message = Array.isArray(body) ? 'send one event as a JSON object (batches are not accepted)' : 'send the event as a JSON object';
    throw new ValidationError('invalid event', [{ path: '(body)', message }]);
  }
  if (cloudEvent || body.specversion !== undefined) {
    const parsed = CloudEventSchema.safeParse(body);
    if (!parsed.success) throw new ValidationError('invalid CloudEvent', fieldErrors(parsed.error));
    const { view, context } = cloudEventView(parsed.data);
    return { format: 'cloudevents', id: parsed.data.id, source: parsed.data.source, view, context };
  }
  const parsed = GenericEventSchema.safeParse(body);
  if (!parsed.success) throw new ValidationError('invalid event', fieldErrors(parsed.error));
  const { id, source } = parsed.data;
  return { format: 'json', id: id === undefined ? undefined : String(id), source, view: body, context: body };
}
