import { z } from 'zod';
import { defineActionSpec } from './spec';

const Method = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

export const HttpRequest = z
  .object({
    method: Method.default('POST'),
    url: z.string().url(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
  })
  .strict();

export const HttpParams = HttpRequest.extend({
  /** The request that undoes this one (e.g. re-enable what was disabled); absent = not undoable. */
  compensate: HttpRequest.optional(),
}).strict();

/** Calls an HTTP endpoint: a deploy, feature-flag or platform API. */
export const httpSpec = defineActionSpec({
  type: 'http',
  description: 'Call an HTTP endpoint (deploy, feature-flag or platform API); optionally a second request undoes it',
  params: HttpParams,
  output: z.object({
    status: z.number().int(),
    /** The answer's body: parsed JSON, or the text when it is not JSON. */
    body: z.unknown(),
  }),
  compensable: true,
  describeCompensation: (params) => (params.compensate ? `${params.compensate.method} ${params.compensate.url}` : 'nothing: no compensate request configured'),
});
