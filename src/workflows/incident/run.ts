/**
 * One run of an incident's workflow: the state it keeps, what people asked of it, and the small
 * operations every part of the workflow shares. Built from the input (or from what the previous run
 * carried over) before any message handler is set, so a buffered message always finds it whole.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { ActionKind } from '../../domain/action-kinds';
import type { IncidentStatus } from '../../domain/incident';
import type { IncidentSettings } from '../../domain/incident-settings';
import { illegalTransition } from '../../domain/lifecycle';
import { responseSlaMs } from '../../domain/routing';
import type { Runbook, RunbookStep } from '../../domain/runbook';
import type { RunRunbookMessage } from '../../domain/command';
import type { Decision, EventJoin, ManualCompletion, Note, StepDecision } from '../../domain/signals';
import type { IncidentWorkflowInput } from '../../domain/workflow-input';
import type { IncidentState, StepState } from '../definitions';
import { AireStatus } from '../search-attributes';
import { Notifier } from './notifier';
import { BATCHED_STORE_PATCH, POSTMORTEM_REVIEW_PATCH } from './options';
import { type PostmortemReviewInput, needsPostmortemReview, postmortemReviewWorkflowId } from '../../domain/postmortem-review';
import { postmortemReviewWorkflow } from '../postmortem-review';
import { type Extra, Recorder } from './recorder';

export interface Completed {
  step: RunbookStep;
  index: number;
  params: unknown;
  output: unknown;
  compensated: boolean;
}

export interface Requested {
  rollback?: Note;
  resolve?: Note;
  close?: Note;
}

/**
 * What a run hands to the next when history grows long (continue-as-new). Only taken in the settled
 * phase, after remediation, where long-lived incidents collect joined events.
 */
export interface CarriedState {
  state: IncidentState;
  seq: number;
  completed: Completed[];
  outputs: Record<string, { output: unknown }>;
  seenEvents: string[];
  requested: Requested;
  rolledBack: boolean;
  notificationSeq: number;
  runbook: Runbook | null;
  autoCloseAt?: number;
  /** When the acknowledgement SLA runs out (ms since epoch), and whether it already has. */
  sla: { deadline: number; breached: boolean };
}

/** The next incident for this dedup key, which this one becomes as it ends (events that came while it closed). */
export interface Successor {
  input: IncidentWorkflowInput;
  events: EventJoin[];
  more: number;
}

export class IncidentRun {
  readonly tenantId: string;
  readonly incidentId: string;
  readonly settings: IncidentSettings;
  readonly state: IncidentState;
  readonly requested: Requested;
  readonly completed: Completed[];
  readonly outputs: Record<string, { output: unknown }>;
  readonly seenEvents: Set<string>;
  readonly sla: { deadline: number; breached: boolean };
  readonly recorder: Recorder;
  readonly notifier: Notifier;
  /** Incidents since BATCHED_STORE_PATCH: the opening as one local activity, transitions written in batches. */
  readonly batchedWrites: boolean;
  rolledBack: boolean;
  runbookInForce: Runbook | undefined;
  /** Set when an alert resolved the incident: it closes at this time unless the alert fires again. */
  autoCloseAt: number | undefined;
  /** Messages that arrived and wait for the part of the workflow that acts on them. */
  decision: { kind: 'approve' | 'reject'; by: Decision } | undefined;
  manualReport: ManualCompletion | undefined;
  stepDecision: StepDecision | undefined;
  successor: Successor | undefined;
  /** Another runbook people asked to run on the incident; it starts where the incident settles. */
  queuedRunbook: RunRunbookMessage | undefined;
  /** Past the incident's own runbook: the settle loop runs, and another runbook may be asked for. */
  settled = false;
  /** Prefix of the step ids of the runbook running now (`r2-` for the second one run on the incident). */
  stepPrefix = '';
  /** Where the running runbook's steps start among the incident's (0 for its own runbook). */
  stepOffset = 0;

  constructor(
    readonly input: IncidentWorkflowInput,
    readonly carried: CarriedState | undefined,
  ) {
    const { draft } = input;
    this.tenantId = input.tenantId;
    this.incidentId = input.incidentId;
    this.settings = input.settings;
    this.batchedWrites = wf.patched(BATCHED_STORE_PATCH);
    this.state = carried?.state ?? {
      incidentId: input.incidentId,
      status: 'open',
      severity: draft.severity,
      runbook: null,
      currentStep: null,
      pendingApproval: null,
      pendingManual: null,
      pendingDecision: null,
      steps: [],
      occurrences: 1,
      acknowledged: false,
      timeline: [],
    };
    this.requested = carried?.requested ?? {};
    this.rolledBack = carried?.rolledBack ?? false;
    this.completed = carried?.completed ?? [];
    this.outputs = carried?.outputs ?? {};
    this.seenEvents = new Set(carried?.seenEvents ?? [input.firstEventId]);
    this.runbookInForce = carried?.runbook ?? undefined;
    this.autoCloseAt = carried?.autoCloseAt;
    this.sla = carried?.sla ?? { deadline: Date.now() + responseSlaMs(input.settings, draft.severity), breached: false };
    const ids = { tenantId: this.tenantId, incidentId: this.incidentId };
    this.recorder = new Recorder(ids, this.state, this.batchedWrites, () => this.requested.close !== undefined, carried?.seq ?? 0);
    this.notifier = new Notifier(ids, draft, this.settings, this.state, this.recorder, carried?.notificationSeq ?? 0);
  }

  get draft(): IncidentWorkflowInput['draft'] {
    return this.input.draft;
  }

  record(kind: ActionKind, actor: string, extra: Extra = {}): void {
    this.recorder.record(kind, actor, extra);
  }

  /** A person (or the alert) asked to stop remediating: roll back, resolve or close. */
  interrupted(): boolean {
    return this.requested.rollback !== undefined || this.requested.resolve !== undefined || this.requested.close !== undefined;
  }

  closing(): boolean {
    return this.requested.close !== undefined;
  }

  stepState(id: string): StepState | undefined {
    return this.state.steps.find((s) => s.id === id);
  }

  /** The one way status changes: along the lifecycle's transition table (src/domain/lifecycle.ts), or not at all. */
  setStatus(status: IncidentStatus, kind: ActionKind, actor: string, extra: Extra = {}): void {
    const from = this.state.status;
    const illegal = illegalTransition(from, status);
    // A bug, not a condition to handle: the workflow task fails with the reason and retries once fixed.
    if (illegal) throw new Error(`${illegal} (${kind} by ${actor})`);
    this.state.status = status;
    if (status === 'resolved') {
      this.notifier.notify('incident.resolved', `Resolved: ${this.draft.title}`);
      if (needsPostmortemReview(this.state.severity) && wf.patched(POSTMORTEM_REVIEW_PATCH)) this.starts.push(this.schedulePostmortemReview());
    }
    wf.upsertSearchAttributes([{ key: AireStatus, value: status }]);
    this.record(kind, actor, { ...extra, incident: { ...extra.incident, status }, detail: { from, to: status, ...extra.detail } });
  }

  /**
   * Step outputs as the running runbook's templates name them (`steps.<its own step id>.output`):
   * a later runbook's step ids carry its prefix in the incident, not in its templates.
   */
  stepOutputs(): Record<string, { output: unknown }> {
    const prefix = this.stepPrefix;
    if (prefix === '') return this.outputs;
    return Object.fromEntries(Object.entries(this.outputs).flatMap(([id, o]) => (id.startsWith(prefix) ? [[id.slice(prefix.length), o]] : [])));
  }

  /** Child workflows being started; the run ends only once each start is settled. */
  readonly starts: Promise<void>[] = [];

  /**
   * A critical or high incident's post-mortem gets a review date (src/workflows/postmortem-review.ts),
   * as a child that outlives the incident. Resolved again after a rollback, the first date stands.
   */
  private async schedulePostmortemReview(): Promise<void> {
    const { draft, state } = this;
    const input: PostmortemReviewInput = {
      tenantId: this.tenantId,
      incidentId: this.incidentId,
      resolvedAt: new Date().toISOString(),
      incident: {
        title: state.edited?.title ?? draft.title,
        severity: state.severity,
        source: draft.source,
        ...(draft.category ? { category: draft.category } : {}),
      },
    };
    try {
      await wf.startChild(postmortemReviewWorkflow, {
        workflowId: postmortemReviewWorkflowId(this.tenantId, this.incidentId),
        parentClosePolicy: wf.ParentClosePolicy.ABANDON,
        args: [input],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /** What the next run starts from when this one continues as new. */
  carry(): CarriedState {
    return {
      state: this.state,
      seq: this.recorder.seq,
      completed: this.completed,
      outputs: this.outputs,
      seenEvents: [...this.seenEvents],
      requested: this.requested,
      rolledBack: this.rolledBack,
      notificationSeq: this.notifier.seq,
      runbook: this.runbookInForce ?? null,
      autoCloseAt: this.autoCloseAt,
      sla: this.sla,
    };
  }
}
