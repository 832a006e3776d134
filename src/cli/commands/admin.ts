import { Command } from 'commander';

/**
 * `aire db migrate` and `aire admin …`: work done with the schema owner's connection
 * (DATABASE_ADMIN_URL), not through the API. Their modules load only when one of them runs, so the
 * API commands start without the database and activity code.
 */
export function registerAdminCommands(program: Command): void {
  const db = program.command('db').description('database schema').addHelpText('after', '\nExample:\n  $ aire db migrate');
  db.command('migrate')
    .description('create the database if needed and apply db/ migrations in order (DATABASE_ADMIN_URL)')
    .addHelpText('after', '\nExample:\n  $ DATABASE_ADMIN_URL=postgres://postgres@127.0.0.1:5432/aire aire db migrate')
    .action(async () => {
      const [{ loadConfig }, { runMigrations }] = await Promise.all([import('../../config'), import('../admin')]);
      await runMigrations(loadConfig());
    });

  const admin = program
    .command('admin')
    .description('tenants and keys, with the schema owner connection (DATABASE_ADMIN_URL)')
    .addHelpText('after', '\nExample:\n  $ aire admin create-key --tenant acme --name alertmanager --role ingest');
  admin
    .command('bootstrap')
    .description('migrate, create the tenant if missing, and make sure KEY_FILE holds a working admin key')
    .requiredOption('--tenant <slug>', 'tenant slug, e.g. default')
    .requiredOption('--key-file <path>', 'where the admin key is kept')
    .addHelpText('after', '\nExample:\n  $ aire admin bootstrap --tenant default --key-file .aire/admin.key')
    .action(async (opts: { tenant: string; keyFile: string }) => {
      const [{ loadConfig }, { bootstrap }] = await Promise.all([import('../../config'), import('../admin')]);
      await bootstrap(loadConfig(), opts.tenant, opts.keyFile);
    });

  admin
    .command('default-on-call')
    .description('give the tenant an on-call channel to page when a critical or high incident is not acknowledged in time, unless it has one')
    .requiredOption('--tenant <slug>', 'tenant slug')
    .requiredOption('--url <url>', 'the webhook the page is posted to')
    .addHelpText('after', '\nExample:\n  $ aire admin default-on-call --tenant default --url http://127.0.0.1:8099/page')
    .action(async (opts: { tenant: string; url: string }) => {
      const [{ loadConfig }, { defaultOnCall }] = await Promise.all([import('../../config'), import('../admin')]);
      await defaultOnCall(loadConfig(), opts.tenant, opts.url);
    });

  admin
    .command('create-key')
    .description('create an API key for a tenant (creating the tenant if missing) and print it once')
    .requiredOption('--tenant <slug>', 'tenant slug')
    .requiredOption('--name <name>', 'a name for the key, shown in the audit trail as key:<name>')
    .option('--role <role...>', 'ingest, viewer, responder, approver, admin', ['viewer'])
    .addHelpText('after', '\nExample:\n  $ aire admin create-key --tenant acme --name oncall --role responder approver')
    .action(async (opts: { tenant: string; name: string; role: string[] }) => {
      const [{ loadConfig }, { createTenantWithKey }, { ROLES, RoleSchema }] = await Promise.all([
        import('../../config'),
        import('../admin'),
        import('../../domain/access'),
      ]);
      const unknown = opts.role.filter((r) => !RoleSchema.safeParse(r).success);
      if (unknown.length > 0) throw new Error(`unknown role ${unknown.join(', ')}: use ${ROLES.join(', ')}`);
      const roles = opts.role.map((r) => RoleSchema.parse(r));
      const { key } = await createTenantWithKey(loadConfig(), opts.tenant, opts.tenant, opts.name, roles);
      console.log(key.key);
    });

  admin
    .command('load-runbooks')
    .description('load runbook files (YAML or JSON) for a tenant; unchanged ones are skipped')
    .requiredOption('--tenant <slug>', 'tenant slug')
    .option('--dir <path>', 'folder of runbook files', 'runbooks')
    .addHelpText('after', '\nExample:\n  $ aire admin load-runbooks --tenant acme --dir runbooks')
    .action(async (opts: { tenant: string; dir: string }) => {
      const [{ loadConfig }, { loadRunbooks }] = await Promise.all([import('../../config'), import('../admin')]);
      await loadRunbooks(loadConfig(), opts.tenant, opts.dir);
    });

  admin
    .command('load-rules')
    .description('load detection rule files (YAML or JSON) for a tenant; all are validated first, unchanged ones are skipped')
    .requiredOption('--tenant <slug>', 'tenant slug')
    .option('--dir <path>', 'folder of rule files', 'rules')
    .addHelpText('after', '\nExample:\n  $ aire admin load-rules --tenant acme --dir rules')
    .action(async (opts: { tenant: string; dir: string }) => {
      const [{ loadConfig }, { loadRules }] = await Promise.all([import('../../config'), import('../admin')]);
      await loadRules(loadConfig(), opts.tenant, opts.dir);
    });
}
