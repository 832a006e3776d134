import { withTenant } from '../../db/pool';
import { getRunbook, insertRunbookVersion, latestRunbooks, listRunbookVersions } from '../../db/runbooks';
import type { Principal } from '../../domain/access';
import type { Runbook } from '../../domain/runbook';
import { actorOf } from '../auth';
import type { Deps } from '../deps';
import { conflict, notFound } from '../problem';

/** Runbooks as code, versioned: every change is a new version; a running incident keeps the one it started with. */
export function latestVersions(deps: Deps, principal: Principal) {
  return withTenant(deps.pool, principal.tenantId, latestRunbooks);
}

/** The runbook (its latest version, or `version`), or 404. */
export async function runbookVersion(deps: Deps, principal: Principal, id: string, version?: number) {
  const found = await withTenant(deps.pool, principal.tenantId, (c) => getRunbook(c, id, version));
  if (!found) throw notFound(`runbook ${id}${version ? ` version ${version}` : ''}`);
  return found;
}

export async function versionsOf(deps: Deps, principal: Principal, id: string) {
  const versions = await withTenant(deps.pool, principal.tenantId, (c) => listRunbookVersions(c, id));
  if (versions.length === 0) throw notFound(`runbook ${id}`);
  return versions;
}

/** A new runbook: 409 if one with its id exists (PUT adds versions). Answers its version, 1. */
export function createRunbook(deps: Deps, principal: Principal, runbook: Runbook): Promise<number> {
  return withTenant(deps.pool, principal.tenantId, async (c) => {
    if (await getRunbook(c, runbook.id)) throw conflict(`runbook ${runbook.id} exists; PUT /api/runbooks/${runbook.id} adds a version`);
    return insertRunbookVersion(c, principal.tenantId, runbook, actorOf(principal));
  });
}

/** Adds a version (the first creates the runbook). Answers the version number. */
export function addRunbookVersion(deps: Deps, principal: Principal, runbook: Runbook): Promise<number> {
  return withTenant(deps.pool, principal.tenantId, (c) => insertRunbookVersion(c, principal.tenantId, runbook, actorOf(principal)));
}

export async function runbookExists(deps: Deps, principal: Principal, id: string): Promise<boolean> {
  return (await withTenant(deps.pool, principal.tenantId, (c) => getRunbook(c, id))) !== null;
}
