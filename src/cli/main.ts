import { Command } from 'commander';
import { loadConfig } from '../config';
import { RoleSchema } from '../db/tenants';
import { bootstrap, createTenantWithKey, loadRunbooks, runMigrations } from './admin';

const program = new Command();
program
  .name('aire')
  .description('AIRE incident response and remediation engine: administration and operations')
  .showHelpAfterError();

const db = program.command('db').description('database schema');
db.command('migrate')
  .description('create the database if needed and apply db/ migrations in order (DATABASE_ADMIN_URL)')
  .action(async () => runMigrations(loadConfig()));

const admin = program.command('admin').description('tenants and keys, with the schema owner connection (DATABASE_ADMIN_URL)');
admin
  .command('bootstrap')
  .description('migrate, create the tenant if missing, and make sure KEY_FILE holds a working admin key')
  .requiredOption('--tenant <slug>', 'tenant slug, e.g. default')
  .requiredOption('--key-file <path>', 'where the admin key is kept')
  .action(async (opts: { tenant: string; keyFile: string }) => bootstrap(loadConfig(), opts.tenant, opts.keyFile));

admin
  .command('create-key')
  .description('create an API key for a tenant (creating the tenant if missing) and print it once')
  .requiredOption('--tenant <slug>', 'tenant slug')
  .requiredOption('--name <name>', 'a name for the key, shown in the audit trail as key:<name>')
  .option('--role <role...>', 'ingest, viewer, responder, approver, admin', ['viewer'])
  .action(async (opts: { tenant: string; name: string; role: string[] }) => {
    const roles = opts.role.map((r) => RoleSchema.parse(r));
    const { key } = await createTenantWithKey(loadConfig(), opts.tenant, opts.tenant, opts.name, roles);
    console.log(key.key);
  });

admin
  .command('load-runbooks')
  .description('load runbook files (YAML or JSON) for a tenant; unchanged ones are skipped')
  .requiredOption('--tenant <slug>', 'tenant slug')
  .option('--dir <path>', 'folder of runbook files', 'runbooks')
  .action(async (opts: { tenant: string; dir: string }) => loadRunbooks(loadConfig(), opts.tenant, opts.dir));

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`aire: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
