import * as wf from '@temporalio/workflow';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import type { NotificationActivities, RunbookChoice, StepActivity, StepCall, StoreActivities, Transition } from '../activities';
import type { IncidentStatus } from '../domain/incident';
// Only schema-free modules are imported for their values here: see src/domain/severity-scale.ts.
import { type GateDecision, approvalRefusal, gateDecision, requiredApprovals, runbookGate, stepGate } from '../domain/gates';
import { escalationSequence, responseSlaMs, routeChannels } from '../domain/routing';
import type { Runbook, RunbookStep } from '../domain/runbook';
import { type Severity, isAtLeast } from '../domain/severity-scale';
import type { Decision, EventJoin, ManualCompletion, Note, StepDecision } from '../domain/signals';
import { TemplateError, render } from '../domain/template';
import type { ChannelRoute } from '../domain/incident-settings';
import type { NotificationEvent } from '../domain/tenant-settings';
import type { EventDelivery, EventsDelivered, IncidentWorkflowInput } from '../domain/workflow-input';
import {
  INCIDENT_CLOSING,
  IncidentState,
  MessageAnswer,
  MessageOutcome,
  REFUSED_CONFLICT,
  REFUSED_FORBIDDEN,
  RefusalType,
  approveUpdate,
  completeManualStepUpdate,
  decideStepUpdate,
  rejectUpdate,
  rollbackUpdate,
  StepState,
  acknowledgeSignal,
  addEventSignal,
  addEventsSignal,
  alertResolvedSignal,
  approveSignal,
  closeSignal,
  completeManualStepSignal,
  decideStepSignal,
  deliverEventsUpdate,
  rejectSignal,
  resolveSignal,
  rollbackSignal,
  stateQuery,
} from './definitions';
import { AireRunbook, AireSeverity, AireStatus, incidentRunAttributes } from './search-attributes';

/** Store writes retry until PostgreSQL answers: an outage delays the record, it never loses it. */
const STORE_RETRY: wf.RetryPolicy = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' };

/**
 * Store writes are activities, idempotent by incident and transition number. 10 s is far above a
 * write's time and bounds how long a worker killed mid-write holds its incident before the write is
 * retried elsewhere.
 */
const store = wf.proxyActivities<StoreActivities>({ startToCloseTimeout: '10s', retry: STORE_RETRY });

/**
 * The incident's opening write (its row, then the runbook chosen) runs as a local activity: in the
 * worker that runs the first workflow task, recorded as a marker, with no activity task and no
 * extra workflow task on the way to the first step. Only that one: it depends on the input alone, so
 * if its task fails and runs again it writes the same thing. Transitions depend on the signals a
 * task has seen, and a local activity re-run in a retried task would have recorded, under the same
 * transition number, what the retried task no longer does.
 */
const openingStore = wf.proxyLocalActivities<StoreActivities>({ startToCloseTimeout: '15s', retry: STORE_RETRY });
/** Histories from before it open with two activities and write transitions one at a time. */
const BATCHED_STORE_PATCH = 'store-writes-batched';
/** How long joined events gather before they are written (see recordJoin). */
const JOIN_WRITE_DELAY = '1s';
/**
 * Joins gathering when a close is requested are written at once, before the close is recorded, so
 * the audit trail never shows a join after `incident.closed`. Histories from before it wrote them
 * after the gathering delay, whatever came in between.
 */
const JOINS_BEFORE_CLOSE_PATCH = 'joins-written-before-close';

/** Notifications retry a little and then give up: a dead channel must never hold remediation back. */
const notifier = wf.proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 },
});

const COMPENSATION_RETRY: wf.RetryPolicy = { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' };
const TIMELINE_LIMIT = 100;
const SEEN_EVENTS_LIMIT = 1_000;

export interface IncidentOutcome {
  incidentId: string;
  status: IncidentStatus;
}

interface Completed {
  step: RunbookStep;
  index: number;
  params: unknown;
  output: unknown;
  compensated: boolean;
}

/** `timed_out`: nobody answered through every escalation tier and the runbook says abort. */
type GateOutcome = 'approved' | 'rejected' | 'interrupted' | 'timed_out';

/**
 * One incident, from intake to close: record it, choose its runbook, pass the approval gates, run
 * the steps as activities, compensate in reverse when a step aborts or someone asks for a rollback,
 * and stay open for people (acknowledge, resolve, close) until it is closed.
 */
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
  requested: { rollback?: Note; resolve?: Note; close?: Note };
  rolledBack: boolean;
  notificationSeq: number;
  runbook: Runbook | null;
  autoCloseAt?: number;
  /** When the acknowledgement SLA runs out (ms since epoch), and whether it already has. */
  sla: { deadline: number; breached: boolean };
}

export async function incidentWorkflow(input: IncidentWorkflowInput, carried?: CarriedState): Promise<IncidentOutcome> {
  const { tenantId, incidentId, draft } = input;
  const now = (): string => new Date().toISOString();
  const batchedWrites = wf.patched(BATCHED_STORE_PATCH);

  const state: IncidentState = carried?.state ?? {
    incidentId,
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
  let seq = carried?.seq ?? 0;
  let writes: Promise<void> = Promise.resolve();
  let decision: { kind: 'approve' | 'reject'; by: Decision } | undefined;
  let manualReport: ManualCompletion | undefined;
  let stepDecision: StepDecision | undefined;
  const requested: { rollback?: Note; resolve?: Note; close?: Note } = carried?.requested ?? {};
  let rolledBack = carried?.rolledBack ?? false;
  const completed: Completed[] = carried?.completed ?? [];
  const outputs: Record<string, { output: unknown }> = carried?.outputs ?? {};
  const seenEvents = new Set<string>(carried?.seenEvents ?? [input.firstEventId]);
  const deliveries: Promise<unknown>[] = [];
  let notificationSeq = carried?.notificationSeq ?? 0;
  const settings = input.settings;
  let runbookInForce: Runbook | undefined = carried?.runbook ?? undefined;
  /** Set when an alert resolved the incident: it closes at this time unless the alert fires again. */
  let autoCloseAt: number | undefined = carried?.autoCloseAt;
  const sla = carried?.sla ?? { deadline: Date.now() + responseSlaMs(input.settings, draft.severity), breached: false };

  // ---- recording: every transition goes to PostgreSQL in order, through one chain of activities ----

  type Extra = Omit<Transition, 'tenantId' | 'incidentId' | 'seq' | 'at' | 'kind' | 'actor'>;

  /** Numbers a transition, adds it to the live timeline, and returns what the store writes. */
  function transition(kind: string, actor: string, extra: Extra): Transition {
    const at = now();
    state.timeline.push({ at, kind, actor, stepId: extra.stepId, detail: extra.detail });
    if (state.timeline.length > TIMELINE_LIMIT) state.timeline.shift();
    return { tenantId, incidentId, seq: ++seq, at, kind, actor, ...extra };
  }

  /**
   * Transitions recorded while a write is queued go with it, in order, as one write: an incident
   * costs a few store calls, not one per transition. (Older histories wrote one at a time.)
   */
  const queued: Transition[] = [];
  function record(kind: string, actor: string, extra: Extra = {}): void {
    const t = transition(kind, actor, extra);
    if (!batchedWrites) {
      writes = writes.then(() => store.recordTransition(t));
      return;
    }
    enqueue([t]);
  }

  /** `first`: transitions numbered before everything queued (a failed step's, see `attempt`). */
  function enqueue(transitions: Transition[], first = false): void {
    if (transitions.length === 0) return;
    const writeQueued = queued.length > 0;
    if (first) queued.unshift(...transitions);
    else queued.push(...transitions);
    if (writeQueued) return;
    // Empty when a step took them along (see `attempt`).
    writes = writes.then(() => (queued.length > 0 ? store.recordTransitions(queued.splice(0)) : undefined));
  }

  /**
   * Duplicate events are written in batches: while one write is queued, later joins wait and go in
   * the next one. Incidents since BATCHED_STORE_PATCH also let joins gather for JOIN_WRITE_DELAY on
   * a chain of their own (counts are totals, so their order against other writes does not matter):
   * an alert storm costs one store write a second, not one per signal, and nothing else waits.
   */
  const pendingJoins: EventJoin[] = [];
  let joinWrites: Promise<void> = Promise.resolve();
  function recordJoin(event: EventJoin): void {
    pendingJoins.push(event);
    if (pendingJoins.length > 1) return;
    const write = async (): Promise<void> => {
      if (batchedWrites && wf.patched(JOINS_BEFORE_CLOSE_PATCH)) await wf.condition(() => requested.close !== undefined, JOIN_WRITE_DELAY);
      else if (batchedWrites) await wf.sleep(JOIN_WRITE_DELAY);
      const batch = pendingJoins.splice(0);
      const lastSeenAt = batch.map((e) => e.at).sort()[batch.length - 1];
      return store.recordTransition(
        transition('event.joined', 'aire', {
          // The total, not only the batch: absolute values make a repeated write harmless (see writeTransition).
          incident: { occurrences: { count: batch.length, total: state.occurrences, lastSeenAt } },
          detail: { count: batch.length, eventIds: batch.slice(0, 10).map((e) => e.eventId), summary: batch[0].summary },
        }),
      );
    };
    if (batchedWrites) joinWrites = joinWrites.then(write);
    else writes = writes.then(write);
  }

  /** Waits until everything recorded so far is written, so the audit trail keeps causal order. */
  const flush = (): Promise<void> => writes;

  /** Per channel, the last delivery: a channel gets its notifications in order (PagerDuty trigger before resolve). */
  const channelQueues = new Map<string, Promise<unknown>>();

  /** Sends `message` to the channels that want `event` (or to `channels`), without waiting. */
  function notify(event: NotificationEvent, message: string, channels: ChannelRoute[] = routeChannels(settings, event, { severity: state.severity, category: draft.category })): void {
    for (const channel of channels) {
      const key = `${++notificationSeq}:${channel.name}`;
      const call = { tenantId, incidentId, event, key, channel: { name: channel.name }, incident: { id: incidentId, title: draft.title, severity: state.severity, source: draft.source }, message };
      const delivery = (channelQueues.get(channel.name) ?? Promise.resolve())
        .then(() => notifier.deliverNotification(call))
        .catch((err: unknown) => record('notification.failed', 'aire', { detail: { event, channel: channel.name, error: wf.rootCause(err) ?? String(err) } }));
      channelQueues.set(channel.name, delivery);
      deliveries.push(delivery);
    }
  }

  /**
   * Walks the tenant's escalation tiers until `done()`: each tier fires when the previous one (or the
   * breach) went unanswered for its `after`. Returns whether it was answered in the end.
   */
  async function escalate(reason: string, done: () => boolean): Promise<boolean> {
    const tiers = escalationSequence(settings);
    for (const [n, tier] of tiers.entries()) {
      if (await wf.condition(done, tier.after)) return true;
      record('escalation', 'aire', { detail: { reason, tier: n + 1, channels: tier.channels.map((c) => c.name) } });
      notify('escalation', `Escalation, tier ${n + 1}: ${reason} — ${draft.title}`, tier.channels);
    }
    const last = tiers[tiers.length - 1];
    return last ? wf.condition(done, last.after) : done();
  }

  /** The acknowledgement SLA: not acknowledged in time → record the breach and escalate. */
  async function watchAcknowledgement(): Promise<void> {
    const done = (): boolean => state.acknowledged || requested.close !== undefined || state.status === 'resolved';
    // After a continue-as-new the breach was already recorded (and escalated) by the run before.
    if (sla.breached) return;
    if (await wf.condition(done, Math.max(1, sla.deadline - Date.now()))) return;
    sla.breached = true;
    const within = responseSlaMs(settings, draft.severity);
    record('sla.breached', 'aire', { detail: { sla: 'acknowledge', withinMs: within, severity: state.severity } });
    notify('sla.breached', `Not acknowledged within ${Math.round(within / 1000)} s: ${draft.title}`);
    await escalate('the incident is not acknowledged', done);
  }

  function setStatus(status: IncidentStatus, kind: string, actor: string, extra: Parameters<typeof record>[2] = {}): void {
    const from = state.status;
    state.status = status;
    if (status === 'resolved') notify('incident.resolved', `Resolved: ${draft.title}`);
    wf.upsertSearchAttributes([{ key: AireStatus, value: status }]);
    record(kind, actor, { ...extra, incident: { ...extra.incident, status }, detail: { from, to: status, ...extra.detail } });
  }

  const stepState = (id: string): StepState | undefined => state.steps.find((s) => s.id === id);
  const stepRow = (step: RunbookStep, index: number) => ({ stepId: step.id, position: index, name: step.name, action: step.action });
  const interrupted = (): boolean => requested.rollback !== undefined || requested.resolve !== undefined || requested.close !== undefined;

  // Announced before any message is handled, so channels hear of the incident before what follows.
  if (!carried) notify('incident.opened', `${draft.severity.toUpperCase()} incident opened: ${draft.title}`);

  // ---- messages ----

  /** Wraps a handler so messages meant for an earlier incident with the same workflow id are dropped. */
  function forThisIncident<T extends { incidentId?: string }>(handler: (message: T) => void): (message: T) => void {
    return (message) => {
      if (message.incidentId === undefined || message.incidentId === incidentId) handler(message);
    };
  }

  /**
   * Why a message cannot apply now, from the workflow's own state. One implementation for both
   * ways in: an update's validator answers it to the caller (409 or 403); a signal, which cannot be
   * answered, records it in the audit trail under `audit`.
   */
  interface Refusal {
    refusal: RefusalType;
    why: string;
    audit: { kind: string; extra: Extra };
  }

  /** A message for an earlier incident under this workflow id (a signal for one is dropped unrecorded, as before). */
  function ended(message: { incidentId?: string }): Pick<Refusal, 'refusal' | 'why'> | undefined {
    if (message.incidentId === undefined || message.incidentId === incidentId) return undefined;
    return { refusal: REFUSED_CONFLICT, why: `incident ${message.incidentId} has ended; its workflow id now runs incident ${incidentId}` };
  }

  const gateName = (stepId: string | null): string => (stepId ? `step "${stepId}"` : 'the runbook gate');

  function decisionRefusal(kind: 'approve' | 'reject', by: Decision): Refusal | undefined {
    const pending = state.pendingApproval;
    if (!pending || decision || (by.stepId !== undefined && by.stepId !== pending.stepId)) {
      const why = !pending ? 'nothing is waiting for approval' : decision ? `${gateName(pending.stepId)} is already decided` : `the pending gate is ${gateName(pending.stepId)}`;
      return { refusal: REFUSED_CONFLICT, why, audit: { kind: 'approval.ignored', extra: { stepId: by.stepId, detail: { decision: kind, reason: by.reason, why } } } };
    }
    if (kind === 'reject') return undefined;
    const gate = pending.stepId ?? undefined;
    const fourEyes = approvalRefusal(state.severity, input.declaredBy, by.actor);
    if (fourEyes) return { refusal: REFUSED_FORBIDDEN, why: fourEyes, audit: { kind: 'approval.refused', extra: { stepId: gate, detail: { why: fourEyes } } } };
    if (pending.approvals.includes(by.actor)) {
      const why = `${by.actor} has already approved ${gateName(pending.stepId)}: an approver counts once`;
      return { refusal: REFUSED_CONFLICT, why, audit: { kind: 'approval.duplicate', extra: { stepId: gate, detail: { why: 'an approver counts once' } } } };
    }
    return undefined;
  }

  /** Applies a decision that `decisionRefusal` let through. */
  function applyDecision(kind: 'approve' | 'reject', by: Decision): MessageOutcome {
    const pending = state.pendingApproval;
    if (!pending) throw refusalFailure({ refusal: REFUSED_CONFLICT, why: 'nothing is waiting for approval' });
    if (kind === 'reject') {
      decision = { kind, by };
      return 'rejected';
    }
    pending.approvals.push(by.actor);
    if (pending.approvals.length >= pending.required) {
      decision = { kind, by };
      return 'approved';
    }
    record('approval.recorded', by.actor, {
      stepId: pending.stepId ?? undefined,
      approval: { stepId: pending.stepId, decision: 'approve', approver: by.actor, reason: by.reason },
      detail: { approvals: pending.approvals.length, required: pending.required, reason: by.reason },
    });
    return 'approval-recorded';
  }

  function rollbackRefusal(note: Note): Refusal | undefined {
    // The row may still say otherwise: the API read it before the close was written.
    const why =
      state.status === 'closed' ? 'the incident is closed' : rolledBack ? 'the incident was already rolled back' : requested.rollback ? 'a rollback was already requested' : undefined;
    return why ? { refusal: REFUSED_CONFLICT, why, audit: { kind: 'rollback.ignored', extra: { detail: { reason: note.reason, why } } } } : undefined;
  }

  function applyRollback(note: Note): MessageOutcome {
    requested.rollback = note;
    record('rollback.requested', note.actor, { detail: { reason: note.reason } });
    return 'rollback-requested';
  }

  function manualRefusal(report: ManualCompletion): Refusal | undefined {
    if (state.pendingManual?.stepId === report.stepId && !manualReport) return undefined;
    const why = `step "${report.stepId}" is not waiting for a person`;
    return { refusal: REFUSED_CONFLICT, why, audit: { kind: 'manual.ignored', extra: { stepId: report.stepId, detail: { why } } } };
  }

  function stepDecisionRefusal(d: StepDecision): Refusal | undefined {
    if (state.pendingDecision?.stepId === d.stepId && !stepDecision) return undefined;
    const why = `step "${d.stepId}" is not waiting for a decision`;
    return { refusal: REFUSED_CONFLICT, why, audit: { kind: 'decision.ignored', extra: { stepId: d.stepId, detail: { decision: d.decision, why } } } };
  }

  /**
   * Registers one message both ways: as an update that answers its caller (refused by the
   * validator, from this state, before anything is applied), and, where `signal` is given, as a
   * signal handled by the same code, whose refusal goes to the audit trail instead.
   */
  function handle<T extends { actor: string; incidentId?: string }>(
    update: UpdateDefinition<MessageAnswer, [T]>,
    signal: SignalDefinition<[T]>,
    refuse: (message: T) => Refusal | undefined,
    apply: (message: T) => MessageOutcome,
  ): void {
    wf.setHandler(update, (message) => ({ incidentId, outcome: apply(message), state }), {
      validator: (message) => {
        const refusal = ended(message) ?? refuse(message);
        if (refusal) throw refusalFailure(refusal);
      },
    });
    wf.setHandler(
      signal,
      forThisIncident((message: T) => {
        const refusal = refuse(message);
        if (refusal) record(refusal.audit.kind, message.actor, refusal.audit.extra);
        else apply(message);
      }),
    );
  }

  handle(approveUpdate, approveSignal, (by) => decisionRefusal('approve', by), (by) => applyDecision('approve', by));
  handle(rejectUpdate, rejectSignal, (by) => decisionRefusal('reject', by), (by) => applyDecision('reject', by));
  handle(rollbackUpdate, rollbackSignal, rollbackRefusal, applyRollback);
  handle(completeManualStepUpdate, completeManualStepSignal, manualRefusal, (report) => {
    manualReport = report;
    return 'step-reported';
  });
  handle(decideStepUpdate, decideStepSignal, stepDecisionRefusal, (d) => {
    stepDecision = d;
    return 'step-decided';
  });

  wf.setHandler(
    acknowledgeSignal,
    forThisIncident((note) => {
      if (state.acknowledged) return;
      state.acknowledged = true;
      const extra = { incident: { stamp: 'acknowledged' as const }, detail: { reason: note.reason } };
      if (state.status === 'open') setStatus('acknowledged', 'incident.acknowledged', note.actor, extra);
      else record('incident.acknowledged', note.actor, extra);
      notify('incident.acknowledged', `Acknowledged by ${note.actor}: ${draft.title}`);
    }),
  );

  wf.setHandler(
    resolveSignal,
    forThisIncident((note) => {
      requested.resolve ??= note;
    }),
  );

  wf.setHandler(
    closeSignal,
    forThisIncident((note) => {
      requested.close ??= note;
    }),
  );

  function onEvent(event: EventJoin): void {
    if (seenEvents.has(event.eventId)) return;
    seenEvents.add(event.eventId);
    if (seenEvents.size > SEEN_EVENTS_LIMIT) seenEvents.delete(seenEvents.values().next().value as string);
    state.occurrences += 1;
    recordJoin(event);
    if (autoCloseAt !== undefined) {
      // Flapping: the alert came back within the flap window. Same incident, no new one.
      autoCloseAt = undefined;
      record('alert.flapping', 'aire', { detail: { eventId: event.eventId, reason: 'the alert fired again within the flap window' } });
    }
  }
  wf.setHandler(addEventSignal, onEvent);
  wf.setHandler(addEventsSignal, (events) => events.forEach(onEvent));

  // ---- events after close: they open the next incident, never join this one ----

  /**
   * Once a close is requested, events for this dedup key belong to the next incident. The run hands
   * them to it as it ends (continue-as-new with that incident's input), so however an event and the
   * close interleave, it is processed by an open incident, and the intake's answer names that one.
   */
  const closing = (): boolean => requested.close !== undefined;
  let successor: { input: IncidentWorkflowInput; events: EventJoin[]; more: number } | undefined;

  function handOn(events: EventJoin[], next: IncidentWorkflowInput): EventsDelivered {
    if (!successor) {
      successor = { input: next, events: [], more: 0 };
      record('incident.succeeded', 'aire', {
        detail: { nextIncidentId: next.incidentId, eventId: next.firstEventId, reason: 'an event for the same dedup key arrived after the incident was closed' },
      });
    }
    const carried = successor;
    for (const event of events) {
      if (event.eventId === carried.input.firstEventId || carried.events.some((e) => e.eventId === event.eventId)) continue;
      if (carried.events.length < SEEN_EVENTS_LIMIT) carried.events.push(event);
      else carried.more += 1;
    }
    return { incidentId: carried.input.incidentId };
  }

  wf.setHandler(
    deliverEventsUpdate,
    (delivery: EventDelivery): EventsDelivered => {
      if (!closing()) {
        delivery.events.forEach(onEvent);
        return { incidentId };
      }
      if (!delivery.next) throw closingFailure();
      return handOn(delivery.events, delivery.next);
    },
    {
      validator: (delivery: EventDelivery): void => {
        if (closing() && !delivery.next) throw closingFailure();
      },
    },
  );

  // A declaration, not a const: buffered updates run as soon as their handler is set, above this line.
  function closingFailure(): wf.ApplicationFailure {
    return refusalFailure({ refusal: INCIDENT_CLOSING, why: `incident ${incidentId} is closing: events for its dedup key open the next incident` });
  }

  wf.setHandler(alertResolvedSignal, (event) => {
    if (seenEvents.has(event.eventId)) return;
    seenEvents.add(event.eventId);
    const resolves = runbookInForce?.completion.resolveWhenAlertResolves === true;
    record('alert.resolved', 'alertmanager', { detail: { eventId: event.eventId, resolvesIncident: resolves } });
    if (resolves) requested.resolve ??= { actor: 'alertmanager', reason: 'the alert resolved' };
  });

  wf.setHandler(stateQuery, () => state);

  // ---- gates ----

  async function awaitApproval(gate: GateDecision, timeoutPolicy: Runbook['approvalTimeoutPolicy'], step?: { step: RunbookStep; index: number }): Promise<GateOutcome> {
    const stepId = step ? step.step.id : null;
    const gateName = stepId ? `step "${stepId}"` : 'the runbook';
    const required = requiredApprovals(settings.approval, state.severity);
    state.pendingApproval = { stepId, reasons: gate.reasons, since: now(), approvals: [], required };
    const s = stepId ? stepState(stepId) : undefined;
    if (s) s.status = 'awaiting_approval';
    setStatus('awaiting_approval', 'approval.requested', 'aire', {
      stepId: stepId ?? undefined,
      detail: { gate: stepId ?? 'runbook', reasons: gate.reasons, mode: gate.mode, required },
      step: step ? { row: stepRow(step.step, step.index), update: { status: 'awaiting_approval', gate } } : undefined,
    });
    const links = `approve: POST /api/incidents/${incidentId}/approve, reject: POST /api/incidents/${incidentId}/reject${settings.consoleUrl ? `, console: ${settings.consoleUrl}` : ''}`;
    notify('approval.needed', `Approval needed for ${gateName} of "${draft.title}": ${gate.reasons.join('; ')} (${links})`);

    const answered = (): boolean => decision !== undefined || interrupted();
    let timedOut = false;
    if (!(await wf.condition(answered, settings.approvalTimeout))) {
      record('approval.overdue', 'aire', { stepId: stepId ?? undefined, detail: { gate: stepId ?? 'runbook', waitedMs: settings.approvalTimeout } });
      timedOut = !(await escalate(`approval for ${gateName} is overdue`, answered));
    }
    state.pendingApproval = null;
    if (timedOut) {
      record('approval.timed_out', 'aire', {
        stepId: stepId ?? undefined,
        approval: { stepId, decision: 'reject', approver: 'aire', reason: `no approval in time; the runbook says ${timeoutPolicy}` },
        detail: { gate: stepId ?? 'runbook', policy: timeoutPolicy },
      });
      return timeoutPolicy === 'abort' ? 'timed_out' : 'rejected';
    }
    const made = decision;
    decision = undefined;
    if (!made) return 'interrupted';
    const approved = made.kind === 'approve';
    record(approved ? 'approval.granted' : 'approval.rejected', made.by.actor, {
      stepId: stepId ?? undefined,
      approval: { stepId, decision: made.kind, approver: made.by.actor, reason: made.by.reason },
      detail: { gate: stepId ?? 'runbook', reason: made.by.reason },
    });
    return approved ? 'approved' : 'rejected';
  }

  // ---- steps ----

  function stepCall(step: RunbookStep, index: number, params: unknown, output?: unknown): StepCall {
    return {
      tenantId,
      incidentId,
      step: { id: step.id, name: step.name, action: step.action, position: index },
      incident: { id: incidentId, title: draft.title, severity: state.severity, source: draft.source },
      params,
      output,
    };
  }

  function markStep(step: RunbookStep, index: number, status: StepState['status'], kind: string, error?: string, detail: Record<string, unknown> = {}): void {
    const s = stepState(step.id);
    if (s) {
      s.status = status;
      if (error) s.error = error;
    }
    record(kind, 'aire', { stepId: step.id, step: { row: stepRow(step, index), update: { status, error } }, detail: { ...detail, ...(error ? { error } : {}) } });
    if (status === 'failed') notify('step.failed', `Step "${step.name}" failed on "${draft.title}": ${error ?? 'unknown error'}`);
  }

  type Attempt = { ok: true } | { ok: false; error: string };

  /** A `manual` step: wait until a person reports it done or failed (or the incident is interrupted). */
  async function awaitPerson(step: RunbookStep, index: number): Promise<Attempt> {
    state.pendingManual = { stepId: step.id, since: now() };
    await wf.condition(() => manualReport !== undefined || interrupted());
    state.pendingManual = null;
    const report = manualReport;
    manualReport = undefined;
    if (!report) return { ok: false, error: 'interrupted while waiting for a person' };
    if (report.outcome === 'failed') return { ok: false, error: `reported failed by ${report.actor}${report.note ? `: ${report.note}` : ''}` };
    record('step.succeeded', report.actor, {
      stepId: step.id,
      step: { row: stepRow(step, index), update: { status: 'succeeded' } },
      detail: { action: 'manual', note: report.note },
    });
    return { ok: true };
  }

  /** Runs a step once: render, execute, and for `manual` steps wait for the person. */
  async function attempt(step: RunbookStep, index: number, round: number): Promise<Attempt> {
    let params: unknown;
    try {
      params = render(step.params, { incident: { ...draft, id: incidentId, severity: state.severity }, steps: outputs }, `steps[${index}].params`);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      return { ok: false, error: err.message };
    }
    const s = stepState(step.id);
    if (s) s.status = 'running';
    // What is queued goes with the step, whose start record writes it first; what is already being written is awaited.
    const carried = batchedWrites ? queued.splice(0) : [];
    await flush();
    const activities = wf.proxyActivities<Record<string, StepActivity>>({
      startToCloseTimeout: step.timeout,
      retry: step.retry,
      summary: `${step.name} (${step.action})`,
    });
    let output: unknown;
    try {
      output = await activities[`${step.action}.execute`]({ ...stepCall(step, index, params), round, ...(carried.length > 0 ? { transitions: carried } : {}) });
    } catch (err) {
      // No attempt may have got as far as writing them; written twice, a transition counts once.
      enqueue(carried, true);
      return { ok: false, error: wf.rootCause(err) ?? String(err) };
    }
    if (step.action === 'manual') {
      const done = await awaitPerson(step, index);
      if (!done.ok) return done;
    }
    if (step.action === 'escalate') applyEscalation(step, output);
    completed.push({ step, index, params, output, compensated: false });
    outputs[step.id] = { output };
    if (s) {
      s.status = 'succeeded';
      s.output = output;
    }
    return { ok: true };
  }

  /** An `escalate` step may raise severity; it never lowers it. */
  function applyEscalation(step: RunbookStep, output: unknown): void {
    const raised = (output as { severity?: Severity | null } | null)?.severity;
    if (!raised || raised === state.severity || !isAtLeast(raised, state.severity)) return;
    const from = state.severity;
    state.severity = raised;
    wf.upsertSearchAttributes([{ key: AireSeverity, value: raised }]);
    record('incident.escalated', 'aire', { stepId: step.id, incident: { severity: raised }, detail: { from, to: raised } });
  }

  /** A failed step that says `escalate`: a person decides to retry, skip or abort. */
  async function awaitStepDecision(step: RunbookStep, error: string): Promise<StepDecision['decision'] | 'interrupted'> {
    state.pendingDecision = { stepId: step.id, error, since: now() };
    setStatus('awaiting_approval', 'decision.requested', 'aire', { stepId: step.id, detail: { error, options: ['retry', 'skip', 'abort'] } });
    await wf.condition(() => stepDecision !== undefined || interrupted());
    state.pendingDecision = null;
    const made = stepDecision;
    stepDecision = undefined;
    if (!made) return 'interrupted';
    record(`decision.${made.decision}`, made.actor, { stepId: step.id, detail: { reason: made.reason } });
    if (made.decision !== 'abort') setStatus('remediating', 'remediation.resumed', made.actor, { stepId: step.id });
    return made.decision;
  }

  /** Runs one step to an end; returns false when the runbook must abort. */
  async function runStep(step: RunbookStep, index: number): Promise<boolean> {
    state.currentStep = step.id;
    try {
      for (let round = 0; ; round += 1) {
        const result = await attempt(step, index, round);
        if (result.ok) return true;
        markStep(step, index, 'failed', 'step.failed', result.error, { onFailure: step.onFailure, round });
        if (interrupted() || step.onFailure === 'continue') return true;
        if (step.onFailure === 'abort') return false;
        const choice = await awaitStepDecision(step, result.error);
        if (choice === 'retry') continue;
        if (choice === 'skip') {
          markStep(step, index, 'skipped', 'step.skipped', undefined, { reason: 'a person chose to skip it after it failed' });
          return true;
        }
        // abort, or interrupted: the caller's loop sees the interruption and settles it.
        return choice === 'interrupted';
      }
    } finally {
      state.currentStep = null;
    }
  }

  /** Undoes what succeeded, newest first, each once, even if the workflow is being cancelled. */
  async function compensate(reason: string, actor: string): Promise<void> {
    const todo = completed.filter((c) => !c.compensated).reverse();
    record('compensation.started', actor, { detail: { reason, steps: todo.map((c) => c.step.id) } });
    await flush();
    let failures = 0;
    for (const c of todo) {
      c.compensated = true;
      const s = stepState(c.step.id);
      if (s) s.status = 'compensating';
      const activities = wf.proxyActivities<Record<string, StepActivity>>({
        startToCloseTimeout: c.step.timeout,
        retry: COMPENSATION_RETRY,
        summary: `undo ${c.step.name} (${c.step.action})`,
      });
      try {
        const result = (await wf.CancellationScope.nonCancellable(() =>
          activities[`${c.step.action}.compensate`](stepCall(c.step, c.index, c.params, c.output)),
        )) as { compensated?: boolean } | null;
        if (s) s.status = result?.compensated === false ? 'succeeded' : 'compensated';
      } catch (err) {
        failures += 1;
        markStep(c.step, c.index, 'compensation_failed', 'step.compensation_failed', wf.rootCause(err) ?? String(err));
      }
    }
    record('compensation.finished', actor, { detail: { reason, compensated: todo.length - failures, failed: failures } });
  }

  async function runRunbook(runbook: Runbook, brakes: string[]): Promise<void> {
    runbookInForce = runbook;
    state.steps = runbook.steps.map((s) => ({ id: s.id, name: s.name, action: s.action, status: 'pending' }));
    const policyGate = runbookGate(draft, runbook);
    // Brakes (run limits, an open circuit breaker) turn autopilot into co-pilot for this incident.
    const reasons = [...policyGate.reasons, ...brakes];
    const gate = gateDecision(reasons);
    if (gate.required) {
      const outcome = await awaitApproval(gate, runbook.approvalTimeoutPolicy);
      if (outcome === 'interrupted') return;
      if (outcome === 'timed_out') {
        setStatus('failed', 'remediation.failed', 'aire', { detail: { reason: 'no approval for the runbook in time; nothing ran' } });
        return;
      }
      if (outcome === 'rejected') {
        setStatus('investigating', 'remediation.rejected', 'aire', { detail: { reason: 'the runbook gate was rejected: people take it from here' } });
        return;
      }
    }
    setStatus('remediating', 'remediation.started', 'aire', {
      detail: { runbookId: runbook.id, gate: gate.required ? 'approved' : 'autopilot' },
      plan: runbook.steps.map(stepRow),
    });

    let abortReason: string | undefined;
    let humanApproved = gate.required;
    for (const [index, step] of runbook.steps.entries()) {
      if (interrupted()) break;
      if (state.severity === 'critical' && !humanApproved) {
        // Escalated to critical mid-runbook: the promise "no critical remediation without a human" still holds.
        const outcome = await awaitApproval(
          { required: true, mode: 'co-pilot', reasons: ['the incident was escalated to critical: a human approves before remediation goes on'] },
          runbook.approvalTimeoutPolicy,
        );
        if (outcome === 'interrupted') break;
        if (outcome === 'rejected' || outcome === 'timed_out') {
          abortReason = 'approval after escalation to critical was rejected';
          break;
        }
        humanApproved = true;
        setStatus('remediating', 'remediation.resumed', 'aire');
      }
      const gateForStep = stepGate(step, settings.approval);
      if (gateForStep.required) {
        const outcome = await awaitApproval(gateForStep, runbook.approvalTimeoutPolicy, { step, index });
        if (outcome === 'interrupted') break;
        if (outcome === 'timed_out') {
          abortReason = `no approval for step "${step.id}" in time`;
          break;
        }
        if (outcome === 'rejected' && step.onReject === 'skip') {
          markStep(step, index, 'skipped', 'step.skipped', undefined, { reason: 'approval rejected; the step says skip' });
          setStatus('remediating', 'remediation.resumed', 'aire');
          continue;
        }
        if (outcome === 'rejected') {
          abortReason = `approval for step "${step.id}" was rejected`;
          break;
        }
        setStatus('remediating', 'remediation.resumed', 'aire', { stepId: step.id });
      }
      if (!(await runStep(step, index))) {
        abortReason = `step "${step.id}" failed and says abort`;
        break;
      }
    }

    if (abortReason) {
      await compensate(abortReason, 'aire');
      setStatus('failed', 'remediation.failed', 'aire', { detail: { reason: abortReason } });
      return;
    }
    if (interrupted()) return;
    setStatus('mitigated', 'incident.mitigated', 'aire', { incident: { stamp: 'mitigated' } });
    if (runbook.completion.autoResolve) {
      setStatus('resolved', 'incident.resolved', 'aire', { incident: { stamp: 'resolved' }, detail: { reason: 'the runbook resolves on completion' } });
    }
  }

  /** After remediation: wait for people to roll back, resolve or close. */
  /** Returns 'closed', or 'continue-as-new' when Temporal suggests starting a fresh history. */
  async function settle(): Promise<'closed' | 'continue-as-new'> {
    const wake = (): boolean => requested.close !== undefined || (requested.rollback !== undefined && !rolledBack) || requested.resolve !== undefined;
    const longHistory = (): boolean => wf.workflowInfo().continueAsNewSuggested;
    for (;;) {
      if (autoCloseAt === undefined) {
        await wf.condition(() => wake() || longHistory());
      } else if (!(await wf.condition(() => wake() || autoCloseAt === undefined || longHistory(), Math.max(1, autoCloseAt - Date.now())))) {
        requested.close ??= { actor: 'aire', reason: `the alert stayed resolved for the flap window (${settings.intake.flapWindow} ms)` };
      }
      if (!wake() && longHistory()) return 'continue-as-new';
      if (!wake()) continue; // the alert fired again: wait for what people (or the alert) do next
      if (requested.rollback && !rolledBack) {
        rolledBack = true;
        const note = requested.rollback;
        await compensate(note.reason ?? 'rollback requested', note.actor);
        setStatus('rolled_back', 'incident.rolled_back', note.actor, { detail: { reason: note.reason } });
        continue;
      }
      if (requested.resolve) {
        // Handled once per request: a later rollback, then a new resolve, works as people expect.
        const note = requested.resolve;
        requested.resolve = undefined;
        if (state.status !== 'resolved') {
          setStatus('resolved', 'incident.resolved', note.actor, { incident: { stamp: 'resolved' }, detail: { reason: note.reason } });
        }
        if (note.actor === 'alertmanager') autoCloseAt = Date.now() + settings.intake.flapWindow;
        continue;
      }
      if (requested.close) {
        const note = requested.close;
        if (wf.patched(JOINS_BEFORE_CLOSE_PATCH)) await joinWrites;
        setStatus('closed', 'incident.closed', note.actor, { incident: { stamp: 'closed' }, detail: { reason: note.reason } });
        return 'closed';
      }
    }
  }

  /** Writes everything queued, including joins that arrive while writing, so nothing is lost across runs. */
  async function drain(): Promise<void> {
    let seen: [Promise<void>, Promise<void>];
    do {
      seen = [writes, joinWrites];
      await Promise.all(seen);
    } while (seen[0] !== writes || seen[1] !== joinWrites);
  }

  // ---- the incident's life ----

  // Events that opened the incident with the first: the rest of the intake's batch, or those the
  // previous incident with this dedup key took while it was closing.
  if (!carried && input.earlyEvents) {
    input.earlyEvents.events.forEach(onEvent);
    state.occurrences += input.earlyEvents.more;
  }

  let slaWatch: Promise<void>;
  if (carried) {
    slaWatch = watchAcknowledgement();
  } else {
    let choice: RunbookChoice;
    if (batchedWrites) {
      choice = await openingStore.recordIncidentAndChooseRunbook({ ...input, workflowId: wf.workflowInfo().workflowId, at: now() });
      slaWatch = watchAcknowledgement();
    } else {
      await store.recordIncident({ ...input, workflowId: wf.workflowInfo().workflowId, at: now() });
      slaWatch = watchAcknowledgement();
      choice = await store.selectRunbook({ tenantId, incidentId, draft, at: now() });
    }
    if (choice.selected) {
      state.runbook = { id: choice.selected.runbook.id, version: choice.selected.version };
      wf.upsertSearchAttributes([{ key: AireRunbook, value: choice.selected.runbook.id }]);
      await runRunbook(choice.selected.runbook, choice.brakes ?? []);
    }
  }
  const ending = await settle();
  if (ending === 'closed') await slaWatch; // ended by the close request
  await Promise.all(deliveries);
  await wf.condition(wf.allHandlersFinished);
  await drain();
  // No await from here to the end of the run: a message that arrives now is not lost with it, the
  // server turns it away (an update) or makes this task run again with it (a signal).
  if (successor) return openSuccessor(successor);
  if (ending === 'continue-as-new') {
    const info = wf.workflowInfo();
    record('history.continued', 'aire', { detail: { historyLength: info.historyLength, reason: 'Temporal suggested a fresh history' } });
    await drain();
    const next: CarriedState = {
      state,
      seq,
      completed,
      outputs,
      seenEvents: [...seenEvents],
      requested,
      rolledBack,
      notificationSeq,
      runbook: runbookInForce ?? null,
      autoCloseAt,
      sla,
    };
    // Memo (the incident id the API reads) and search attributes go along explicitly.
    return wf.makeContinueAsNewFunc<typeof incidentWorkflow>({ memo: info.memo, typedSearchAttributes: info.typedSearchAttributes })(input, next);
  }
  return { incidentId, status: state.status };
}

/** What an update's validator throws to refuse a message: the API answers it (409, 403, or a resend with `next`) with `why`. */
function refusalFailure(refusal: { refusal: RefusalType | typeof INCIDENT_CLOSING; why: string }): wf.ApplicationFailure {
  return wf.ApplicationFailure.create({ type: refusal.refusal, message: refusal.why, nonRetryable: true });
}

/** Ends a closed incident's run by starting the next incident in its place, with the events it took. */
function openSuccessor(successor: { input: IncidentWorkflowInput; events: EventJoin[]; more: number }): Promise<never> {
  const { memo, searchAttributes } = incidentRunAttributes(successor.input);
  const input: IncidentWorkflowInput = { ...successor.input, earlyEvents: { events: successor.events, more: successor.more } };
  return wf.makeContinueAsNewFunc<typeof incidentWorkflow>({ memo, typedSearchAttributes: searchAttributes })(input);
}
