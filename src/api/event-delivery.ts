import { WorkflowIdConflictPolicy, WorkflowNotFoundError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { Client, WorkflowStartOptions } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { EventJoin } from '../domain/signals';
import { first } from '../domain/must';
import type { IncidentWorkflowInput } from '../domain/workflow-input';
import { INCIDENT_CLOSING, deliverEventsUpdate } from '../workflows/definitions';
import { incidentWorkflow } from '../workflows/incident';
import { noAnswer, notApplied, refusalOf } from './workflow-answer';

/** What starts the incident workflow if no incident with this dedup key is open. */
export interface StartRequest {
  input: IncidentWorkflowInput;
  options: Omit<WorkflowStartOptions<typeof incidentWorkflow>, 'args' | 'workflowId' | 'taskQueue'>;
}

export interface Delivered {
  /** The incident the event now belongs to: the workflow's own answer. */
  incidentId: string;
  /** Set for the one request whose start request opened that incident. */
  started?: StartRequest;
}

interface Waiter {
  event: EventJoin;
  prepare: () => Promise<StartRequest>;
  resolve: (delivered: Delivered) => void;
  reject: (err: unknown) => void;
}

/** Events per delivery: far below Temporal's payload limit (2 MB) at ≤ 800 bytes an event. */
const MAX_BATCH = 500;
/** How often a delivery that was never applied (see neverApplied) is sent again. */
const RETRIES = 5;

/**
 * Group commit of events onto incident workflows. Events go to the incident running under their
 * workflow id as an update, which the workflow answers with the incident that took them, so
 * `joined` names an incident that will process them; where none runs, the events start one, and
 * the start alone holds them (a new incident opens even while no worker is up). The caller's answer
 * waits for either, so nothing accepted is lost. While one delivery to a workflow is in flight,
 * events for it queue and go together in the next: an alert storm on one fingerprint costs
 * Temporal one update per round trip instead of one per alert. Only a start (or the `next` a
 * closing incident asks for) pays for preparing a start request (analysis); a join does not.
 *
 * Not update-with-start: its answer waits for a worker to accept the update even when it starts the
 * workflow, and opening an incident must not depend on a worker being up.
 */
export class EventDelivery {
  private readonly queues = new Map<string, Waiter[]>();

  constructor(
    private readonly temporal: Client,
    private readonly taskQueue: string,
    /** How long a join waits for a worker to answer before the caller gets a 503 to retry. */
    private readonly answerTimeoutMs: number,
  ) {}

  deliver(workflowId: string, event: EventJoin, prepare: () => Promise<StartRequest>): Promise<Delivered> {
    return new Promise<Delivered>((resolve, reject) => {
      const waiter = { event, prepare, resolve, reject };
      const queued = this.queues.get(workflowId);
      if (queued) {
        queued.push(waiter);
        return;
      }
      this.queues.set(workflowId, []);
      void this.send(workflowId, [waiter]);
    });
  }

  private async send(workflowId: string, batch: Waiter[]): Promise<void> {
    try {
      // Only a start (or a closing incident's `next`) needs the start request: a join skips the analysis.
      let prepared: Promise<StartRequest> | undefined;
      const prepare = (): Promise<StartRequest> => (prepared ??= first(batch, 'a waiter in the delivery batch').prepare());
      const delivered = await this.deliverOrStart(
        workflowId,
        prepare,
        batch.map((w) => w.event),
      );
      batch.forEach((w, i) => w.resolve(i === 0 ? delivered : { incidentId: delivered.incidentId }));
    } catch (err) {
      batch.forEach((w) => w.reject(err));
    }
    const queued = this.queues.get(workflowId) ?? [];
    if (queued.length === 0) {
      this.queues.delete(workflowId);
      return;
    }
    void this.send(workflowId, queued.splice(0, MAX_BATCH));
  }

  /**
   * Delivers the events to the incident running under this workflow id, or starts it with them. A
   * closing incident refuses them until they come with the start input of the incident they should
   * open (`next`); a run that ended while they were on their way sends them on to whatever runs next.
   */
  private async deliverOrStart(workflowId: string, prepare: () => Promise<StartRequest>, events: EventJoin[]): Promise<Delivered> {
    let next: StartRequest | undefined;
    for (let retries = 0; ; retries += 1) {
      try {
        const delivery = next ? { events, next: next.input } : { events };
        const { incidentId } = await this.temporal.withDeadline(Date.now() + this.answerTimeoutMs, () =>
          this.temporal.workflow.getHandle(workflowId).executeUpdate(deliverEventsUpdate, { args: [delivery] }),
        );
        return incidentId === next?.input.incidentId ? { incidentId, started: next } : { incidentId };
      } catch (err) {
        if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError)
          throw noAnswer(this.answerTimeoutMs, 'the event was not accepted (its event id makes a repeat count once)');
        if (!next && isClosingRefusal(err)) {
          next = await prepare();
          continue;
        }
        if (!(err instanceof WorkflowNotFoundError || neverApplied(err))) throw err;
        // Never applied each time: the events are not accepted, and the sender tries again later.
        if (retries >= RETRIES)
          throw notApplied(`the incident's workflow ended or failed its task ${RETRIES + 1} times in a row under the event, so it was not accepted`);
        if (!(err instanceof WorkflowNotFoundError)) continue;
        const start = await prepare();
        if (await this.start(workflowId, start, events)) return { incidentId: start.input.incidentId, started: start };
      }
    }
  }

  /**
   * Starts the incident with every event of the batch in its input, so the start alone holds them
   * durably and no worker has to answer first. false: another request started it just before.
   */
  private async start(workflowId: string, start: StartRequest, events: EventJoin[]): Promise<boolean> {
    const rest = events.filter((e) => e.eventId !== start.input.firstEventId);
    const input = rest.length > 0 ? { ...start.input, earlyEvents: { events: rest, more: 0 } } : start.input;
    try {
      await this.temporal.workflow.start(incidentWorkflow, {
        ...start.options,
        workflowId,
        taskQueue: this.taskQueue,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      });
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }
}

function isClosingRefusal(err: unknown): boolean {
  return refusalOf(err)?.type === INCIDENT_CLOSING;
}

/**
 * The update was never applied, and sending it again is safe: the run ended between taking the
 * request and answering it, or the workflow task that carried it failed (the server fails a task
 * that would end the run while a new message is waiting, and aborts the updates in it).
 */
function neverApplied(err: unknown): boolean {
  const message = (err as { message?: string } | null)?.message ?? '';
  const cause = (err as { cause?: { message?: string; details?: string } } | null)?.cause;
  return /already completed|workflow is closing|unexpected workflow task failure/i.test(`${message} ${cause?.message ?? ''} ${cause?.details ?? ''}`);
}
