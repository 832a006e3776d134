/**
 * Every message the incident accepts, registered once: decisions (as Updates that answer, and as
 * signals), acknowledge / resolve / close, events from the intake, the alert resolving, the state
 * query. Registered after the run is built: a buffered message is handled the moment its handler is set.
 */
import * as wf from '@temporalio/workflow';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import type { EventJoin } from '../../domain/signals';
import type { EventDelivery, EventsDelivered, IncidentWorkflowInput } from '../../domain/workflow-input';
import {
  INCIDENT_CLOSING,
  type MessageAnswer,
  type MessageOutcome,
  REFUSED_CONFLICT,
  acknowledgeSignal,
  acknowledgeUpdate,
  addEventSignal,
  addEventsSignal,
  alertResolvedSignal,
  approveSignal,
  approveUpdate,
  assignRoleUpdate,
  closeSignal,
  closeUpdate,
  completeManualStepSignal,
  completeManualStepUpdate,
  decideStepSignal,
  decideStepUpdate,
  deliverEventsUpdate,
  editUpdate,
  postStatusUpdate,
  rejectSignal,
  rejectUpdate,
  resolveSignal,
  resolveUpdate,
  rollbackSignal,
  rollbackUpdate,
  runRunbookUpdate,
  stateQuery,
} from '../definitions';
import * as command from './command';
import * as decisions from './decisions';
import { SEEN_EVENTS_LIMIT, refusalFailure } from './options';
import type { IncidentRun } from './run';

export function registerMessages(run: IncidentRun): void {
  const { incidentId } = run;

  /** A message for an earlier incident under this workflow id (a signal for one is dropped unrecorded). */
  const ended = (message: { incidentId?: string }): Pick<decisions.Refusal, 'refusal' | 'why'> | undefined =>
    message.incidentId === undefined || message.incidentId === incidentId
      ? undefined
      : { refusal: REFUSED_CONFLICT, why: `incident ${message.incidentId} has ended; its workflow id now runs incident ${incidentId}` };

  /** Wraps a signal handler so messages meant for an earlier incident with the same workflow id are dropped. */
  const forThisIncident =
    <T extends { incidentId?: string }>(handler: (message: T) => void) =>
    (message: T): void => {
      if (ended(message) === undefined) handler(message);
    };

  /** Registers an update that answers its caller, refused by the validator from this state before anything is applied. */
  function answer<T extends { actor: string; incidentId?: string }>(
    update: UpdateDefinition<MessageAnswer, [T]>,
    refuse: (run: IncidentRun, message: T) => decisions.Refusal | undefined,
    apply: (run: IncidentRun, message: T) => MessageOutcome,
  ): void {
    wf.setHandler(update, (message: T) => ({ incidentId, outcome: apply(run, message), state: run.state }), {
      validator: (message: T) => {
        const refusal = ended(message) ?? refuse(run, message);
        if (refusal) throw refusalFailure(refusal);
      },
    });
  }

  /**
   * Registers one message both ways: as an update that answers its caller (refused by the
   * validator, from this state, before anything is applied), and as a signal handled by the same
   * code, whose refusal goes to the audit trail instead. `signalsRefused: false` keeps a signal's
   * handling as it was before its update existed, so histories that received it still replay.
   */
  function handle<T extends { actor: string; incidentId?: string }>(
    update: UpdateDefinition<MessageAnswer, [T]>,
    signal: SignalDefinition<[T]>,
    refuse: (run: IncidentRun, message: T) => decisions.Refusal | undefined,
    apply: (run: IncidentRun, message: T) => MessageOutcome,
    { signalsRefused = true } = {},
  ): void {
    answer(update, refuse, apply);
    wf.setHandler(
      signal,
      forThisIncident((message: T) => {
        const refusal = signalsRefused ? refuse(run, message) : undefined;
        if (!refusal) apply(run, message);
        else if (refusal.audit) run.record(refusal.audit.kind, message.actor, refusal.audit.extra);
      }),
    );
  }

  handle(
    approveUpdate,
    approveSignal,
    (r, by) => decisions.decisionRefusal(r, 'approve', by),
    (r, by) => decisions.applyDecision(r, 'approve', by),
  );
  handle(
    rejectUpdate,
    rejectSignal,
    (r, by) => decisions.decisionRefusal(r, 'reject', by),
    (r, by) => decisions.applyDecision(r, 'reject', by),
  );
  handle(rollbackUpdate, rollbackSignal, decisions.rollbackRefusal, decisions.applyRollback);
  handle(completeManualStepUpdate, completeManualStepSignal, decisions.manualRefusal, decisions.applyManualReport);
  handle(decideStepUpdate, decideStepSignal, decisions.stepDecisionRefusal, decisions.applyStepDecision);

  // Incident command: Updates only (no signal of the same name: each answers who changed what).
  answer(editUpdate, command.openRefusal, command.applyEdit);
  answer(assignRoleUpdate, command.roleRefusal, command.applyRole);
  answer(postStatusUpdate, command.statusUpdateRefusal, command.applyStatusUpdate);
  answer(runRunbookUpdate, command.runbookRefusal, command.applyRunbook);

  const asBefore = { signalsRefused: false };
  handle(acknowledgeUpdate, acknowledgeSignal, decisions.closedRefusal, decisions.applyAcknowledge, asBefore);
  handle(resolveUpdate, resolveSignal, decisions.closedRefusal, decisions.applyResolve, asBefore);
  handle(closeUpdate, closeSignal, decisions.closedRefusal, decisions.applyClose, asBefore);

  wf.setHandler(addEventSignal, (event) => onEvent(run, event));
  wf.setHandler(addEventsSignal, (events) => events.forEach((event) => onEvent(run, event)));
  wf.setHandler(
    deliverEventsUpdate,
    (delivery: EventDelivery): EventsDelivered => {
      if (!run.closing()) {
        delivery.events.forEach((event) => onEvent(run, event));
        return { incidentId };
      }
      if (!delivery.next) throw closingFailure(run);
      return handOn(run, delivery.events, delivery.next);
    },
    {
      validator: (delivery: EventDelivery): void => {
        if (run.closing() && !delivery.next) throw closingFailure(run);
      },
    },
  );

  wf.setHandler(alertResolvedSignal, (event) => {
    if (run.seenEvents.has(event.eventId)) return;
    run.seenEvents.add(event.eventId);
    const resolves = run.runbookInForce?.completion.resolveWhenAlertResolves === true;
    run.record('alert.resolved', 'alertmanager', { detail: { eventId: event.eventId, resolvesIncident: resolves } });
    if (resolves) run.requested.resolve ??= { actor: 'alertmanager', reason: 'the alert resolved' };
  });

  wf.setHandler(stateQuery, () => run.state);
}

/** Another occurrence of the incident's alert: counted once per event id, written in batches. */
export function onEvent(run: IncidentRun, event: EventJoin): void {
  if (run.seenEvents.has(event.eventId)) return;
  run.seenEvents.add(event.eventId);
  if (run.seenEvents.size > SEEN_EVENTS_LIMIT) run.seenEvents.delete(run.seenEvents.values().next().value as string);
  run.state.occurrences += 1;
  run.recorder.recordJoin(event);
  if (run.autoCloseAt !== undefined) {
    // Flapping: the alert came back within the flap window. Same incident, no new one.
    run.autoCloseAt = undefined;
    run.record('alert.flapping', 'aire', { detail: { eventId: event.eventId, reason: 'the alert fired again within the flap window' } });
  }
}

// ---- events after close: they open the next incident, never join this one ----

function closingFailure(run: IncidentRun): wf.ApplicationFailure {
  return refusalFailure({ refusal: INCIDENT_CLOSING, why: `incident ${run.incidentId} is closing: events for its dedup key open the next incident` });
}

/**
 * Once a close is requested, events for this dedup key belong to the next incident. The run hands
 * them to it as it ends (continue-as-new with that incident's input), so however an event and the
 * close interleave, it is processed by an open incident, and the intake's answer names that one.
 */
function handOn(run: IncidentRun, events: EventJoin[], next: IncidentWorkflowInput): EventsDelivered {
  if (!run.successor) {
    run.successor = { input: next, events: [], more: 0 };
    run.record('incident.succeeded', 'aire', {
      detail: { nextIncidentId: next.incidentId, eventId: next.firstEventId, reason: 'an event for the same dedup key arrived after the incident was closed' },
    });
  }
  const successor = run.successor;
  for (const event of events) {
    if (event.eventId === successor.input.firstEventId || successor.events.some((e) => e.eventId === event.eventId)) continue;
    if (successor.events.length < SEEN_EVENTS_LIMIT) successor.events.push(event);
    else successor.more += 1;
  }
  return { incidentId: successor.input.incidentId };
}
