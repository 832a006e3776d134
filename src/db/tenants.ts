import { createHash, randomBytes } from 'node:crypto';
import { Pool, PoolClient } from 'pg';
import type { Principal, Role } from '../domain/access';
import { first } from '../domain/must';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new API key: 32 random bytes, prefixed so it is recognisable in a leaked log. */
export function generateKey(): string {
  return `aire_${randomBytes(32).toString('base64url')}`;
}

export async function authenticate(pool: Pool, key: string): Promise<Principal | null> {
  const { rows } = await pool.query<{ key_id: string; key_name: string; tenant_id: string; tenant_slug: string; roles: Role[] }>(
    'SELECT * FROM aire_authenticate($1)',
    [hashKey(key)],
  );
  const row = rows[0];
  if (!row) return null;
  return { keyId: row.key_id, keyName: row.key_name, tenantId: row.tenant_id, tenantSlug: row.tenant_slug, roles: row.roles };
}

export interface CreatedKey {
  id: string;
  name: string;
  roles: Role[];
  /** Shown once; only its hash is stored. */
  key: string;
}

/** Creates a key for the tenant the client's transaction acts for (or any tenant, as the schema owner). */
export async function createApiKey(client: Pool | PoolClient, tenantId: string, name: string, roles: Role[]): Promise<CreatedKey> {
  const key = generateKey();
  const { rows } = await client.query<{ id: string }>(
    'INSERT INTO api_keys (tenant_id, name, key_hash, key_prefix, roles) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [tenantId, name, hashKey(key), key.slice(0, 12), roles],
  );
  return { id: first(rows, 'the new API key').id, name, roles, key };
}

export interface Tenant {
  id: string;
  slug: string;
  name: string;
}

/** Creates a tenant, or returns the existing one with that slug. Needs the schema owner's connection. */
export async function ensureTenant(admin: Pool | PoolClient, slug: string, name: string): Promise<Tenant & { created: boolean }> {
  const inserted = await admin.query<Tenant>('INSERT INTO tenants (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING RETURNING id, slug, name', [
    slug,
    name,
  ]);
  if (inserted.rows[0]) return { ...inserted.rows[0], created: true };
  const existing = await admin.query<Tenant>('SELECT id, slug, name FROM tenants WHERE slug = $1', [slug]);
  return { ...first(existing.rows, `tenant ${slug}`), created: false };
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  roles: Role[];
  createdAt: string;
  revokedAt: string | null;
}

/** Whether the tenant of the client's transaction has a key of this name. */
export async function apiKeyNamed(client: PoolClient, name: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM api_keys WHERE name = $1', [name]);
  return (rowCount ?? 0) > 0;
}

export async function listApiKeys(client: PoolClient): Promise<ApiKeyView[]> {
  const { rows } = await client.query<ApiKeyView>(
    `SELECT id, name, key_prefix AS "prefix", roles, created_at AS "createdAt", revoked_at AS "revokedAt" FROM api_keys ORDER BY created_at, name`,
  );
  return rows;
}

/** Revokes the key (once: a second revocation keeps the first time); null when the tenant has no such key. */
export async function revokeApiKey(client: PoolClient, id: string): Promise<{ id: string; name: string; revokedAt: string } | null> {
  const { rows } = await client.query<{ id: string; name: string; revokedAt: string }>(
    `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING id, name, revoked_at AS "revokedAt"`,
    [id],
  );
  return rows[0] ?? null;
}

/** The id of the tenant with this slug, or null: the one lookup by slug, for requests that carry no API key (Slack's). */
export async function tenantIdBySlug(pool: Pool, slug: string): Promise<string | null> {
  const { rows } = await pool.query<{ id: string | null }>('SELECT aire_tenant_id($1) AS id', [slug]);
  return rows[0]?.id ?? null;
}
