import { RetryPolicySchema, RiskSchema, RunbookSchema, StepSchema, TriggerSchema } from '../../src/domain/runbook';
import { fieldErrors, formatPath } from '../../src/domain/validation';

type Json = Record<string, unknown>;

function step(id: string, extra: Json = {}): Json {
  return { id, name: `Step ${id}`, action: 'notify', ...extra };
}

function runbookInput(extra: Json = {}): Json {
  return { id: 'db-latency', name: 'DB latency', steps: [step('a')], ...extra };
}

/** Issues as `path: message` with readable paths, for exact comparisons. */
function problems(input: unknown): string[] {
  const result = RunbookSchema.safeParse(input);
  if (result.success) return [];
  return fieldErrors(result.error).map((e) => `${e.path}: ${e.message}`);
}

function paths(input: unknown): string[] {
  const result = RunbookSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => formatPath(i.path));
}

describe('RunbookSchema defaults', () => {
  it('fills in every default', () => {
    expect(RunbookSchema.parse(runbookInput())).toEqual({
      id: 'db-latency',
      name: 'DB latency',
      enabled: true,
      priority: 0,
      triggers: {},
      requiresApproval: false,
      approvalTimeoutPolicy: 'abort',
      limits: { maxRuns: { count: 20, window: 3_600_000 }, breaker: { failures: 3, window: 3_600_000 } },
      completion: { autoResolve: false, resolveWhenAlertResolves: false },
      steps: [
        {
          id: 'a',
          name: 'Step a',
          action: 'notify',
          params: {},
          requiresApproval: false,
          onFailure: 'abort',
          onReject: 'abort',
          timeout: 30_000,
          retry: { maximumAttempts: 3, initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 30_000 },
          risk: 'low',
          estimatedCost: 0,
        },
      ],
    });
  });

  it('keeps given values and parses durations', () => {
    const parsed = RunbookSchema.parse(
      runbookInput({
        enabled: false,
        priority: -5,
        severityScope: ['critical', 'high'],
        requiresApproval: true,
        completion: { autoResolve: true },
        description: 'd',
        steps: [
          step('a', {
            timeout: '5m',
            retry: { maximumAttempts: 5, initialInterval: '2s', maximumInterval: '1m' },
            onFailure: 'continue',
            onReject: 'skip',
            risk: 'high',
            estimatedCost: 12.5,
            requiresApproval: true,
          }),
        ],
      }),
    );
    expect(parsed.enabled).toBe(false);
    expect(parsed.priority).toBe(-5);
    expect(parsed.severityScope).toEqual(['critical', 'high']);
    expect(parsed.requiresApproval).toBe(true);
    expect(parsed.completion).toEqual({ autoResolve: true, resolveWhenAlertResolves: false });
    expect(parsed.steps[0]).toMatchObject({
      timeout: 300_000,
      retry: { maximumAttempts: 5, initialInterval: 2_000, backoffCoefficient: 2, maximumInterval: 60_000 },
      onFailure: 'continue',
      onReject: 'skip',
      risk: 'high',
      estimatedCost: 12.5,
      requiresApproval: true,
    });
  });

  it('trims names', () => {
    expect(RunbookSchema.parse(runbookInput({ name: '  Padded  ' })).name).toBe('Padded');
  });
});

describe('RunbookSchema shape errors (path-named)', () => {
  it.each([
    [{ id: 'DB' }, 'id'],
    [{ id: '-db' }, 'id'],
    [{ id: 'a'.repeat(65) }, 'id'],
    [{ name: '   ' }, 'name'],
    [{ priority: 1001 }, 'priority'],
    [{ priority: 1.5 }, 'priority'],
    [{ severityScope: [] }, 'severityScope'],
    [{ severityScope: ['urgent'] }, 'severityScope[0]'],
    [{ steps: [] }, 'steps'],
    [{ steps: Array.from({ length: 51 }, (_, i) => step(`s${i}`)) }, 'steps'],
    [{ completion: { autoResolve: true, extra: 1 } }, 'completion'],
    [{ triggers: { sources: [] } }, 'triggers.sources'],
    [{ triggers: { sources: ['pagerduty'] } }, 'triggers.sources[0]'],
    [{ triggers: { minSeverity: 'sev1' } }, 'triggers.minSeverity'],
    [{ triggers: { categories: [] } }, 'triggers.categories'],
    [{ triggers: { labels: { env: 1 } } }, 'triggers.labels.env'],
    [{ triggers: { unknown: true } }, 'triggers'],
    [{ extra: true }, '(root)'],
  ])('%p is reported at %s', (override, path) => {
    expect(paths(runbookInput(override))).toEqual([path]);
  });

  it.each([
    [{ id: 'Bad' }, 'steps[1].id'],
    [{ name: '' }, 'steps[1].name'],
    [{ action: 'Notify!' }, 'steps[1].action'],
    [{ timeout: '10 minutes' }, 'steps[1].timeout'],
    [{ timeout: 0 }, 'steps[1].timeout'],
    [{ retry: { maximumAttempts: 0 } }, 'steps[1].retry.maximumAttempts'],
    [{ retry: { maximumAttempts: 21 } }, 'steps[1].retry.maximumAttempts'],
    [{ retry: { backoffCoefficient: 0.5 } }, 'steps[1].retry.backoffCoefficient'],
    [{ retry: { initialInterval: 'soon' } }, 'steps[1].retry.initialInterval'],
    [{ retry: { jitter: true } }, 'steps[1].retry'],
    [{ risk: 'extreme' }, 'steps[1].risk'],
    [{ estimatedCost: -1 }, 'steps[1].estimatedCost'],
    [{ onFailure: 'retry' }, 'steps[1].onFailure'],
    [{ onReject: 'continue' }, 'steps[1].onReject'],
    [{ params: 'x' }, 'steps[1].params'],
    [{ bogus: 1 }, 'steps[1]'],
  ])('step field %p is reported at %s', (override, path) => {
    expect(paths(runbookInput({ steps: [step('a'), step('b', override)] }))).toEqual([path]);
  });

  it('reports every problem at once', () => {
    expect(paths({ id: 'X', name: '', steps: [] }).sort()).toEqual(['id', 'name', 'steps']);
  });

  it('rejects non-objects', () => {
    expect(paths(null)).toEqual(['(root)']);
    expect(paths('runbook')).toEqual(['(root)']);
  });
});

describe('RunbookSchema duplicate step ids', () => {
  it('reports the second occurrence', () => {
    expect(problems(runbookInput({ steps: [step('a'), step('b'), step('a')] }))).toEqual(['steps[2].id: duplicate step id "a"']);
  });

  it('reports each repeat', () => {
    expect(problems(runbookInput({ steps: [step('a'), step('a'), step('a')] }))).toEqual([
      'steps[1].id: duplicate step id "a"',
      'steps[2].id: duplicate step id "a"',
    ]);
  });

  it('accepts distinct ids', () => {
    expect(problems(runbookInput({ steps: [step('a'), step('b'), step('c')] }))).toEqual([]);
  });
});

describe('RunbookSchema template references', () => {
  it('accepts incident references and references to earlier steps', () => {
    const input = runbookInput({
      steps: [
        step('scale', { params: { replicas: '{{incident.context.replicas}}' } }),
        step('notify', { params: { message: 'was {{steps.scale.output.previous}} for {{ incident.title }}', headers: { x: '{{steps.scale.output}}' } } }),
      ],
    });
    expect(problems(input)).toEqual([]);
  });

  it('rejects a reference to a later step, at the exact param path', () => {
    const input = runbookInput({
      steps: [step('first', { params: { message: 'prev {{steps.second.output.x}}' } }), step('second')],
    });
    expect(problems(input)).toEqual(['steps[0].params.message: "{{steps.second.output.x}}" refers to step "second", which does not run before this one']);
  });

  it('rejects a reference to the step itself', () => {
    const input = runbookInput({ steps: [step('self', { params: { message: '{{steps.self.output.x}}' } })] });
    expect(problems(input)).toEqual(['steps[0].params.message: "{{steps.self.output.x}}" refers to step "self", which does not run before this one']);
  });

  it('rejects a reference to an unknown step', () => {
    const input = runbookInput({ steps: [step('a'), step('b', { params: { message: '{{steps.ghost.output.x}}' } })] });
    expect(problems(input)).toEqual(['steps[1].params.message: "{{steps.ghost.output.x}}" refers to step "ghost", which does not run before this one']);
  });

  it('names nested array and object positions in the path', () => {
    const input = runbookInput({
      steps: [step('a'), step('b', { params: { headers: [{ value: 'ok' }, { value: 'x {{secrets.token}}' }] } })],
    });
    expect(problems(input)).toEqual(['steps[1].params.headers[1].value: "{{secrets.token}}" must start with incident. or steps.']);
    const result = RunbookSchema.safeParse(input);
    expect(result.error?.issues[0]?.path).toEqual(['steps', 1, 'params', 'headers', 1, 'value']);
  });

  it('reports malformed, whole-incident and non-output references', () => {
    const input = runbookInput({
      steps: [step('a'), step('b', { params: { one: '{{}}', two: '{{incident}}', three: '{{steps.a.status}}' } })],
    });
    expect(problems(input)).toEqual([
      'steps[1].params.one: "{{}}" is not a valid reference: use a dotted path like incident.context.host',
      'steps[1].params.two: "{{incident}}" names the whole incident: name a field',
      'steps[1].params.three: "{{steps.a.status}}" must read a step\'s output: steps.a.output.…',
    ]);
  });

  it('reports several references in one string separately', () => {
    const input = runbookInput({ steps: [step('a', { params: { message: '{{nope.x}} and {{steps.z.output}}' } })] });
    expect(paths(input)).toEqual(['steps[0].params.message', 'steps[0].params.message']);
  });

  it('a duplicate id still makes the first step visible to later references', () => {
    const input = runbookInput({ steps: [step('a'), step('a'), step('c', { params: { m: '{{steps.a.output.x}}' } })] });
    expect(problems(input)).toEqual(['steps[1].id: duplicate step id "a"']);
  });
});

describe('TriggerSchema', () => {
  it('accepts a full trigger', () => {
    const trigger = { sources: ['upewe', 'manual'], minSeverity: 'high', titlePattern: '^db.*latency$', categories: ['database'], labels: { env: 'prod' } };
    expect(TriggerSchema.parse(trigger)).toEqual(trigger);
  });

  it.each(['(', '[a-', '*abc', 'a{2,1}', '(?<n>x)(?<n>y)'])('rejects the invalid regex %p at triggers.titlePattern', (pattern) => {
    expect(problems(runbookInput({ triggers: { titlePattern: pattern } }))).toEqual(['triggers.titlePattern: not a valid regular expression']);
  });

  it('rejects an empty or over-long titlePattern', () => {
    expect(paths(runbookInput({ triggers: { titlePattern: '' } }))).toEqual(['triggers.titlePattern']);
    expect(paths(runbookInput({ triggers: { titlePattern: 'a'.repeat(301) } }))).toEqual(['triggers.titlePattern']);
    expect(paths(runbookInput({ triggers: { titlePattern: 'a'.repeat(300) } }))).toEqual([]);
  });
});

describe('small schemas', () => {
  it('RiskSchema is ordered low, medium, high', () => {
    expect(RiskSchema.options).toEqual(['low', 'medium', 'high']);
  });

  it('RetryPolicySchema has defaults and bounds', () => {
    expect(RetryPolicySchema.parse({})).toEqual({ maximumAttempts: 3, initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 30_000 });
    expect(RetryPolicySchema.safeParse({ backoffCoefficient: 11 }).success).toBe(false);
    expect(RetryPolicySchema.parse({ maximumAttempts: 20, backoffCoefficient: 10 })).toMatchObject({ maximumAttempts: 20, backoffCoefficient: 10 });
  });

  it('StepSchema takes a duration as milliseconds or text', () => {
    expect(StepSchema.parse(step('a', { timeout: 1234 })).timeout).toBe(1234);
    expect(StepSchema.parse(step('a', { timeout: '250ms' })).timeout).toBe(250);
  });
});

describe('RunbookSchema reference paths for unusual param keys', () => {
  it('names a plain key with a dash exactly', () => {
    const result = RunbookSchema.safeParse(runbookInput({ steps: [step('a', { params: { headers: { 'x-trace': '{{bad.x}}' } } })] }));
    expect(result.error?.issues[0]?.path).toEqual(['steps', 0, 'params', 'headers', 'x-trace']);
  });

  // The reference location is kept as path segments, so keys with "." or "[" stay whole.
  it('keeps a param key containing "." as one path segment', () => {
    const result = RunbookSchema.safeParse(runbookInput({ steps: [step('a', { params: { 'a.b': '{{bad.x}}' } })] }));
    expect(result.error?.issues[0]?.path).toEqual(['steps', 0, 'params', 'a.b']);
  });

  it('keeps a param key containing "[...]" as one path segment', () => {
    const result = RunbookSchema.safeParse(runbookInput({ steps: [step('a', { params: { 'h[x]': '{{bad.x}}' } })] }));
    expect(result.error?.issues[0]?.path).toEqual(['steps', 0, 'params', 'h[x]']);
  });
});
