import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { validateRunbook } from '../activities/runbook-validation';
import type { Config } from '../config';
import { ensureDatabase, migrate } from '../db/migrate';
import { createPool, withTenant } from '../db/pool';
import { getRunbook, insertRunbookVersion } from '../db/runbooks';
import { Role, authenticate, createApiKey, ensureTenant } from '../db/tenants';

/** Work done with the schema owner's connection (DATABASE_ADMIN_URL): schema, tenants, first keys. */

export async function runMigrations(config: Config): Promise<void> {
  await ensureDatabase(config.DATABASE_ADMIN_URL);
  const result = await migrate(config.DATABASE_ADMIN_URL);
  console.error(`migrations: ${result.applied.length} applied${result.applied.length ? ` (${result.applied.join(', ')})` : ''}, ${result.skipped.length} already in place`);
}

export async function createTenantWithKey(config: Config, slug: string, name: string, keyName: string, roles: Role[]) {
  const admin = createPool(config.DATABASE_ADMIN_URL, 1);
  try {
    const tenant = await ensureTenant(admin, slug, name);
    const key = await createApiKey(admin, tenant.id, keyName, roles);
    return { tenant, key };
  } finally {
    await admin.end();
  }
}

/**
 * Makes sure the tenant exists and `keyFile` holds a working admin key for it. Re-running keeps the
 * existing key, so the dev command can run every time.
 */
export async function bootstrap(config: Config, slug: string, keyFile: string): Promise<void> {
  await runMigrations(config);
  if (existsSync(keyFile)) {
    const app = createPool(config.DATABASE_URL, 1);
    try {
      const principal = await authenticate(app, readFileSync(keyFile, 'utf8').trim());
      if (principal?.tenantSlug === slug && principal.roles.includes('admin')) {
        console.error(`tenant "${slug}" ready; admin key in ${keyFile}`);
        return;
      }
    } finally {
      await app.end();
    }
  }
  const { tenant, key } = await createTenantWithKey(config, slug, slug, `admin-${Date.now()}`, ['admin']);
  writeFileSync(keyFile, `${key.key}\n`, { mode: 0o600 });
  console.error(`tenant "${tenant.slug}" ${tenant.created ? 'created' : 'ready'}; new admin key "${key.name}" written to ${keyFile}`);
}

/** Loads every runbook file in `dir` for the tenant, adding a version only where the definition changed. */
export async function loadRunbooks(config: Config, slug: string, dir: string): Promise<void> {
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json')).sort();
  const admin = createPool(config.DATABASE_ADMIN_URL, 1);
  const app = createPool(config.DATABASE_URL, 1);
  try {
    const tenant = (await admin.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [slug])).rows[0];
    if (!tenant) throw new Error(`no tenant "${slug}"`);
    for (const file of files) {
      const runbook = validateRunbook(parseYaml(readFileSync(join(dir, file), 'utf8')));
      const version = await withTenant(app, tenant.id, async (c) => {
        const current = await getRunbook(c, runbook.id);
        if (current && JSON.stringify(current.runbook) === JSON.stringify(runbook)) return null;
        return insertRunbookVersion(c, tenant.id, runbook, `file:${file}`);
      });
      console.error(version === null ? `runbook ${runbook.id}: unchanged` : `runbook ${runbook.id}: version ${version} from ${file}`);
    }
  } finally {
    await Promise.all([admin.end(), app.end()]);
  }
}
