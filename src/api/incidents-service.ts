import { randomUUID } from 'node:crypto';
import { Client, WorkflowIdReusePolicy } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Config } from '../config';
import { getIncident, insertIncident } from '../db/incidents';
import { Pool, withTenant } from '../db/pool';
import { Principal } from '../db/tenants';
import { IncidentDraft } from '../domain/incident';
import { ApprovalPolicySchema } from '../domain/policy';
import { IncidentWorkflowInput } from '../domain/workflow-input';
import { addEventSignal, incidentWorkflowId } from '../workflows/definitions';
import { incidentWorkflow } from '../workflows/incident';
import { AireSeverity, AireSource, AireStatus, AireTenant } from '../workflows/search-attributes';
import { actorOf } from './auth';

export interface Deps {
  pool: Pool;
  temporal: Client;
  config: Config;
}

export interface Opened {
  incidentId: string;
  workflowId: string;
  /** false when the event joined an incident already open for the same dedup key. */
  created: boolean;
}

/** The tenant's approval policy, with defaults for what it does not set. */
export async function tenantPolicy(pool: Pool, tenantId: string): Promise<IncidentWorkflowInput['policy']> {
  const { rows } = await withTenant(pool, tenantId, (c) => c.query<{ approval_policy: unknown }>('SELECT approval_policy FROM tenants'));
  return ApprovalPolicySchema.parse(rows[0]?.approval_policy ?? {});
}

/**
 * Opens an incident, or joins the open one with the same dedup key (signal-with-start). The
 * workflow start is the commit point: once Temporal has it, the incident cannot be lost, and the
 * workflow writes its own record even if this process dies the next instant.
 */
export async function openIncident(deps: Deps, principal: Principal, draft: IncidentDraft, eventId: string): Promise<Opened> {
  const incidentId = randomUUID();
  const workflowId = incidentWorkflowId(principal.tenantSlug, draft.dedupKey);
  const input: IncidentWorkflowInput = {
    tenantId: principal.tenantId,
    tenantSlug: principal.tenantSlug,
    incidentId,
    declaredBy: actorOf(principal),
    draft,
    policy: await tenantPolicy(deps.pool, principal.tenantId),
    firstEventId: eventId,
  };
  const handle = await deps.temporal.workflow.signalWithStart(incidentWorkflow, {
    workflowId,
    taskQueue: deps.config.AIRE_TASK_QUEUE,
    args: [input],
    signal: addEventSignal,
    signalArgs: [{ eventId, at: new Date().toISOString(), summary: draft.title }],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    memo: { incidentId, title: draft.title },
    staticSummary: `${draft.severity.toUpperCase()}: ${draft.title}`.slice(0, 200),
    staticDetails: `source ${draft.source}, dedup key ${draft.dedupKey}, incident ${incidentId}`,
    typedSearchAttributes: new TypedSearchAttributes([
      { key: AireTenant, value: principal.tenantSlug },
      { key: AireSeverity, value: draft.severity },
      { key: AireStatus, value: 'open' },
      { key: AireSource, value: draft.source },
    ]),
  });
  const description = await handle.describe();
  const runningIncident = (description.memo as { incidentId?: string } | undefined)?.incidentId ?? incidentId;
  const created = runningIncident === incidentId;
  if (created) {
    // Best effort, so the incident is readable at once; the workflow's first activity writes it too.
    await withTenant(deps.pool, principal.tenantId, (c) =>
      insertIncident(c, { id: incidentId, tenantId: principal.tenantId, workflowId, declaredBy: input.declaredBy, draft }),
    ).catch(() => undefined);
  }
  return { incidentId: runningIncident, workflowId, created };
}

/** The incident of this tenant, or null; row-level security makes other tenants' incidents invisible. */
export async function findIncident(deps: Deps, principal: Principal, id: string) {
  return withTenant(deps.pool, principal.tenantId, (c) => getIncident(c, id));
}
