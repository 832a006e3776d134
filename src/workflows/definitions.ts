import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EditMessage, EditableFields, IncidentRoles, PostedStatusUpdate, RoleMessage, RunRunbookMessage, StatusUpdateMessage } from '../domain/command';
import type { IncidentStatus } from '../domain/incident';
import type { Severity } from '../domain/severity';
import type { Decision, EventJoin, ManualCompletion, Note, StepDecision } from '../domain/signals';
import type { EventDelivery, EventsDelivered } from '../domain/workflow-input';

/**
 * The incident workflow's messages, defined once and shared by the workflow and every client
 * (API, CLI, tests), as in Temporal's own samples.
 */
/**
 * Decisions are Workflow Updates: the workflow's validator refuses, from its own state, what cannot
 * apply (nothing waiting, four-eyes, an approver counted already, an incident that has ended or is
 * closed), and the caller gets the workflow's answer. Each is also a signal of the same name (for
 * `temporal workflow signal`, and histories from before the updates), handled by the same code; a
 * refused decision signal is recorded in the audit trail, since nobody waits for its answer.
 */
export const approveUpdate = defineUpdate<MessageAnswer, [Decision]>('approve');
export const rejectUpdate = defineUpdate<MessageAnswer, [Decision]>('reject');
export const rollbackUpdate = defineUpdate<MessageAnswer, [Note]>('rollback');
export const completeManualStepUpdate = defineUpdate<MessageAnswer, [ManualCompletion]>('completeManualStep');
export const decideStepUpdate = defineUpdate<MessageAnswer, [StepDecision]>('decideStep');
export const acknowledgeUpdate = defineUpdate<MessageAnswer, [Note]>('acknowledge');
export const resolveUpdate = defineUpdate<MessageAnswer, [Note]>('resolve');
export const closeUpdate = defineUpdate<MessageAnswer, [Note]>('close');
/** Incident command (src/workflows/incident/command.ts): Updates only, each recorded with old → new. */
export const editUpdate = defineUpdate<MessageAnswer, [EditMessage]>('edit');
export const assignRoleUpdate = defineUpdate<MessageAnswer, [RoleMessage]>('assignRole');
export const postStatusUpdate = defineUpdate<MessageAnswer, [StatusUpdateMessage]>('postStatusUpdate');
export const runRunbookUpdate = defineUpdate<MessageAnswer, [RunRunbookMessage]>('runRunbook');

/** What applying a decision did. */
export const MESSAGE_OUTCOMES = [
  'approved',
  'approval-recorded',
  'rejected',
  'rollback-requested',
  'step-reported',
  'step-decided',
  'acknowledged',
  'already-acknowledged',
  'resolve-requested',
  'close-requested',
  'edited',
  'unchanged',
  'role-assigned',
  'role-unassigned',
  'status-update-posted',
  'runbook-queued',
] as const;
export type MessageOutcome = (typeof MESSAGE_OUTCOMES)[number];
/** An update's answer: what it did, and the incident's live state right after. */
export interface MessageAnswer {
  incidentId: string;
  outcome: MessageOutcome;
  state: IncidentState;
}

/** Failure types of a refused update: the API answers 409 and 403 with the workflow's reason. */
export const REFUSED_CONFLICT = 'Conflict';
export const REFUSED_FORBIDDEN = 'Forbidden';
export type RefusalType = typeof REFUSED_CONFLICT | typeof REFUSED_FORBIDDEN;

export const approveSignal = defineSignal<[Decision]>('approve');
export const rejectSignal = defineSignal<[Decision]>('reject');
export const acknowledgeSignal = defineSignal<[Note]>('acknowledge');
export const rollbackSignal = defineSignal<[Note]>('rollback');
export const resolveSignal = defineSignal<[Note]>('resolve');
export const closeSignal = defineSignal<[Note]>('close');
/**
 * How the intake delivers events to a running incident: the workflow answers which incident took them,
 * so `joined` is said only when that incident will process them. A closing incident refuses events
 * that come without a `next` incident (failure type INCIDENT_CLOSING) and hands those that do on to
 * it. Several events go at once: the API sends what arrived while its previous delivery was in flight.
 */
export const deliverEventsUpdate = defineUpdate<EventsDelivered, [EventDelivery]>('deliverEvents');
export const INCIDENT_CLOSING = 'IncidentClosing';
/** Fire-and-forget joins, for an engineer with `temporal workflow signal` (and histories from before deliverEvents). */
export const addEventSignal = defineSignal<[EventJoin]>('addEvent');
export const addEventsSignal = defineSignal<[EventJoin[]]>('addEvents');
export const completeManualStepSignal = defineSignal<[ManualCompletion]>('completeManualStep');
export const decideStepSignal = defineSignal<[StepDecision]>('decideStep');
/** The alert behind the incident resolved (Alertmanager sent `resolved`). */
export const alertResolvedSignal = defineSignal<[EventJoin]>('alertResolved');
export const stateQuery = defineQuery<IncidentState>('state');

export const INCIDENT_WORKFLOW_TYPE = 'incidentWorkflow';

export type StepStatus =
  'pending' | 'awaiting_approval' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'compensating' | 'compensated' | 'compensation_failed';

export interface StepState {
  id: string;
  name: string;
  action: string;
  status: StepStatus;
  output?: unknown;
  error?: string;
}

export interface PendingApproval {
  /** null for the gate before the whole runbook. */
  stepId: string | null;
  reasons: string[];
  since: string;
  /** Who has approved so far, and how many distinct approvers the gate needs. */
  approvals: string[];
  required: number;
}

export interface TimelineEntry {
  at: string;
  kind: string;
  actor: string;
  stepId?: string;
  detail?: Record<string, unknown>;
}

/** What the `state` query answers: the live picture of one incident. */
export interface IncidentState {
  incidentId: string;
  status: IncidentStatus;
  severity: Severity;
  runbook: { id: string; version: number } | null;
  currentStep: string | null;
  pendingApproval: PendingApproval | null;
  /** A `manual` step a person is doing now. */
  pendingManual: { stepId: string; since: string } | null;
  /** A failed step with `onFailure: escalate`, waiting for retry, skip or abort. */
  pendingDecision: { stepId: string; error: string; since: string } | null;
  steps: StepState[];
  occurrences: number;
  acknowledged: boolean;
  /** The most recent transitions (bounded; the full record is the action log). */
  timeline: TimelineEntry[];
  /** When the acknowledgement SLA runs out; it follows severity edits. */
  ackBy?: string;
  /** Fields people changed since the incident opened (absent in runs from before incident command). */
  edited?: EditableFields;
  roles?: IncidentRoles;
  latestStatusUpdate?: PostedStatusUpdate;
  /** Runbooks run on the incident after its own, in order, with the prefix of their step ids. */
  moreRunbooks?: { id: string; version: number; prefix: string; by: string }[];
}

/** Readable and unique per tenant and dedup key, so the Web UI list says what each incident is. */
export function incidentWorkflowId(tenantSlug: string, dedupKey: string): string {
  return `incident/${tenantSlug}/${dedupKey}`;
}
