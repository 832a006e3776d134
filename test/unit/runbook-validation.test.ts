import { ACTION_TYPES } from '../../src/domain/actions';
import { validateRunbook } from '../../src/domain/runbook-validation';
import { ValidationError } from '../../src/domain/validation';

type Json = Record<string, unknown>;

function runbookWith(...steps: Json[]): Json {
  return { id: 'rb', name: 'Runbook', steps: steps.map((s, i) => ({ id: `s${i}`, name: `Step ${i}`, ...s })) };
}

function errorsOf(input: unknown): { path: string; message: string }[] {
  try {
    validateRunbook(input);
  } catch (err) {
    if (err instanceof ValidationError) return err.errors;
    throw err;
  }
  throw new Error('expected validateRunbook to throw');
}

const notify = { action: 'notify', params: { url: 'http://localhost:9000/hook', message: 'hello' } };
const scale = (replicas: unknown): Json => ({ action: 'scale', params: { url: 'http://localhost:9000/capacity', replicas } });

describe('validateRunbook', () => {
  it('returns the parsed runbook with defaults for a valid definition', () => {
    const runbook = validateRunbook(
      runbookWith(notify, scale(3), { action: 'http', params: { url: 'http://localhost/x' } }, { action: 'disable_feature', params: { flag: 'checkout.v2' } }),
    );
    expect(runbook.id).toBe('rb');
    expect(runbook.enabled).toBe(true);
    expect(runbook.steps.map((s) => s.action)).toEqual(['notify', 'scale', 'http', 'disable_feature']);
    expect(runbook.steps[1]!.params).toEqual({ url: 'http://localhost:9000/capacity', replicas: 3 });
    expect(runbook.steps[0]!.timeout).toBe(30_000);
  });

  it('knows the core action types', () => {
    expect(ACTION_TYPES).toEqual(expect.arrayContaining(['notify', 'http', 'scale', 'disable_feature']));
    expect(ACTION_TYPES).not.toContain('page-oncall');
  });

  it('reports an unknown action type at steps[i].action, listing the known ones', () => {
    expect(errorsOf(runbookWith({ action: 'page-oncall' }))).toEqual([
      { path: 'steps[0].action', message: `unknown action type "page-oncall": one of ${ACTION_TYPES.join(', ')}` },
    ]);
  });

  it('puts the error summary in the message', () => {
    expect(() => validateRunbook(runbookWith({ action: 'nope' }))).toThrow(
      `invalid runbook: steps[0].action: unknown action type "nope": one of ${ACTION_TYPES.join(', ')}`,
    );
  });

  it('reports a missing notify url at steps[0].params.url', () => {
    const errors = errorsOf(runbookWith({ action: 'notify', params: { message: 'hi' } }));
    expect(errors.map((e) => e.path)).toEqual(['steps[0].params.url']);
    expect(errors[0]!.message).toMatch(/expected string, received undefined/);
  });

  it('reports an invalid url, a missing message and an unknown key', () => {
    const errors = errorsOf(runbookWith({ action: 'notify', params: { url: 'not a url', extra: 1 } }));
    expect(errors.map((e) => e.path).sort()).toEqual(['steps[0].params', 'steps[0].params.message', 'steps[0].params.url']);
    expect(errors.find((e) => e.path === 'steps[0].params')?.message).toBe('Unrecognized key: "extra"');
  });

  it('accepts a templated value for a number field', () => {
    const runbook = validateRunbook(runbookWith(scale('{{incident.context.replicas}}')));
    expect(runbook.steps[0]!.params.replicas).toBe('{{incident.context.replicas}}');
  });

  it('accepts a templated value with spaces and a templated url', () => {
    expect(() =>
      validateRunbook(runbookWith({ action: 'scale', params: { url: '{{incident.context.capacity_url}}', replicas: '{{ incident.context.replicas }}' } })),
    ).not.toThrow();
    expect(() => validateRunbook(runbookWith({ action: 'http', params: { url: 'http://{{incident.context.host}}/deploy' } }))).not.toThrow();
  });

  it('accepts a reference to an earlier step output', () => {
    expect(() => validateRunbook(runbookWith(scale(5), scale('{{steps.s0.output.previous}}')))).not.toThrow();
  });

  it.each([
    ['three', /expected number, received string/],
    ['3', /expected number, received string/],
    [true, /expected number, received boolean/],
    [2.5, /expected int/],
    [-1, /too small|>=0/i],
    [10_001, /too big|<=10000/i],
  ])('rejects the literal replicas %p at steps[0].params.replicas', (replicas, message) => {
    const errors = errorsOf(runbookWith(scale(replicas)));
    expect(errors.map((e) => e.path)).toEqual(['steps[0].params.replicas']);
    expect(errors[0]!.message).toMatch(message);
  });

  it('still rejects a literal wrong type next to a templated field', () => {
    const errors = errorsOf(runbookWith({ action: 'scale', params: { url: '{{incident.context.url}}', replicas: 'many' } }));
    expect(errors.map((e) => e.path)).toEqual(['steps[0].params.replicas']);
  });

  it('reports problems in every step, with each step index', () => {
    const errors = errorsOf(runbookWith(notify, { action: 'teleport' }, scale('x'), { action: 'disable_feature', params: { flag: 'bad flag!' } }));
    expect(errors.map((e) => e.path)).toEqual(['steps[1].action', 'steps[2].params.replicas', 'steps[3].params.flag']);
  });

  it('reports nested param paths', () => {
    const errors = errorsOf(runbookWith({ action: 'http', params: { url: 'http://localhost/x', headers: { 'x-a': 5 }, compensate: { url: 'nope' } } }));
    expect(errors.map((e) => e.path).sort()).toEqual(['steps[0].params.compensate.url', 'steps[0].params.headers.x-a']);
  });

  it('reports shape errors first, without checking params', () => {
    const errors = errorsOf({
      id: 'rb',
      name: 'R',
      steps: [
        { id: 'a', name: 'A', action: 'teleport' },
        { id: 'a', name: 'B', action: 'notify' },
      ],
    });
    expect(errors).toEqual([{ path: 'steps[1].id', message: 'duplicate step id "a"' }]);
  });

  it('reports bad template references from the schema, at the param path', () => {
    const errors = errorsOf(runbookWith(scale('{{steps.s1.output.previous}}'), notify));
    expect(errors).toEqual([
      { path: 'steps[0].params.replicas', message: '"{{steps.s1.output.previous}}" refers to step "s1", which does not run before this one' },
    ]);
  });

  it('rejects a non-object', () => {
    expect(errorsOf(undefined)).toEqual([{ path: '(root)', message: expect.any(String) }]);
  });
});
