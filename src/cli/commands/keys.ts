import { Command, Option } from 'commander';
import { keyList } from '../format';
import { ApiOptions, apiCommand, emit, group, note, run } from './common';

/** `aire keys create|list|revoke`: the tenant's API keys (admin keys only). */

interface CreateOptions extends ApiOptions {
  name: string;
  role: string[];
}

export function registerKeyCommands(program: Command): void {
  const keys = group(program, 'keys', "the tenant's API keys (needs an admin key)", 'aire keys create --name alertmanager --role ingest');

  apiCommand(keys, {
    name: 'create',
    description: 'create a key with roles; the key is printed once and never again',
    options: [
      new Option('--name <name>', 'shown in the audit trail as key:<name>').makeOptionMandatory(),
      new Option('--role <role...>', 'one or more roles').choices(['ingest', 'viewer', 'responder', 'approver', 'admin']).makeOptionMandatory(),
    ],
    examples: ['aire keys create --name oncall-approver --role approver', 'aire keys create --name ci --role ingest viewer --json'],
  }).action((opts: CreateOptions) =>
    run(opts, async (client) => {
      const answer = await client.createKey({ name: opts.name, roles: opts.role });
      emit(opts, answer.text, () => answer.body.key);
      if (!opts.json) note(`key "${answer.body.name}" (${opts.role.join(', ')}) created: store it now, it is not shown again`);
    }),
  );

  apiCommand(keys, {
    name: 'list',
    description: 'list keys (names, roles, prefixes; never the keys themselves)',
    examples: ['aire keys list'],
  }).action((opts: ApiOptions) =>
    run(opts, async (client) => {
      const answer = await client.listKeys();
      emit(opts, answer.text, () => keyList(answer.body.items));
    }),
  );

  apiCommand(keys, {
    name: 'revoke <id>',
    description: 'revoke a key: it stops working on its next request',
    examples: ['aire keys revoke 0b7c…'],
  }).action((id: string, opts: ApiOptions) =>
    run(opts, async (client) => {
      const answer = await client.revokeKey(id);
      emit(opts, answer.text, () => `revoked ${answer.body.name}`);
    }),
  );
}
