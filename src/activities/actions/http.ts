import { z } from 'zod';
import { callOut, checkEgress } from '../egress';
import { defineAction } from './types';

const Method = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const Request = z
  .object({
    method: Method.default('POST'),
    url: z.string().url(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
  })
  .strict();

const Params = Request.extend({
  /** The request that undoes this one (e.g. re-enable what was disabled); absent = not undoable. */
  compensate: Request.optional(),
}).strict();

/** Calls an HTTP endpoint: a deploy, feature-flag or platform API. */
export const httpAction = defineAction({
  type: 'http',
  description: 'Call an HTTP endpoint (deploy, feature-flag or platform API); optionally a second request undoes it',
  params: Params,
  async execute(ctx, params) {
    // Refuse a step whose undo would be refused (off the egress allowlist) before doing what could not be undone.
    if (params.compensate) await checkEgress(params.compensate.url, ctx.config.AIRE_EGRESS_ALLOWLIST);
    const res = await callOut({ ...params, idempotencyKey: ctx.idempotencyKey }, ctx.config.AIRE_EGRESS_ALLOWLIST);
    return { status: res.status, body: res.body };
  },
  async compensate(ctx, params) {
    if (!params.compensate) return { compensated: false, reason: 'no compensate request configured' };
    const res = await callOut({ ...params.compensate, idempotencyKey: `${ctx.idempotencyKey}:compensate` }, ctx.config.AIRE_EGRESS_ALLOWLIST);
    return { compensated: true, status: res.status };
  },
  describeCompensation: (params) => (params.compensate ? `${params.compensate.method} ${params.compensate.url}` : 'nothing: no compensate request configured'),
});
