import { httpSpec } from '../../domain/actions/http';
import { callOut, checkEgress } from '../egress';
import { defineExecutor } from './types';

/** `http` (src/domain/actions/http.ts): calls an HTTP endpoint, a deploy, feature-flag or platform API. */
export const httpExecutor = defineExecutor(httpSpec, {
  async execute(ctx, params) {
    // Refuse a step whose undo would be refused (off the egress allowlist) before doing what could not be undone.
    if (params.compensate) await checkEgress(params.compensate.url, ctx.egress.allowlist);
    const res = await callOut({ ...params, idempotencyKey: ctx.idempotencyKey }, ctx.egress.allowlist);
    return { status: res.status, body: res.body };
  },
  async compensate(ctx, params) {
    if (!params.compensate) return { compensated: false, reason: 'no compensate request configured' };
    const res = await callOut({ ...params.compensate, idempotencyKey: `${ctx.idempotencyKey}:compensate` }, ctx.egress.allowlist);
    return { compensated: true, status: res.status };
  },
});
