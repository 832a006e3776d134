/**
 * The incident's record: every transition goes to PostgreSQL in order, through one chain of store
 * activities, and to the live timeline the state query shows.
 */
import * as wf from '@temporalio/workflow';
import type { Transition } from '../../activities';
import type { ActionKind } from '../../domain/action-kinds';
import type { EventJoin } from '../../domain/signals';
import type { IncidentState } from '../definitions';
import { JOINS_BEFORE_CLOSE_PATCH, JOIN_WRITE_DELAY, TIMELINE_LIMIT, store } from './options';

/** What a transition carries beyond what the recorder fills in. */
export type Extra = Omit<Transition, 'tenantId' | 'incidentId' | 'seq' | 'at' | 'kind' | 'actor'>;

export class Recorder {
  /** Transitions numbered so far: the store's idempotency key, carried across continue-as-new. */
  seq: number;
  private writes: Promise<void> = Promise.resolve();
  private readonly queued: Transition[] = [];
  private readonly pendingJoins: EventJoin[] = [];
  private joinWrites: Promise<void> = Promise.resolve();

  constructor(
    private readonly ids: { tenantId: string; incidentId: string },
    private readonly state: IncidentState,
    /** Incidents since BATCHED_STORE_PATCH write queued transitions together (older ones one at a time). */
    private readonly batched: boolean,
    /** Whether a close is requested: joins gathering then are written at once (JOINS_BEFORE_CLOSE_PATCH). */
    private readonly closeRequested: () => boolean,
    seq: number,
  ) {
    this.seq = seq;
  }

  /** Numbers a transition, adds it to the live timeline, and returns what the store writes. */
  transition(kind: ActionKind, actor: string, extra: Extra): Transition {
    const at = new Date().toISOString();
    this.state.timeline.push({ at, kind, actor, stepId: extra.stepId, detail: extra.detail });
    if (this.state.timeline.length > TIMELINE_LIMIT) this.state.timeline.shift();
    return { ...this.ids, seq: ++this.seq, at, kind, actor, ...extra };
  }

  /**
   * Transitions recorded while a write is queued go with it, in order, as one write: an incident
   * costs a few store calls, not one per transition. (Older histories wrote one at a time.)
   */
  record(kind: ActionKind, actor: string, extra: Extra = {}): void {
    const t = this.transition(kind, actor, extra);
    if (!this.batched) {
      this.writes = this.writes.then(() => store.recordTransition(t));
      return;
    }
    this.enqueue([t]);
  }

  /** `first`: transitions numbered before everything queued (a failed step's, see `takeQueued`). */
  enqueue(transitions: Transition[], first = false): void {
    if (transitions.length === 0) return;
    const writeQueued = this.queued.length > 0;
    if (first) this.queued.unshift(...transitions);
    else this.queued.push(...transitions);
    if (writeQueued) return;
    // Empty when a step took them along (see `takeQueued`).
    this.writes = this.writes.then(() => (this.queued.length > 0 ? store.recordTransitions(this.queued.splice(0)) : undefined));
  }

  /**
   * What is queued, for a step to carry: its start record writes them first, saving a store call.
   * If the step fails before any attempt wrote them, they go back with `enqueue(…, true)`; written
   * twice, a transition counts once.
   */
  takeQueued(): Transition[] {
    return this.batched ? this.queued.splice(0) : [];
  }

  /**
   * Duplicate events are written in batches: while one write is queued, later joins wait and go in
   * the next one. Incidents since BATCHED_STORE_PATCH also let joins gather for JOIN_WRITE_DELAY on
   * a chain of their own (counts are totals, so their order against other writes does not matter):
   * an alert storm costs one store write a second, not one per signal, and nothing else waits.
   */
  recordJoin(event: EventJoin): void {
    this.pendingJoins.push(event);
    if (this.pendingJoins.length > 1) return;
    const write = async (): Promise<void> => {
      if (this.batched && wf.patched(JOINS_BEFORE_CLOSE_PATCH)) await wf.condition(this.closeRequested, JOIN_WRITE_DELAY);
      else if (this.batched) await wf.sleep(JOIN_WRITE_DELAY);
      const batch = this.pendingJoins.splice(0);
      const [opening] = batch;
      const lastSeenAt = batch.map((e) => e.at).sort()[batch.length - 1];
      // Never empty: this write was queued by the join it now writes (pendingJoins went from none to one).
      if (opening === undefined || lastSeenAt === undefined) throw new Error('a join write with no joined event');
      return store.recordTransition(
        this.transition('event.joined', 'aire', {
          // The total, not only the batch: absolute values make a repeated write harmless (see writeTransition).
          incident: { occurrences: { count: batch.length, total: this.state.occurrences, lastSeenAt } },
          detail: { count: batch.length, eventIds: batch.slice(0, 10).map((e) => e.eventId), summary: opening.summary },
        }),
      );
    };
    if (this.batched) this.joinWrites = this.joinWrites.then(write);
    else this.writes = this.writes.then(write);
  }

  /** Waits until everything recorded so far is written, so the audit trail keeps causal order. */
  flush(): Promise<void> {
    return this.writes;
  }

  /** Waits for the joins gathering now (written before the close: JOINS_BEFORE_CLOSE_PATCH). */
  joinsWritten(): Promise<void> {
    return this.joinWrites;
  }

  /** Writes everything queued, including joins that arrive while writing, so nothing is lost across runs. */
  async drain(): Promise<void> {
    let seen: [Promise<void>, Promise<void>];
    do {
      seen = [this.writes, this.joinWrites];
      await Promise.all(seen);
    } while (seen[0] !== this.writes || seen[1] !== this.joinWrites);
  }
}
