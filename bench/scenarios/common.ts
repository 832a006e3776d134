import type { BenchTenant } from '../stack';
import type { BenchContext } from '../types';

/** Runbooks and payloads the AIRE scenarios share. Every action goes to the bench's receiver. */

/**
 * The bench runs one runbook thousands of times an hour on purpose: lift the brake on runaway
 * remediation (default 20 runs an hour per service), which would otherwise gate run 21 for a person.
 */
const LIMITS = { maxRuns: { count: 10_000, window: '1h' } };

/** Three automated steps (notify, http, http): each reaches `<receiver>/<prefix>/<benchId>/<n>`. */
export function threeStepRunbook(receiver: string, prefix: string): unknown {
  const url = (n: number): string => `${receiver}/${prefix}/{{incident.context.benchId}}/${n}`;
  return {
    id: 'bench-three-steps',
    name: 'Bench: three automated steps',
    triggers: { sources: ['upewe'] },
    limits: LIMITS,
    steps: [
      { id: 'notify', name: 'Tell the channel', action: 'notify', params: { channel: 'webhook', url: url(1), message: 'bench {{incident.title}}' } },
      { id: 'call', name: 'Call the platform', action: 'http', params: { method: 'POST', url: url(2), body: { incident: '{{incident.id}}' } } },
      { id: 'finish', name: 'Call it again', action: 'http', params: { method: 'POST', url: url(3), body: { incident: '{{incident.id}}' } } },
    ],
    completion: { autoResolve: false },
  };
}

/** An automated notify, then an http step that waits for an approval. */
export function gatedStepRunbook(receiver: string, prefix: string): unknown {
  const url = (n: number): string => `${receiver}/${prefix}/{{incident.context.benchId}}/${n}`;
  return {
    id: 'bench-gated-step',
    name: 'Bench: notify, then a gated step',
    triggers: { sources: ['upewe'] },
    limits: LIMITS,
    steps: [
      { id: 'notify', name: 'Tell the channel', action: 'notify', params: { channel: 'webhook', url: url(0), message: 'bench {{incident.title}}' } },
      {
        id: 'act',
        name: 'Act after approval',
        action: 'http',
        requiresApproval: true,
        params: { method: 'POST', url: url(1), body: { incident: '{{incident.id}}' } },
      },
    ],
  };
}

/** The whole runbook waits for an approval, then one http step. */
export function gatedRunbook(receiver: string, prefix: string): unknown {
  return {
    id: 'bench-gated-runbook',
    name: 'Bench: approval first, then one step',
    triggers: { sources: ['upewe'] },
    requiresApproval: true,
    limits: LIMITS,
    steps: [
      {
        id: 'act',
        name: 'Act after approval',
        action: 'http',
        params: { method: 'POST', url: `${receiver}/${prefix}/{{incident.context.benchId}}/1`, body: { incident: '{{incident.id}}' } },
      },
    ],
  };
}

/** A UPEWE forecast of medium severity (confidence 50) carrying its bench id into the incident context. */
export function forecast(benchId: string): Record<string, unknown> {
  return {
    id: benchId,
    riskType: 'bench load',
    confidence: 50,
    recommendedAction: 'run the bench runbook',
    rawFeatures: { benchId, service: 'bench' },
  };
}

const tenants = new Map<string, Promise<BenchTenant>>();

/** One tenant per name for the whole run, with its runbooks. */
export function benchTenant(ctx: BenchContext, slug: string, runbooks: unknown[]): Promise<BenchTenant> {
  let t = tenants.get(slug);
  if (!t) {
    t = ctx.stack.tenant(slug, runbooks);
    tenants.set(slug, t);
  }
  return t;
}

export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
