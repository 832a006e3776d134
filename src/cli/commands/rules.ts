import { Command, Option } from 'commander';
import { SlugSchema } from '../../domain/incident';
import { Condition, formatWindow } from '../../domain/rules';
import { LocalError, RuleView } from '../api-client';
import { keyValues, table, time } from '../format';
import { ApiOptions, apiCommand, emit, group, isObject, note, readDataFile, run } from './common';

/** `aire rules list|show|apply|disable`: the tenant's detection rules. */

interface ApplyOptions extends ApiOptions {
  file: string;
}

function counting(r: RuleView): string {
  const per = r.correlateBy ? ` per ${r.correlateBy}` : '';
  return r.threshold ? `${r.threshold.count} in ${formatWindow(r.threshold.window)}${per}` : `every event${per}`;
}

function condition(c: Condition): string {
  const value = c.op === 'regex' ? `/${c.value}/${c.flags ?? ''}` : JSON.stringify(c.value);
  return `${c.field} ${c.op} ${value}`;
}

export function ruleList(items: RuleView[]): string {
  if (items.length === 0) return 'no rules';
  return table(
    ['ID', 'ENABLED', 'SEVERITY', { header: 'CATEGORY', max: 24 }, { header: 'COUNTING', max: 36 }, 'RUNBOOK', { header: 'NAME', max: 50 }],
    items.map((r) => [r.id, r.enabled ? 'yes' : 'no', r.severity, r.category, counting(r), r.runbookId, r.name]),
  );
}

export function ruleDetail(r: RuleView): string {
  return [
    keyValues([
      ['id', r.id],
      ['name', r.name],
      ['enabled', r.enabled ? 'yes' : 'no'],
      ['description', r.description],
      ['counting', counting(r)],
      ['category', r.category],
      ['severity', r.severity],
      ['title', r.title],
      ['runbook', r.runbookId ?? 'chosen by its triggers'],
      ['channels', r.channels?.join(', ')],
      ['redacts', r.redactMatched ? 'fields its regexes read' : undefined],
      ['updated', `${time(r.updatedAt)} by ${r.updatedBy}`],
    ]),
    'conditions (all must hold):',
    ...r.match.map((c) => `  - ${condition(c)}`),
  ].join('\n');
}

/** The rules in a file: one rule, a list of rules, or `{rules: [...]}` (each needs an id). */
function ruleFile(file: string): { id: string; definition: Record<string, unknown> }[] {
  const value = readDataFile(file);
  const list: unknown[] = Array.isArray(value) ? value : isObject(value) && Array.isArray(value.rules) && value.id === undefined ? value.rules : [value];
  if (list.length === 0) throw new LocalError(`${file}: no rules in it`);
  return list.map((definition, i) => {
    const where = list.length > 1 || !isObject(value) ? `${file}: rules[${i}]` : file;
    if (!isObject(definition)) throw new LocalError(`${where}: expected a rule (an object with id, name, match…)`);
    if (definition.id === undefined) throw new LocalError(`${where}: id: a rule needs an id (the rule it creates or replaces)`);
    const id = SlugSchema.safeParse(definition.id);
    if (!id.success) throw new LocalError(`${where}: id: ${id.error.issues.map((issue) => issue.message).join('; ')}`);
    return { id: id.data, definition };
  });
}

export function registerRuleCommands(program: Command): void {
  const rules = group(program, 'rules', 'detection rules: list, show, apply, disable', 'aire rules apply -f rules/auth-brute-force.yaml');

  apiCommand(rules, {
    name: 'list',
    description: "the tenant's detection rules, disabled ones included",
    examples: ['aire rules list', 'aire rules list --json'],
  }).action((opts: ApiOptions) =>
    run(opts, async (client) => {
      const answer = await client.listRules();
      emit(opts, answer.text, () => ruleList(answer.body.items));
    }),
  );

  apiCommand(rules, {
    name: 'show <id>',
    description: 'one detection rule: conditions, counting, what its incidents look like',
    examples: ['aire rules show auth-brute-force'],
  }).action((id: string, opts: ApiOptions) =>
    run(opts, async (client) => {
      const answer = await client.getRule(id);
      emit(opts, answer.text, () => ruleDetail(answer.body));
    }),
  );

  apiCommand(rules, {
    name: 'apply',
    description: 'create or replace detection rules from a YAML or JSON file: one rule, a list, or {rules: [...]} (role admin)',
    options: [new Option('-f, --file <file>', 'the rule definition(s), YAML or JSON ("-" reads stdin)').makeOptionMandatory()],
    examples: ['aire rules apply -f rules/auth-brute-force.yaml'],
  }).action((opts: ApplyOptions) =>
    run(opts, async (client) => {
      const answers: string[] = [];
      for (const { id, definition } of ruleFile(opts.file)) {
        const answer = await client.putRule(id, definition);
        answers.push(answer.text);
        if (!opts.json) {
          process.stdout.write(`rule ${answer.body.id}: ${answer.status === 201 ? 'created' : 'replaced'}${answer.body.enabled ? '' : ' (disabled)'}\n`);
          for (const warning of answer.body.warnings ?? []) note(`  warning: ${warning}`);
        }
      }
      if (opts.json) process.stdout.write(`${answers.length === 1 ? answers[0] : `[${answers.join(',')}]`}\n`);
    }),
  );

  apiCommand(rules, {
    name: 'disable <id>',
    description: 'disable a rule (it stays listed; apply enables it again) and drop its counts (role admin)',
    examples: ['aire rules disable auth-brute-force'],
  }).action((id: string, opts: ApiOptions) =>
    run(opts, async (client) => {
      const answer = await client.disableRule(id);
      emit(opts, answer.text, () => `rule ${answer.body.id}: disabled`);
    }),
  );
}
