import { type Pool, withTenant } from '../../db/pool';
import { type ApiKeyView, type CreatedKey, apiKeyNamed, authenticate, createApiKey, listApiKeys, revokeApiKey } from '../../db/tenants';
import { type Principal, type Role } from '../../domain/access';
import type { Deps } from '../deps';
import { conflict, notFound } from '../problem';

/**
 * API keys of the caller's tenant. A key is shown once, when created, and stored only as a hash;
 * a revoked key stops working on the next request (every request looks the key up).
 */
export async function createKey(deps: Deps, principal: Principal, name: string, roles: Role[]): Promise<CreatedKey> {
  return withTenant(deps.pool, principal.tenantId, async (c) => {
    if (await apiKeyNamed(c, name)) throw conflict(`a key named "${name}" exists`);
    return createApiKey(c, principal.tenantId, name, [...new Set(roles)]);
  });
}

export function listKeys(deps: Deps, principal: Principal): Promise<ApiKeyView[]> {
  return withTenant(deps.pool, principal.tenantId, listApiKeys);
}

export async function revokeKey(deps: Deps, principal: Principal, id: string): Promise<{ id: string; name: string; revokedAt: string }> {
  if (id === principal.keyId) throw conflict('a key cannot revoke itself: use another admin key');
  const revoked = await withTenant(deps.pool, principal.tenantId, (c) => revokeApiKey(c, id));
  if (!revoked) throw notFound(`key ${id}`);
  return revoked;
}

/** The principal an API key stands for, or null when it is unknown or revoked (a lookup by SHA-256 digest). */
export function principalForKey(pool: Pool, key: string): Promise<Principal | null> {
  return authenticate(pool, key);
}
