import { PoolClient } from 'pg';
import { first } from '../domain/must';
import { Rule, RuleSchema } from '../domain/rules';

/** Detection rules and their durable, replica-safe hit counts. Every call runs inside withTenant (RLS). */

interface RuleRow {
  id: string;
  definition: unknown;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  created_by: string;
  updated_by: string;
}

export interface StoredRule {
  rule: Rule;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  updatedBy: string;
}

// Parsing a definition compiles and checks its regexes; an unchanged definition is parsed once.
const parsed = new Map<string, Rule>();

function parseDefinition(definition: unknown, enabled: boolean): Rule {
  const key = `${enabled}:${JSON.stringify(definition)}`;
  let rule = parsed.get(key);
  if (!rule) {
    rule = { ...RuleSchema.parse(definition), enabled };
    if (parsed.size >= 500) parsed.delete(parsed.keys().next().value as string);
    parsed.set(key, rule);
  }
  return rule;
}

function toStored(row: RuleRow): StoredRule {
  return {
    rule: parseDefinition(row.definition, row.enabled),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    createdBy: row.created_by,
    updatedBy: row.updated_by,
  };
}

const COLUMNS = 'id, definition, enabled, created_at, updated_at, created_by, updated_by';

export async function listRules(client: PoolClient, options: { enabledOnly?: boolean } = {}): Promise<StoredRule[]> {
  const { rows } = await client.query<RuleRow>(`SELECT ${COLUMNS} FROM rules ${options.enabledOnly ? 'WHERE enabled' : ''} ORDER BY id`);
  return rows.map(toStored);
}

export async function getRule(client: PoolClient, id: string): Promise<StoredRule | null> {
  const { rows } = await client.query<RuleRow>(`SELECT ${COLUMNS} FROM rules WHERE id = $1`, [id]);
  return rows[0] ? toStored(rows[0]) : null;
}

/**
 * Creates the rule or replaces it. Counts already made stay, unless the correlation field changed:
 * then they were counted per another field and are dropped.
 */
export async function putRule(client: PoolClient, tenantId: string, rule: Rule, actor: string): Promise<{ stored: StoredRule; created: boolean }> {
  const before = await client.query<{ correlate_by: string | null }>(`SELECT definition->>'correlateBy' AS correlate_by FROM rules WHERE id = $1 FOR UPDATE`, [
    rule.id,
  ]);
  const { rows } = await client.query<RuleRow & { inserted: boolean }>(
    `INSERT INTO rules (tenant_id, id, definition, enabled, created_by, updated_by)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (tenant_id, id) DO UPDATE
       SET definition = EXCLUDED.definition, enabled = EXCLUDED.enabled, updated_at = now(), updated_by = EXCLUDED.updated_by
     RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
    [tenantId, rule.id, JSON.stringify(rule), rule.enabled, actor],
  );
  const previous = before.rows[0];
  if (previous && (previous.correlate_by ?? null) !== (rule.correlateBy ?? null)) await client.query('DELETE FROM rule_hits WHERE rule_id = $1', [rule.id]);
  const row = first(rows, `the stored rule ${rule.id}`);
  return { stored: toStored(row), created: row.inserted };
}

/** Disables a rule (it stays listed, and can be enabled again with PUT) and drops its counts. */
export async function disableRule(client: PoolClient, id: string, actor: string): Promise<StoredRule | null> {
  const { rows } = await client.query<RuleRow>(
    `UPDATE rules SET enabled = false, definition = jsonb_set(definition, '{enabled}', 'false'), updated_at = now(), updated_by = $2
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, actor],
  );
  if (!rows[0]) return null;
  await client.query('DELETE FROM rule_hits WHERE rule_id = $1', [id]);
  return toStored(rows[0]);
}

export interface HitInput {
  ruleId: string;
  correlation: string;
  eventId: string;
  windowMs: number;
  /** The dedup key of the rule's incident for this correlation value. */
  dedupKey: string;
}

export interface HitCount {
  /** Hits of this rule and correlation value within the window, this one included. */
  count: number;
  /** false when the event was counted before (same event id): it is not counted twice. */
  recorded: boolean;
  /** The open (not closed) incident with the dedup key, if any: later hits join it whatever the count. */
  openIncidentId: string | null;
}

/** One in this many hits also prunes the rule's stale hits of every correlation value. */
const FULL_PRUNE_EVERY = 50;

/**
 * Records one hit and counts the window, in the caller's transaction. A transaction-scoped advisory
 * lock on (tenant, rule, correlation) serialises concurrent hits of the same key across every API
 * process, so each sees the hits committed before it: two processes cannot both count N-1 and let
 * the threshold pass unnoticed, nor both count N. The time is read after the lock is held.
 */
export async function recordHit(client: PoolClient, tenantId: string, hit: HitInput): Promise<HitCount> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [`aire.rule_hits:${tenantId}`, `${hit.ruleId}/${hit.correlation}`]);
  const { rows: nowRows } = await client.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  const now = first(nowRows, 'the clock').now;
  const inserted = await client.query(
    `INSERT INTO rule_hits (tenant_id, rule_id, correlation, at, event_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, rule_id, correlation, event_id) DO NOTHING`,
    [tenantId, hit.ruleId, hit.correlation, now, hit.eventId],
  );
  const windowStart = new Date(now.getTime() - hit.windowMs);
  const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM rule_hits WHERE rule_id = $1 AND correlation = $2 AND at >= $3', [
    hit.ruleId,
    hit.correlation,
    windowStart,
  ]);
  // Opportunistic pruning: what is older than the window is never counted again. SKIP LOCKED: rows
  // another transaction is pruning are left to it (no waiting, no deadlock between pruners).
  const everyCorrelation = Math.floor(Math.random() * FULL_PRUNE_EVERY) === 0;
  await client.query(
    `DELETE FROM rule_hits WHERE (tenant_id, rule_id, correlation, event_id) IN (
       SELECT tenant_id, rule_id, correlation, event_id FROM rule_hits
        WHERE rule_id = $1 AND ($2::text IS NULL OR correlation = $2) AND at < $3
        LIMIT 1000 FOR UPDATE SKIP LOCKED)`,
    [hit.ruleId, everyCorrelation ? null : hit.correlation, windowStart],
  );
  const open = await client.query<{ id: string }>(`SELECT id FROM incidents WHERE dedup_key = $1 AND status <> 'closed' ORDER BY created_at DESC LIMIT 1`, [
    hit.dedupKey,
  ]);
  return { count: first(rows, 'the count of rule hits').count, recorded: inserted.rowCount === 1, openIncidentId: open.rows[0]?.id ?? null };
}
