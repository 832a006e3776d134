import type { Client, WorkflowStartOptions } from '@temporalio/client';
import type { EventJoin } from '../domain/signals';
import type { IncidentWorkflowInput } from '../domain/workflow-input';
import { addEventsSignal } from '../workflows/definitions';
import { incidentWorkflow } from '../workflows/incident';

/** What starts the incident workflow if no incident with this dedup key is open. */
export interface StartRequest {
  input: IncidentWorkflowInput;
  options: Omit<WorkflowStartOptions<typeof incidentWorkflow>, 'args' | 'workflowId' | 'taskQueue'>;
}

export interface Delivered {
  /** The incident the event now belongs to. */
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

/** Events per signal: far below Temporal's payload limit (2 MB) at ≤ 800 bytes an event. */
const MAX_BATCH = 500;
/** Run ids whose incident id this process has learned, so a join does not describe the workflow. */
const KNOWN_RUNS = 10_000;

/**
 * Group commit of events onto incident workflows. Every event is a signal-with-start on the
 * incident's workflow id, and the caller's answer waits until Temporal has it, so nothing accepted
 * is lost. While one signal to a workflow is in flight, events for it queue and go together in the
 * next: an alert storm on one fingerprint costs Temporal one signal per round trip instead of one
 * per alert, and nobody waits longer than the signal before theirs. Only the first event of a batch
 * pays for preparing a start request (analysis), since the others can only join.
 */
export class EventDelivery {
  private readonly queues = new Map<string, Waiter[]>();
  private readonly incidentOfRun = new Map<string, string>();

  constructor(
    private readonly temporal: Client,
    private readonly taskQueue: string,
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
      const start = await batch[0].prepare();
      const incidentId = await this.signalWithStart(workflowId, start, batch.map((w) => w.event));
      batch.forEach((w, i) => w.resolve(i === 0 && incidentId === start.input.incidentId ? { incidentId, started: start } : { incidentId }));
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

  /** Returns the id of the incident that received the events (ours if our start won). */
  private async signalWithStart(workflowId: string, start: StartRequest, events: EventJoin[]): Promise<string> {
    const handle = await this.temporal.workflow.signalWithStart(incidentWorkflow, {
      ...start.options,
      workflowId,
      taskQueue: this.taskQueue,
      args: [start.input],
      signal: addEventsSignal,
      signalArgs: [events],
    });
    const runId = handle.signaledRunId;
    const known = this.incidentOfRun.get(runId);
    if (known) return known;
    const description = await this.temporal.workflow.getHandle(workflowId, runId).describe();
    const incidentId = (description.memo as { incidentId?: string } | undefined)?.incidentId ?? start.input.incidentId;
    if (this.incidentOfRun.size >= KNOWN_RUNS) this.incidentOfRun.delete(this.incidentOfRun.keys().next().value as string);
    this.incidentOfRun.set(runId, incidentId);
    return incidentId;
  }
}
