import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { validateAnyRunbook } from '../domain/seed-runbook-validation';
import type { Config } from '../config';
import { ensureDatabase, migrate } from '../db/migrate';
import { createPool, withTenant } from '../db/pool';
import { getRule, putRule } from '../db/rules';
import { getRunbook, insertRunbookVersion } from '../db/runbooks';
import { authenticate, createApiKey, ensureTenant } from '../db/tenants';
import { Role } from '../domain/access';
import { Rule, RuleSchema } from '../domain/rules';
import { saveTenantSettings, tenantSettings } from '../db/tenant-settings';
import { TenantSettingsSchema } from '../domain/tenant-settings';
import { fieldErrors } from '../domain/validation';

/** Work done with the schema owner's connection (DATABASE_ADMIN_URL): schema, tenants, first keys. */

export async function runMigrations(config: Config): Promise<void> {
  await ensureDatabase(config.DATABASE_ADMIN_URL);
  const result = await migrate(config.DATABASE_ADMIN_URL);
  console.error(
    `migrations: ${result.applied.length} applied${result.applied.length ? ` (${result.applied.join(', ')})` : ''}, ${result.skipped.length} already in place`,
  );
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
  const files = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'))
    .sort();
  const admin = createPool(config.DATABASE_ADMIN_URL, 1);
  const app = createPool(config.DATABASE_URL, 1);
  try {
    const tenant = (await admin.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [slug])).rows[0];
    if (!tenant) throw new Error(`no tenant "${slug}"`);
    for (const file of files) {
      const runbook = validateAnyRunbook(parseYaml(readFileSync(join(dir, file), 'utf8')));
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

/**
 * Loads every detection rule file (YAML or JSON) in `dir` for the tenant. Every file is validated
 * first, and nothing is written if one is invalid: the error names the file and the path in it
 * (`rules/x.yaml: match[1].value: …`). Unchanged rules are skipped, and a rule disabled through the
 * API stays disabled until its file changes.
 */
export async function loadRules(config: Config, slug: string, dir: string): Promise<void> {
  const files = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'))
    .sort();
  const rules: { file: string; rule: Rule }[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(join(dir, file), 'utf8'));
    } catch (err) {
      problems.push(`${join(dir, file)}: not valid YAML: ${(err as Error).message}`);
      continue;
    }
    const parsed = RuleSchema.safeParse(raw);
    if (parsed.success) rules.push({ file, rule: parsed.data });
    else problems.push(...fieldErrors(parsed.error).map((e) => `${join(dir, file)}: ${e.path}: ${e.message}`));
  }
  if (problems.length > 0) throw new Error(`invalid rule files, nothing loaded:\n  ${problems.join('\n  ')}`);
  const admin = createPool(config.DATABASE_ADMIN_URL, 1);
  const app = createPool(config.DATABASE_URL, 1);
  try {
    const tenant = (await admin.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [slug])).rows[0];
    if (!tenant) throw new Error(`no tenant "${slug}"`);
    for (const { file, rule } of rules) {
      const outcome = await withTenant(app, tenant.id, async (c) => {
        const current = await getRule(c, rule.id);
        if (current && JSON.stringify({ ...current.rule, enabled: rule.enabled }) === JSON.stringify(rule)) return 'unchanged';
        const { created } = await putRule(c, tenant.id, rule, `file:${file}`);
        return created ? `created from ${file}` : `updated from ${file}`;
      });
      console.error(`rule ${rule.id}: ${outcome}`);
    }
  } finally {
    await Promise.all([admin.end(), app.end()]);
  }
}

/**
 * Gives the tenant a default on-call channel (a webhook to `url`) when it has none, so an
 * unacknowledged critical or high incident pages someone even before escalation tiers are set.
 * Settings people wrote are left alone.
 */
export async function defaultOnCall(config: Config, slug: string, url: string): Promise<void> {
  const admin = createPool(config.DATABASE_ADMIN_URL, 1);
  const app = createPool(config.DATABASE_URL, 1);
  try {
    const tenant = (await admin.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [slug])).rows[0];
    if (!tenant) throw new Error(`no tenant "${slug}"`);
    const settings = await tenantSettings(app, tenant.id);
    if (settings.onCall) {
      console.error(`tenant "${slug}" pages channel "${settings.onCall.channel}" already`);
      return;
    }
    const name = settings.channels.some((c) => c.name === 'on-call') ? `on-call-${Date.now()}` : 'on-call';
    const channel = {
      name,
      target: { url },
      minSeverity: 'high' as const,
      events: ['page' as const, 'sla.breached' as const, 'escalation' as const],
      audience: 'internal' as const,
    };
    const next = TenantSettingsSchema.parse({ ...settings, channels: [...settings.channels, channel], onCall: { channel: name } });
    await saveTenantSettings(app, tenant.id, next);
    console.error(`tenant "${slug}" pages channel "${name}" (${url}) when a critical or high incident is not acknowledged in time`);
  } finally {
    await Promise.all([admin.end(), app.end()]);
  }
}
