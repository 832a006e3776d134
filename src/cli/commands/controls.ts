import { Command, Option } from 'commander';
import { controlList } from '../format';
import { ApiOptions, apiCommand, emit, group, run } from './common';

/** `aire controls list`: the kill switches and blocks in force. */

interface ListOptions extends ApiOptions {
  kind?: string;
}

export function registerControlCommands(program: Command): void {
  const controls = group(program, 'controls', 'kill switches and blocks in force', 'aire controls list --kind feature');

  apiCommand(controls, {
    name: 'list',
    description: 'the kill switches (features turned off) and blocks in force now',
    options: [new Option('--kind <kind>', 'only features or only blocks').choices(['feature', 'block'])],
    examples: ['aire controls list', 'aire controls list --kind block --json'],
  }).action((opts: ListOptions) =>
    run(opts, async (client) => {
      const answer = await client.listControls(opts.kind);
      emit(opts, answer.text, () => controlList(answer.body.items));
    }),
  );
}
