import type { PoolClient } from 'pg';
import type { Narrative, Postmortem, PostmortemStatus } from '../domain/postmortem';

/*
 * The post-mortem of an incident (table postmortems, one row per incident, made on first write).
 * Every function runs inside withTenant: row-level security confines it to the tenant, so another
 * tenant's incident is simply absent.
 */

type Row = Record<string, unknown>;

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : null);

function toPostmortem(r: Row): Postmortem {
  return {
    incidentId: r.incident_id as string,
    status: r.status as PostmortemStatus,
    narrative: {
      contributingFactors: r.contributing_factors as string[],
      wentWell: r.went_well as string[],
      wentBadly: r.went_badly as string[],
      lessons: r.lessons as string[],
    },
    reviewDueAt: iso(r.review_due_at),
    reviewRemindedAt: iso(r.review_reminded_at),
    publishedAt: iso(r.published_at),
    publishedBy: r.published_by as string | null,
    // A row only the review workflow wrote has no author yet: it counts as unwritten.
    updatedAt: r.updated_by === null ? null : iso(r.updated_at),
    updatedBy: r.updated_by as string | null,
  };
}

export async function getPostmortem(client: PoolClient, incidentId: string): Promise<Postmortem | null> {
  const { rows } = await client.query<Row>('SELECT * FROM postmortems WHERE incident_id = $1', [incidentId]);
  return rows[0] ? toPostmortem(rows[0]) : null;
}

/** Makes the row if the incident is visible and has none; the tenant is taken from the incident row. */
async function ensureRow(client: PoolClient, incidentId: string): Promise<void> {
  await client.query(
    `INSERT INTO postmortems (incident_id, tenant_id) SELECT i.id, i.tenant_id FROM incidents i WHERE i.id = $1
     ON CONFLICT (incident_id) DO NOTHING`,
    [incidentId],
  );
}

/**
 * The post-mortem, locked until the transaction ends (made first if needed): two saves at once
 * take turns, so each sees what the other wrote and no field update is lost. Null when the
 * incident is not visible.
 */
export async function lockPostmortem(client: PoolClient, incidentId: string): Promise<Postmortem | null> {
  await ensureRow(client, incidentId);
  const { rows } = await client.query<Row>('SELECT * FROM postmortems WHERE incident_id = $1 FOR UPDATE', [incidentId]);
  return rows[0] ? toPostmortem(rows[0]) : null;
}

export interface PostmortemWrite {
  status: PostmortemStatus;
  narrative: Narrative;
  actor: string;
  /** Who publishes it, when `status` is published (a post-mortem already published keeps its stamp); null clears the stamp (reopened). */
  publishedBy: string | null;
}

export async function writePostmortem(client: PoolClient, incidentId: string, w: PostmortemWrite): Promise<Postmortem> {
  const { rows } = await client.query<Row>(
    `UPDATE postmortems SET status = $2, contributing_factors = $3::jsonb, went_well = $4::jsonb, went_badly = $5::jsonb, lessons = $6::jsonb,
            published_at = CASE WHEN $7::text IS NULL THEN NULL WHEN status = 'published' THEN published_at ELSE now() END,
            published_by = CASE WHEN $7::text IS NULL THEN NULL WHEN status = 'published' THEN published_by ELSE $7 END,
            updated_at = now(), updated_by = $8
      WHERE incident_id = $1 RETURNING *`,
    [
      incidentId,
      w.status,
      JSON.stringify(w.narrative.contributingFactors),
      JSON.stringify(w.narrative.wentWell),
      JSON.stringify(w.narrative.wentBadly),
      JSON.stringify(w.narrative.lessons),
      w.publishedBy,
      w.actor,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error(`postmortem of incident ${incidentId} vanished inside its own transaction`);
  return toPostmortem(row);
}

/** Records the review date (the latest scheduling wins); false when the incident is not visible. */
export async function scheduleReview(client: PoolClient, incidentId: string, dueAt: string): Promise<boolean> {
  await ensureRow(client, incidentId);
  const { rowCount } = await client.query('UPDATE postmortems SET review_due_at = $2, review_reminded_at = NULL WHERE incident_id = $1', [incidentId, dueAt]);
  return rowCount === 1;
}

export async function markReviewReminded(client: PoolClient, incidentId: string): Promise<void> {
  await client.query('UPDATE postmortems SET review_reminded_at = now() WHERE incident_id = $1', [incidentId]);
}
