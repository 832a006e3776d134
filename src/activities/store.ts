import type { ActionKind } from '../domain/action-kinds';
import type { Config } from '../config';
import { IncidentUpdate, StepRow, StepUpdate, appendLog, insertApproval, insertIncident, planSteps, updateIncident, upsertStep } from '../db/incidents';
import { Pool, PoolClient, withTenant } from '../db/pool';
import { checkBrakes } from '../db/brakes';
import { getRunbook, latestRunbooks } from '../db/runbooks';
import { IncidentDraft } from '../domain/incident';
import { rankRunbooks } from '../domain/analysis';
import { selectRunbook as choose } from '../domain/matching';
import { redact } from '../domain/redact';
import { RunbookVersion } from '../domain/runbook';
import type { IncidentWorkflowInput } from '../domain/workflow-input';
import { Observation, observationsOf, observe } from './transition-metrics';

export interface StoreDeps {
  pool: Pool;
  config: Config;
}

/** One state change of an incident, written atomically: incident row, step row, approval, audit entry. */
export interface Transition {
  tenantId: string;
  incidentId: string;
  /** The workflow's transition counter: makes a retried write a no-op. */
  seq: number;
  at: string;
  kind: ActionKind;
  actor: string;
  stepId?: string;
  detail?: Record<string, unknown>;
  incident?: Omit<IncidentUpdate, 'at'>;
  step?: { row: StepRow; update: Omit<StepUpdate, 'at'> };
  /** Steps to show as pending from now on. */
  plan?: StepRow[];
  approval?: { stepId: string | null; decision: 'approve' | 'reject'; approver: string; reason?: string };
}

export interface RunbookChoice {
  selected: RunbookVersion | null;
  reasons: string[];
  /** Why the runbook may not run alone (limits, an open circuit breaker); absent in older histories. */
  brakes?: string[];
}

type OpeningInput = IncidentWorkflowInput & { workflowId: string; at: string };
type SelectionInput = { tenantId: string; incidentId: string; draft: IncidentDraft; at: string };

/**
 * Writes one transition in the caller's transaction, once: the audit entry, keyed by the transition
 * number, goes first, and the rest is applied only if it was new. An activity may run more than once
 * for one transition (a retry after the worker died with the write done but not reported; a step
 * that carried it and was retried), and applying a status again after later transitions would turn
 * the incident back. What it writes is absolute anyway (statuses, first-time stamps, the occurrence
 * total), never an increment. Returns false when it was already written. A new transition adds its
 * metrics to `observed`, for the caller to count once the transaction has committed.
 */
export async function writeTransition(client: PoolClient, t: Transition, sensitive: readonly string[], observed?: Observation[]): Promise<boolean> {
  const fresh = await appendLog(client, {
    tenantId: t.tenantId,
    incidentId: t.incidentId,
    eventKey: `t:${t.seq}`,
    kind: t.kind,
    actor: t.actor,
    stepId: t.stepId,
    at: t.at,
    detail: redact(t.detail ?? {}, sensitive),
  });
  if (!fresh) return false;
  if (t.incident) await updateIncident(client, t.incidentId, { ...t.incident, at: t.at });
  if (t.plan) await planSteps(client, t.tenantId, t.incidentId, t.plan);
  if (t.step) await upsertStep(client, t.tenantId, t.incidentId, t.step.row, { ...t.step.update, at: t.at });
  if (t.approval) {
    await insertApproval(client, { tenantId: t.tenantId, incidentId: t.incidentId, ...t.approval, eventKey: `t:${t.seq}`, at: t.at });
  }
  if (observed) observed.push(...(await observationsOf(client, t)));
  return true;
}

export function createStoreActivities(deps: StoreDeps) {
  const sensitive = deps.config.AIRE_SENSITIVE_KEYS;

  async function writeIncident(client: PoolClient, input: OpeningInput): Promise<void> {
    await insertIncident(client, {
      id: input.incidentId,
      tenantId: input.tenantId,
      workflowId: input.workflowId,
      declaredBy: input.declaredBy,
      draft: input.draft,
    });
    await appendLog(client, {
      tenantId: input.tenantId,
      incidentId: input.incidentId,
      eventKey: 'incident.opened',
      kind: 'incident.opened',
      actor: input.declaredBy,
      at: input.at,
      detail: redact(
        { severity: input.draft.severity, source: input.draft.source, dedupKey: input.draft.dedupKey, severityReasons: input.draft.severityReasons },
        sensitive,
      ),
    });
  }

  async function chooseRunbook(client: PoolClient, input: SelectionInput, observed: Observation[]): Promise<RunbookChoice> {
    const candidates = input.draft.runbookId
      ? [await getRunbook(client, input.draft.runbookId)].filter((r): r is NonNullable<typeof r> => r !== null)
      : await latestRunbooks(client);
    const choice = choose(candidates, input.draft);
    const suggestions = rankRunbooks(input.draft.runbookId ? await latestRunbooks(client) : candidates, input.draft);
    await updateIncident(client, input.incidentId, { at: input.at, suggestions });
    const selected = choice.selected ? { runbook: choice.selected.runbook, version: choice.selected.version } : null;
    if (selected) await updateIncident(client, input.incidentId, { at: input.at, runbook: { id: selected.runbook.id, version: selected.version } });
    const brakes = selected ? await checkBrakes(client, input.tenantId, input.incidentId, selected.runbook, input.draft.affectedServices) : null;
    if (brakes?.opened) {
      const fresh = await appendLog(client, {
        tenantId: input.tenantId,
        incidentId: input.incidentId,
        eventKey: 'breaker.opened',
        kind: 'breaker.opened',
        actor: 'aire',
        at: input.at,
        detail: { ...brakes.opened },
      });
      if (fresh) observed.push({ metric: 'breaker' });
    }
    await appendLog(client, {
      tenantId: input.tenantId,
      incidentId: input.incidentId,
      eventKey: 'runbook.selected',
      kind: selected ? 'runbook.selected' : 'runbook.none',
      actor: 'aire',
      at: input.at,
      detail: {
        reasons: choice.reasons,
        brakes: brakes?.reasons ?? [],
        suggestions,
        ...(selected ? { runbookId: selected.runbook.id, version: selected.version } : {}),
      },
    });
    return { selected, reasons: choice.reasons, brakes: brakes?.reasons ?? [] };
  }

  /**
   * The incident's first write: its row and first audit entry, then the runbook chosen (in an
   * activity, so the choice and the version pinned are in the history), in one transaction.
   */
  async function recordIncidentAndChooseRunbook(input: OpeningInput): Promise<RunbookChoice> {
    const observed: Observation[] = [];
    const choice = await withTenant(deps.pool, input.tenantId, async (client) => {
      await writeIncident(client, input);
      return chooseRunbook(client, { tenantId: input.tenantId, incidentId: input.incidentId, draft: input.draft, at: input.at }, observed);
    });
    observe(observed);
    return choice;
  }

  /** Transitions in their order, in one transaction (the workflow sends what queued while the last write ran). */
  async function recordTransitions(transitions: Transition[]): Promise<void> {
    const [earliest] = transitions;
    if (earliest === undefined) return;
    const observed: Observation[] = [];
    await withTenant(deps.pool, earliest.tenantId, async (client) => {
      for (const t of transitions) await writeTransition(client, t, sensitive, observed);
    });
    observe(observed);
  }

  // recordIncident and selectRunbook: how incidents from before BATCHED_STORE_PATCH open (src/workflows/incident/options.ts).
  async function recordIncident(input: OpeningInput): Promise<void> {
    await withTenant(deps.pool, input.tenantId, (client) => writeIncident(client, input));
  }

  async function selectRunbook(input: SelectionInput): Promise<RunbookChoice> {
    const observed: Observation[] = [];
    const choice = await withTenant(deps.pool, input.tenantId, (client) => chooseRunbook(client, input, observed));
    observe(observed);
    return choice;
  }

  async function recordTransition(t: Transition): Promise<void> {
    const observed: Observation[] = [];
    await withTenant(deps.pool, t.tenantId, (client) => writeTransition(client, t, sensitive, observed));
    observe(observed);
  }

  return { recordIncidentAndChooseRunbook, recordTransitions, recordIncident, selectRunbook, recordTransition };
}

export type StoreActivities = ReturnType<typeof createStoreActivities>;
