import { randomUUID } from 'node:crypto';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import {
  type IncidentFilter,
  type IncidentRecord,
  countRelated,
  getIncident,
  incidentDetails,
  insertIncident,
  insertSuppressedEvent,
  listIncidents,
} from '../../db/incidents';
import { hypothesize } from '../../domain/analysis';
import { classifySeverity } from '../../domain/severity';
import { withTenant } from '../../db/pool';
import { Principal } from '../../domain/access';
import { IncidentDraft } from '../../domain/incident';
import { incidentSettings } from '../../domain/incident-settings';
import { TenantSettings, activeSilence } from '../../domain/tenant-settings';
import { incidentWorkflowId } from '../../workflows/definitions';
import { incidentRunAttributes } from '../../workflows/search-attributes';
import { actorOf } from '../auth';
import type { Deps } from '../deps';
import { settingsForIntake } from './settings';
import { EventDelivery, StartRequest } from '../event-delivery';

export type Opened =
  | {
      incidentId: string;
      workflowId: string;
      /** false when the event joined an incident already open for the same dedup key. */
      created: boolean;
      /** After analysis (recurrence may raise it). */
      severity: IncidentDraft['severity'];
      silenced?: undefined;
    }
  /** A silence or maintenance window matched: the event is recorded and no incident opens. */
  | { incidentId: null; workflowId: string; created: false; silenced: { reason: string } };

export interface OpenOptions {
  /** The settings a new incident starts with, from the tenant's (detection rules route their channels this way). */
  adjustSettings?: (settings: TenantSettings) => TenantSettings;
}

/**
 * Analysis before the incident opens: recurrence (more than 3 related incidents in 24 h raises
 * severity one level) and a first root-cause hypothesis from the event's own data.
 */
async function analysed(deps: Deps, principal: Principal, draft: IncidentDraft): Promise<IncidentDraft> {
  const related = await withTenant(deps.pool, principal.tenantId, (c) => countRelated(c, draft));
  const { severity, reasons } = classifySeverity(draft.severity, { relatedIncidents24h: related });
  return {
    ...draft,
    severity,
    severityReasons: [...draft.severityReasons, ...reasons],
    rootCauseHypothesis: draft.rootCauseHypothesis ?? hypothesize(draft),
  };
}

const deliveries = new WeakMap<Deps, EventDelivery>();
function eventDelivery(deps: Deps): EventDelivery {
  let delivery = deliveries.get(deps);
  if (!delivery) {
    delivery = new EventDelivery(deps.temporal, deps.config.AIRE_TASK_QUEUE, deps.config.AIRE_WORKFLOW_ANSWER_TIMEOUT);
    deliveries.set(deps, delivery);
  }
  return delivery;
}

/** What starts the workflow of a new incident: analysis first, then its input, memo and search attributes. */
async function startRequest(deps: Deps, principal: Principal, received: IncidentDraft, eventId: string, settings: TenantSettings): Promise<StartRequest> {
  const draft = await analysed(deps, principal, received);
  const incidentId = randomUUID();
  const input = {
    tenantId: principal.tenantId,
    tenantSlug: principal.tenantSlug,
    incidentId,
    declaredBy: actorOf(principal),
    draft,
    settings: incidentSettings(settings),
    firstEventId: eventId,
  };
  const { memo, searchAttributes } = incidentRunAttributes(input);
  return {
    input,
    options: {
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      memo,
      staticSummary: `${draft.severity.toUpperCase()}: ${draft.title}`.slice(0, 200),
      staticDetails: `source ${draft.source}, dedup key ${draft.dedupKey}, incident ${incidentId}`,
      typedSearchAttributes: new TypedSearchAttributes(searchAttributes),
    },
  };
}

/**
 * Opens an incident, or joins the open one with the same dedup key (an update the running incident
 * answers, or a start; grouped with concurrent events for the same incident: src/api/event-delivery.ts). The workflow's answer is the
 * commit point: once it has the event, the event cannot be lost, and the workflow writes its own
 * record even if this process dies the next instant. An incident that is closing hands the event on
 * to a new one, whose id the answer carries.
 */
export async function openIncident(deps: Deps, principal: Principal, received: IncidentDraft, eventId: string, options: OpenOptions = {}): Promise<Opened> {
  const workflowId = incidentWorkflowId(principal.tenantSlug, received.dedupKey);
  const tenant = await settingsForIntake(deps, principal.tenantId);
  const settings = options.adjustSettings ? options.adjustSettings(tenant) : tenant;
  const silence = activeSilence(settings, received, new Date());
  if (silence) {
    const reason = `silenced: ${silence.reason} (${Object.entries(silence.matchers)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')})`;
    await withTenant(deps.pool, principal.tenantId, (c) =>
      insertSuppressedEvent(c, { tenantId: principal.tenantId, source: received.source, dedupKey: received.dedupKey, eventId, title: received.title, reason }),
    );
    return { incidentId: null, workflowId, created: false, silenced: { reason } };
  }
  const event = { eventId, at: new Date().toISOString(), summary: received.title };
  const delivered = await eventDelivery(deps).deliver(workflowId, event, () => startRequest(deps, principal, received, eventId, settings));
  const started = delivered.started?.input;
  if (started) {
    // Best effort, so the incident is readable at once; the workflow's first activity writes it too.
    await withTenant(deps.pool, principal.tenantId, (c) =>
      insertIncident(c, { id: started.incidentId, tenantId: principal.tenantId, workflowId, declaredBy: started.declaredBy, draft: started.draft }),
    ).catch(() => undefined);
  }
  const created = started !== undefined;
  const severity = started?.draft.severity ?? received.severity;
  const fields = { tenantId: principal.tenantId, incidentId: delivered.incidentId, workflowId, dedupKey: received.dedupKey, severity, created };
  // Joins are counted on the incident and written to its audit trail in batches; one log line each would flood an alert storm.
  if (created) deps.log?.info(fields, 'incident opened');
  else deps.log?.debug(fields, 'event joined incident');
  return { incidentId: delivered.incidentId, workflowId, created, severity };
}

/** The incident of this tenant, or null; row-level security makes other tenants' incidents invisible. */
export async function findIncident(deps: Deps, principal: Principal, id: string) {
  return withTenant(deps.pool, principal.tenantId, (c) => getIncident(c, id));
}

/** A page of the tenant's incidents, newest first (keyset pagination: `after` is the last one seen). */
export function incidentsPage(deps: Deps, principal: Principal, filter: IncidentFilter): Promise<IncidentRecord[]> {
  return withTenant(deps.pool, principal.tenantId, (c) => listIncidents(c, filter));
}

/** An incident's steps, approvals and action log. */
export function incidentRecords(deps: Deps, principal: Principal, id: string) {
  return withTenant(deps.pool, principal.tenantId, (c) => incidentDetails(c, id));
}
