import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunbookSchema } from '../../src/domain/runbook';
import { HSOE_NOTE, isSeedRunbook, toSeedRunbook } from '../../src/domain/seed-runbook';
import { validateAnyRunbook, validateSeedRunbook } from '../../src/domain/seed-runbook-validation';
import { ValidationError } from '../../src/domain/validation';

// Seed 000's "Example Runbooks", exactly as printed (test/fixtures/seeds/README.md names the lines).
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '../fixtures/seeds', name), 'utf8')) as Record<string, unknown>;
const budget = fixture('000-budget-overrun.json');
const critical = fixture('000-critical-failure.json');

function errorsOf(input: unknown): { path: string; message: string }[] {
  try {
    validateAnyRunbook(input);
  } catch (err) {
    if (err instanceof ValidationError) return err.errors;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

const clone = <T>(value: T): T => structuredClone(value);

describe('seed 000 runbook format', () => {
  it('converts the Budget Overrun example to the native runbook', () => {
    expect(isSeedRunbook(budget)).toBe(true);
    const runbook = validateSeedRunbook(budget);
    expect(runbook).toMatchObject({
      id: 'budget-overrun-response',
      name: 'Budget Overrun Response',
      description: 'Auto-remediate budget risk incidents',
      enabled: true,
      severityScope: ['high'],
      triggers: { sources: ['upewe'], titlePattern: 'budget_risk' },
      requiresApproval: false,
    });
    expect(runbook.steps.map((s) => [s.id, s.action, s.params, s.requiresApproval, s.onReject])).toEqual([
      ['notify_1', 'notify', { channel: 'slack', message: 'Budget overrun detected', url: '{{incident.context.slackWebhookUrl}}' }, false, 'abort'],
      ['scale_down_2', 'scale', { url: '{{incident.context.platformUrl}}/services/ai_workers/capacity', percentOfCurrent: 50 }, false, 'abort'],
      ['disable_feature_3', 'disable_feature', { flag: 'extended_thinking' }, true, 'skip'],
    ]);
    // What came out is a native runbook as the engine validates it.
    expect(RunbookSchema.parse(runbook)).toEqual(runbook);
  });

  it('converts the Critical Failure example: HSOE approval becomes the runbook gate, noted in the description', () => {
    const runbook = validateSeedRunbook(critical);
    expect(runbook.id).toBe('critical-failure-response');
    expect(runbook.requiresApproval).toBe(true);
    expect(runbook.description).toBe(`Handle critical system failures\n\n${HSOE_NOTE}`);
    expect(runbook.severityScope).toEqual(['critical']);
    expect(runbook.triggers).toEqual({ minSeverity: 'critical' });
    expect(runbook.steps.map((s) => [s.action, s.params])).toEqual([
      ['notify', { channel: 'pagerduty', message: '[P1] {{incident.title}}', routingKey: '{{incident.context.pagerdutyRoutingKey}}' }],
      ['block', { target: 'all_workflows' }],
    ]);
  });

  it('runs actions by order, not by position, and "all" means no severity scope', () => {
    const input = clone(budget);
    input.severityScope = 'all';
    const actions = input.actions as { order: number }[];
    actions[0]!.order = 9;
    const runbook = validateSeedRunbook(input);
    expect(runbook.severityScope).toBeUndefined();
    expect(runbook.steps.map((s) => s.action)).toEqual(['scale', 'disable_feature', 'notify']);
  });

  it('round-trips: exporting the converted runbook gives the seed document back', () => {
    for (const seed of [budget, critical]) {
      const exported = toSeedRunbook(validateSeedRunbook(seed));
      expect(exported).toEqual({ ...seed, id: expect.any(String), enabled: true });
      expect(validateSeedRunbook(exported as Record<string, unknown>)).toEqual(validateSeedRunbook(seed));
    }
  });

  it('names the seed path in errors, never the native one', () => {
    const unknownType = clone(budget);
    (unknownType.actions as { type: string }[])[1]!.type = 'reboot_everything';
    expect(errorsOf(unknownType)).toEqual([
      { path: 'actions[1].type', message: 'unknown seed action type "reboot_everything": one of notify, block, scale_down, disable_feature, restart' },
    ]);

    const collide = clone(budget);
    (collide.actions as { order: number }[])[2]!.order = 1;
    expect(errorsOf(collide)).toEqual([{ path: 'actions[2].order', message: 'order 1 is also the order of actions[0]' }]);

    const badScope = clone(budget);
    badScope.severityScope = 'P1';
    expect(errorsOf(badScope).map((e) => e.path)).toEqual(['severityScope']);

    // Payload problems are found by the AIRE action's schema and reported at the payload key the seed used.
    const badPayload = clone(budget);
    const actions = badPayload.actions as { order: number; payload: Record<string, unknown> }[];
    actions[0]!.order = 5; // sorted last: the step index differs from the action index
    actions[0]!.payload.url = 'not a url';
    actions[2]!.payload.feature = 'has spaces';
    actions[1]!.payload.percentage = 'half';
    expect(
      errorsOf(badPayload)
        .map((e) => e.path)
        .sort(),
    ).toEqual(['actions[0].payload.url', 'actions[1].payload.percentage', 'actions[2].payload.feature']);

    const badPattern = clone(budget);
    (badPattern.triggerConditions as Record<string, unknown>).titlePattern = '(';
    expect(errorsOf(badPattern).map((e) => e.path)).toEqual(['triggerConditions.titlePattern']);
  });

  it('restart becomes the restart action: service on the platform API, health from the incident; round-trips', () => {
    const input = clone(critical);
    (input.actions as unknown[]).push({ type: 'restart', payload: { service: 'api' }, order: 3 });
    const runbook = validateSeedRunbook(input);
    expect(runbook.steps[2]).toMatchObject({
      id: 'restart_3',
      action: 'restart',
      params: { url: '{{incident.context.platformUrl}}/services/api', healthUrl: '{{incident.context.healthUrl}}' },
    });
    expect(toSeedRunbook(runbook).actions[2]).toEqual({ type: 'restart', payload: { service: 'api' }, order: 3 });
    (input.actions as { payload: Record<string, unknown> }[])[2]!.payload = {
      kind: 'kubernetes',
      apiUrl: 'https://k8s:6443',
      namespace: 'Bad NS',
      name: 'api',
    };
    expect(errorsOf(input).map((e) => e.path)).toEqual(['actions[2].payload.namespace']);
  });

  it('export refuses what the seed format cannot say, naming the native path', () => {
    const runbook = validateSeedRunbook(budget);
    const withHttp = { ...runbook, steps: [...runbook.steps, { ...runbook.steps[0]!, id: 'call', action: 'http' }] };
    expect(() => toSeedRunbook(withHttp)).toThrow(/steps\[3\]\.action: "http" has no seed 000 action type/);
  });
});
