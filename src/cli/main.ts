import { Command } from 'commander';
import { DEFAULT_API_URL, EXIT } from './api-client';
import { registerAdminCommands } from './commands/admin';
import { registerBreakerCommands } from './commands/breakers';
import { registerControlCommands } from './commands/controls';
import { registerIncidentCommands } from './commands/incidents';
import { registerKeyCommands } from './commands/keys';
import { registerPostmortemCommands } from './commands/postmortem';
import { registerRuleCommands } from './commands/rules';
import { registerRunbookCommands } from './commands/runbooks';

/** The `aire` command: wiring only. API commands live in ./commands, the HTTP client in ./api-client. */

const program = new Command();
program
  .name('aire')
  .description('AIRE incident response and remediation engine: operations over the HTTP API, and administration')
  .showHelpAfterError('(add --help for usage)')
  .addHelpText(
    'after',
    `
API commands read the API from --api-url or AIRE_API_URL (default ${DEFAULT_API_URL}) and the key from
--api-key or AIRE_API_KEY (default: the contents of .aire/admin.key, as \`npm run dev\` writes it).
Every API command takes --json to print the API's JSON answer as received.

Exit codes:
  ${EXIT.ok}  ok
  ${EXIT.usage}  usage error or local problem (bad option, unreadable or invalid file)
  ${EXIT.refused}  the API refused the request (4xx: invalid input, unknown key, missing role, not found, conflict)
  ${EXIT.unavailable}  the API or a service behind it is unavailable (5xx, connection refused, timeout)

Examples:
  $ aire incidents list --status awaiting_approval
  $ aire incident show <id>
  $ aire incident approve <id> --step scale --reason "capacity review done"
  $ aire runbook apply -f runbooks/capacity-forecast.yaml
  $ aire <command> --help`,
  );

// `aire … | head` closes stdout early: stop quietly instead of failing with EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

registerIncidentCommands(program);
registerPostmortemCommands(program);
registerRunbookCommands(program);
registerRuleCommands(program);
registerControlCommands(program);
registerKeyCommands(program);
registerBreakerCommands(program);
registerAdminCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`aire: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = EXIT.usage;
});
