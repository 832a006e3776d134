import { randomUUID } from 'node:crypto';
import { appendLog, getIncident } from '../../db/incidents';
import { withTenant } from '../../db/pool';
import { lockPostmortem, writePostmortem } from '../../db/postmortems';
import type { Principal } from '../../domain/access';
import { type Narrative, type Postmortem, type PostmortemStatus, NARRATIVE_FIELDS, changedNarrativeFields, postmortemRefusal } from '../../domain/postmortem';
import { actorOf } from '../auth';
import type { Deps } from '../deps';
import { HttpProblem, notFound } from '../problem';

/** What a save sends: any narrative fields (left out: unchanged) and the status to move to. */
export type PostmortemSave = Partial<Narrative> & { status?: PostmortemStatus };

export interface SavedPostmortem extends Postmortem {
  /** What this save changed, in field order (`status` last): empty when it changed nothing. */
  changed: string[];
}

/**
 * Writes the post-mortem of an incident, in one transaction under a lock on its row: two saves at
 * once take turns, each applied to what the other left (last one wins per field), each recorded.
 * A save that changes something appends `postmortem.saved` to the audit trail with who and which
 * fields; a refused transition is a 409 naming `status`, and writes nothing.
 */
export async function savePostmortem(deps: Deps, principal: Principal, incidentId: string, save: PostmortemSave): Promise<SavedPostmortem> {
  const actor = actorOf(principal);
  const saved = await withTenant(deps.pool, principal.tenantId, async (c) => {
    const incident = await getIncident(c, incidentId);
    if (!incident) return null;
    const before = await lockPostmortem(c, incidentId);
    if (!before) return null;
    const narrativeChanged = changedNarrativeFields(before.narrative, save);
    const to = save.status ?? before.status;
    const refusal = postmortemRefusal(before.status, to, {
      admin: principal.roles.includes('admin'),
      incidentStatus: incident.status,
      editsNarrative: narrativeChanged.length > 0,
    });
    if (refusal) throw new HttpProblem(409, 'Conflict', refusal, [{ path: 'status', message: refusal }]);
    const changed: string[] = [...narrativeChanged, ...(to !== before.status ? ['status'] : [])];
    if (changed.length === 0) return { ...before, changed };

    const narrative = Object.fromEntries(NARRATIVE_FIELDS.map((f) => [f, save[f] ?? before.narrative[f]])) as Narrative;
    const after = await writePostmortem(c, incidentId, { status: to, narrative, actor, publishedBy: to === 'published' ? actor : null });
    await appendLog(c, {
      tenantId: principal.tenantId,
      incidentId,
      eventKey: `postmortem:${randomUUID()}`,
      kind: 'postmortem.saved',
      actor,
      detail: { changed, from: before.status, to },
    });
    return { ...after, changed };
  });
  if (!saved) throw notFound(`incident ${incidentId}`);
  return saved;
}
