/**
 * One incident, from intake to close, as one Temporal workflow: record it, choose its runbook, pass
 * the approval gates, run the steps as activities, compensate in reverse when a step aborts or
 * someone asks for a rollback, and stay open for people (acknowledge, resolve, close) until it is
 * closed. Read top to bottom; each part lives in its own module beside this one:
 *
 *   run.ts           the run's state and what every part shares (status, interruption, carry-over)
 *   recorder.ts      transitions to PostgreSQL, in order, batched
 *   notifier.ts      notifications and escalation tiers
 *   messages.ts      every message handler; decisions.ts: their refusals and effects
 *   runbook.ts       gates and steps in order; approval.ts, steps.ts, compensation.ts
 *   settle.ts        after remediation, and the acknowledgement SLA
 *   options.ts       activity timeouts and retries, patches, bounds
 */
import * as wf from '@temporalio/workflow';
import type { RunbookChoice } from '../../activities';
import type { IncidentStatus } from '../../domain/incident';
import type { IncidentWorkflowInput } from '../../domain/workflow-input';
import { AireRunbook, incidentRunAttributes } from '../search-attributes';
import { remindStatusUpdates } from './command';
import { onEvent, registerMessages } from './messages';
import { openingStore, store } from './options';
import { runRunbook } from './runbook';
import { type CarriedState, IncidentRun, type Successor } from './run';
import { settle, watchAcknowledgement } from './settle';

export type { CarriedState } from './run';

export interface IncidentOutcome {
  incidentId: string;
  status: IncidentStatus;
}

export async function incidentWorkflow(input: IncidentWorkflowInput, carried?: CarriedState): Promise<IncidentOutcome> {
  const run = new IncidentRun(input, carried);
  // Announced before any message is handled, so channels hear of the incident before what follows.
  if (!carried) run.notifier.notify('incident.opened', `${input.draft.severity.toUpperCase()} incident opened: ${input.draft.title}`);
  registerMessages(run);

  // Events that opened the incident with the first: the rest of the intake's batch, or those the
  // previous incident with this dedup key took while it was closing.
  if (!carried && input.earlyEvents) {
    input.earlyEvents.events.forEach((event) => onEvent(run, event));
    run.state.occurrences += input.earlyEvents.more;
  }

  // Settings from before incident command have no status-update reminders (and no timers for them).
  if (run.settings.statusUpdates) void remindStatusUpdates(run);
  const slaWatch = carried ? watchAcknowledgement(run) : (await open(run)).slaWatch;
  const ending = await settle(run);
  if (ending === 'closed') await slaWatch; // ended by the close request
  await run.notifier.delivered();
  await wf.condition(wf.allHandlersFinished);
  await run.recorder.drain();
  // No await from here to the end of the run: a message that arrives now is not lost with it, the
  // server turns it away (an update) or makes this task run again with it (a signal).
  if (run.successor) return openSuccessor(run.successor);
  if (ending === 'continue-as-new') return continueAsNew(run);
  return { incidentId: run.incidentId, status: run.state.status };
}

/**
 * Records the new incident, starts its SLA watch, and runs the runbook chosen for it, if any. The
 * watch is answered wrapped: it goes on after this returns.
 */
async function open(run: IncidentRun): Promise<{ slaWatch: Promise<void> }> {
  const { input } = run;
  const at = (): string => new Date().toISOString();
  let choice: RunbookChoice;
  let slaWatch: Promise<void>;
  if (run.batchedWrites) {
    choice = await openingStore.recordIncidentAndChooseRunbook({ ...input, workflowId: wf.workflowInfo().workflowId, at: at() });
    slaWatch = watchAcknowledgement(run);
  } else {
    // Histories from before BATCHED_STORE_PATCH: two activities, the SLA watch between them.
    await store.recordIncident({ ...input, workflowId: wf.workflowInfo().workflowId, at: at() });
    slaWatch = watchAcknowledgement(run);
    choice = await store.selectRunbook({ tenantId: run.tenantId, incidentId: run.incidentId, draft: input.draft, at: at() });
  }
  if (choice.selected) {
    run.state.runbook = { id: choice.selected.runbook.id, version: choice.selected.version };
    wf.upsertSearchAttributes([{ key: AireRunbook, value: choice.selected.runbook.id }]);
    await runRunbook(run, choice.selected.runbook, choice.brakes ?? []);
  }
  return { slaWatch };
}

/** A fresh history for a long-lived incident: memo (the incident id the API reads) and search attributes go along. */
async function continueAsNew(run: IncidentRun): Promise<never> {
  const info = wf.workflowInfo();
  run.record('history.continued', 'aire', { detail: { historyLength: info.historyLength, reason: 'Temporal suggested a fresh history' } });
  await run.recorder.drain();
  return wf.makeContinueAsNewFunc<typeof incidentWorkflow>({ memo: info.memo, typedSearchAttributes: info.typedSearchAttributes })(run.input, run.carry());
}

/** Ends a closed incident's run by starting the next incident in its place, with the events it took. */
function openSuccessor(successor: Successor): Promise<never> {
  const { memo, searchAttributes } = incidentRunAttributes(successor.input);
  const input: IncidentWorkflowInput = { ...successor.input, earlyEvents: { events: successor.events, more: successor.more } };
  return wf.makeContinueAsNewFunc<typeof incidentWorkflow>({ memo, typedSearchAttributes: searchAttributes })(input);
}
