import { z } from 'zod';
import { ValidationError, fieldErrors, formatPath, issueError, parseOrThrow } from '../../src/domain/validation';

describe('formatPath', () => {
  it.each<[PropertyKey[], string]>([
    [['steps', 2, 'params', 'url'], 'steps[2].params.url'],
    [[], '(root)'],
    [['id'], 'id'],
    [['a', 'b', 'c'], 'a.b.c'],
    [['steps', 0], 'steps[0]'],
    [['matrix', 1, 2], 'matrix[1][2]'],
    [[0, 'name'], '[0].name'],
    [['headers', 'x-api-key'], 'headers.x-api-key'],
    [['a', Symbol('s')], 'a.Symbol(s)'],
  ])('%p -> %p', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});

describe('issueError and fieldErrors', () => {
  const schema = z.object({ steps: z.array(z.object({ url: z.string().url() })) });

  it('turn zod issues into readable field errors', () => {
    const result = schema.safeParse({ steps: [{ url: 'http://ok' }, { url: 'bad' }, {}] });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(fieldErrors(result.error).map((e) => e.path)).toEqual(['steps[1].url', 'steps[2].url']);
    expect(fieldErrors(result.error)[0]!.message).toBe(result.error.issues[0]!.message);
  });

  it('apply a prefix', () => {
    const result = z.object({ url: z.string() }).safeParse({});
    if (result.success) throw new Error('expected failure');
    expect(issueError(result.error.issues[0]!, ['steps', 3, 'params'])).toEqual({
      path: 'steps[3].params.url',
      message: result.error.issues[0]!.message,
    });
    expect(fieldErrors(result.error, ['body'])).toEqual([{ path: 'body.url', message: result.error.issues[0]!.message }]);
  });
});

describe('ValidationError', () => {
  it('lists every error in its message', () => {
    const error = new ValidationError('invalid runbook', [
      { path: 'steps[0].action', message: 'unknown' },
      { path: 'id', message: 'bad id' },
    ]);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ValidationError');
    expect(error.message).toBe('invalid runbook: steps[0].action: unknown; id: bad id');
    expect(error.errors).toEqual([
      { path: 'steps[0].action', message: 'unknown' },
      { path: 'id', message: 'bad id' },
    ]);
  });
});

describe('parseOrThrow', () => {
  const schema = z.object({ n: z.number().default(5), name: z.string().min(1) });

  it('returns the parsed value with defaults', () => {
    expect(parseOrThrow(schema, { name: 'x' }, 'thing')).toEqual({ n: 5, name: 'x' });
  });

  it('throws a ValidationError naming what and where', () => {
    let caught: unknown;
    try {
      parseOrThrow(schema, { n: 'seven', name: '' }, 'request body');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const error = caught as ValidationError;
    expect(error.errors.map((e) => e.path)).toEqual(['n', 'name']);
    expect(error.message.startsWith('invalid request body: n: ')).toBe(true);
    expect(error.message).toContain('; name: ');
  });

  it('reports a non-object at (root)', () => {
    expect(() => parseOrThrow(schema, 'nope', 'query')).toThrow(/^invalid query: \(root\): /);
  });
});
