import { z } from 'zod';
import type { IncidentStatus } from './incident';

/*
 * The post-mortem people write about an incident (table postmortems): its narrative, its status
 * draft → in_review → published, and who took part. Pure: the API saves it (src/api/services/postmortems.ts),
 * the report shows it (src/domain/report.ts).
 */

export const POSTMORTEM_STATUSES = ['draft', 'in_review', 'published'] as const;
export const PostmortemStatusSchema = z.enum(POSTMORTEM_STATUSES);
export type PostmortemStatus = z.infer<typeof PostmortemStatusSchema>;

/** The fields people write, each a list of short entries, in the order they are written. */
export const NARRATIVE_FIELDS = ['contributingFactors', 'wentWell', 'wentBadly', 'lessons'] as const;
export type NarrativeField = (typeof NARRATIVE_FIELDS)[number];

const Entry = z.string().trim().min(1, 'write the entry, or leave it out of the list').max(2_000, 'keep an entry under 2000 characters');
export const NarrativeListSchema = z.array(Entry).max(100, 'at most 100 entries');

export const NarrativeSchema = z.object({
  contributingFactors: z.array(z.string()),
  wentWell: z.array(z.string()),
  wentBadly: z.array(z.string()),
  lessons: z.array(z.string()),
});
export type Narrative = z.infer<typeof NarrativeSchema>;
export const EMPTY_NARRATIVE: Narrative = { contributingFactors: [], wentWell: [], wentBadly: [], lessons: [] };

/**
 * The status lifecycle. A draft goes to review; a review goes back to draft (changes asked for) or is
 * published. Published is final: nobody edits it or moves it on, except an admin reopening it (to
 * draft or in_review), which is recorded like every save.
 */
export const POSTMORTEM_TRANSITIONS: Readonly<Record<PostmortemStatus, readonly PostmortemStatus[]>> = {
  draft: ['in_review'],
  in_review: ['draft', 'published'],
  published: [],
};

/** Incident statuses after which the post-mortem can be reviewed and published: the incident is over. */
export const REVIEWABLE_INCIDENT_STATUSES: readonly IncidentStatus[] = ['resolved', 'closed'];

export interface SaveContext {
  /** The caller is an admin: the only one who reopens a published post-mortem. */
  admin: boolean;
  incidentStatus: IncidentStatus;
  /** The save changes narrative fields too (not only the status). */
  editsNarrative: boolean;
}

/**
 * Why a save that moves the post-mortem from `from` to `to` is refused (a 409 naming `status`), or
 * undefined. Writing the draft needs nothing: people start while the incident is still open. Review
 * and publication wait until the incident is resolved or closed.
 */
export function postmortemRefusal(from: PostmortemStatus, to: PostmortemStatus, ctx: SaveContext): string | undefined {
  if (from === 'published') {
    if (to === 'published')
      return ctx.editsNarrative ? 'the post-mortem is published, which is final: an admin can reopen it (status draft or in_review)' : undefined;
    return ctx.admin ? undefined : 'the post-mortem is published, which is final: only an admin can reopen it';
  }
  if (from === to) return undefined;
  if (!POSTMORTEM_TRANSITIONS[from].includes(to)) {
    return `a post-mortem cannot go from ${from} to ${to} (from ${from}: ${POSTMORTEM_TRANSITIONS[from].join(', ')})`;
  }
  if (to !== 'draft' && !REVIEWABLE_INCIDENT_STATUSES.includes(ctx.incidentStatus)) {
    return `the incident is ${ctx.incidentStatus}: a post-mortem goes to ${to} once the incident is ${REVIEWABLE_INCIDENT_STATUSES.join(' or ')}`;
  }
  return undefined;
}

/** The narrative fields whose value differs, in NARRATIVE_FIELDS order. */
export function changedNarrativeFields(before: Narrative, after: Partial<Narrative>): NarrativeField[] {
  return NARRATIVE_FIELDS.filter((f) => after[f] !== undefined && JSON.stringify(after[f]) !== JSON.stringify(before[f]));
}

// ---- participants ----

/**
 * Who holds (or held) which incident role (commander, assignee, comms, scribe): from the incident
 * record's `roles` and the audit trail's `role.assigned` entries; participantsOf merges them with
 * the people the audit trail names.
 */
export const RoleAssignmentSchema = z.object({ role: z.string().min(1), person: z.string().min(1) });
export type RoleAssignment = z.infer<typeof RoleAssignmentSchema>;

export const ParticipantSchema = z.object({
  /** The person: `key:<name>` for an API key that acted, or the name a role was given to. */
  who: z.string(),
  /** Incident roles held (commander, assignee…), in the order they were given. */
  roles: z.array(z.string()),
  /** Entries of the audit trail written by this person. */
  actions: z.number().int().min(0),
  firstActionAt: z.string().nullable(),
  lastActionAt: z.string().nullable(),
});
export type Participant = z.infer<typeof ParticipantSchema>;

/**
 * Everyone who took part: each person the audit trail names (`isHuman` actors, in order of their
 * first action), then anyone holding a role who never acted, with the roles merged in.
 */
export function participantsOf(
  log: readonly { at: string; actor: string }[],
  roles: readonly RoleAssignment[],
  isHuman: (actor: string) => boolean,
): Participant[] {
  const byWho = new Map<string, Participant>();
  const of = (who: string): Participant => {
    let p = byWho.get(who);
    if (!p) byWho.set(who, (p = { who, roles: [], actions: 0, firstActionAt: null, lastActionAt: null }));
    return p;
  };
  for (const e of log) {
    if (!isHuman(e.actor)) continue;
    const p = of(e.actor);
    p.actions += 1;
    p.firstActionAt ??= e.at;
    p.lastActionAt = e.at;
  }
  for (const r of roles) {
    const p = of(r.person);
    if (!p.roles.includes(r.role)) p.roles.push(r.role);
  }
  return [...byWho.values()];
}

// ---- the stored post-mortem, as the API answers it ----

export const PostmortemSchema = z.object({
  incidentId: z.uuid(),
  status: PostmortemStatusSchema,
  narrative: NarrativeSchema,
  /** When the review is due (critical and high incidents, from their resolution); null when none is scheduled. */
  reviewDueAt: z.string().nullable(),
  /** When the channels were reminded that the review is due. */
  reviewRemindedAt: z.string().nullable(),
  publishedAt: z.string().nullable(),
  publishedBy: z.string().nullable(),
  /** null while nobody has written it (a row made by scheduling the review only). */
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});
export type Postmortem = z.infer<typeof PostmortemSchema>;

/** The post-mortem of an incident nobody has written yet. */
export function emptyPostmortem(incidentId: string): Postmortem {
  return {
    incidentId,
    status: 'draft',
    narrative: EMPTY_NARRATIVE,
    reviewDueAt: null,
    reviewRemindedAt: null,
    publishedAt: null,
    publishedBy: null,
    updatedAt: null,
    updatedBy: null,
  };
}
