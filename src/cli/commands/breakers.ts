import { Command, Option } from 'commander';
import { breakerList } from '../format';
import { ApiOptions, apiCommand, emit, group, run } from './common';

/** `aire breakers list`, `aire breaker reset SERVICE`: circuit breakers on automatic remediation. */

interface ListOptions extends ApiOptions {
  all?: boolean;
}
interface ResetOptions extends ApiOptions {
  runbook?: string;
  reason?: string;
}

export function registerBreakerCommands(program: Command): void {
  const breakers = group(program, 'breakers', 'circuit breakers that stopped automatic remediation', 'aire breakers list');
  apiCommand(breakers, {
    name: 'list',
    description: 'the open circuit breakers (--all: reset ones too)',
    options: [new Option('--all', 'include breakers already reset')],
    examples: ['aire breakers list', 'aire breakers list --all --json'],
  }).action((opts: ListOptions) =>
    run(opts, async (client) => {
      const answer = await client.listBreakers(opts.all === true);
      emit(opts, answer.text, () => breakerList(answer.body.items));
    }),
  );

  const breaker = group(program, 'breaker', 'reset a circuit breaker (needs an approver key)', 'aire breaker reset checkout');
  apiCommand(breaker, {
    name: 'reset <service>',
    description: 'let automatic remediation run again for a service (all its runbooks, or --runbook)',
    options: [new Option('--runbook <id>', 'only the breaker of this runbook'), new Option('--reason <text>', 'why, for the record')],
    examples: ['aire breaker reset checkout --reason "root cause fixed in v42"'],
  }).action((service: string, opts: ResetOptions) =>
    run(opts, async (client) => {
      const answer = await client.resetBreaker({ service, runbookId: opts.runbook, reason: opts.reason });
      emit(opts, answer.text, () => `reset ${answer.body.reset} breaker(s) for ${answer.body.service}`);
    }),
  );
}
