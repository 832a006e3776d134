import { TEMPLATE_ROOTS, TemplateError, checkReference, findReferences, isTemplated, render } from '../../src/domain/template';

describe('isTemplated', () => {
  it.each(['{{incident.title}}', 'x {{ incident.context.host }} y', '{{a}}{{b}}', '{{}}'])('%p is templated', (value) => {
    expect(isTemplated(value)).toBe(true);
  });

  it.each(['plain', '{incident.title}', '{{incident.title', 'incident.title}}', '{{ {x} }}', '', 42, null, undefined, { a: '{{x}}' }, ['{{x}}']])(
    '%p is not templated',
    (value) => {
      expect(isTemplated(value)).toBe(false);
    },
  );
});

describe('findReferences', () => {
  it('finds references in a string, trimming spaces inside the braces', () => {
    expect(findReferences('Deploy {{ incident.context.sha }} to {{incident.context.env}}', 'params.message')).toEqual([
      { at: 'params.message', segments: ['params.message'], path: 'incident.context.sha' },
      { at: 'params.message', segments: ['params.message'], path: 'incident.context.env' },
    ]);
  });

  it('walks objects and arrays with dotted and indexed paths', () => {
    const params = {
      url: '{{incident.context.url}}',
      headers: [{ auth: 'Bearer {{incident.context.token}}' }, 'none'],
      nested: { deep: { value: '{{steps.scale.output.previous}}' } },
      count: 3,
      flag: true,
      nothing: null,
    };
    expect(findReferences(params, 'params')).toEqual([
      { at: 'params.url', segments: ['params', 'url'], path: 'incident.context.url' },
      { at: 'params.headers[0].auth', segments: ['params', 'headers', 0, 'auth'], path: 'incident.context.token' },
      { at: 'params.nested.deep.value', segments: ['params', 'nested', 'deep', 'value'], path: 'steps.scale.output.previous' },
    ]);
  });

  it('returns nothing for values without templates', () => {
    expect(findReferences({ a: 'b', c: [1, 2, 'd'], e: null }, 'params')).toEqual([]);
    expect(findReferences(7, 'params')).toEqual([]);
    expect(findReferences(undefined, 'params')).toEqual([]);
  });

  it('reports an empty reference as an empty path', () => {
    expect(findReferences('{{ }}', 'params.x')).toEqual([{ at: 'params.x', segments: ['params.x'], path: '' }]);
  });

  it('can be called repeatedly (global regex state does not leak)', () => {
    const value = '{{incident.a}} {{incident.b}}';
    expect(findReferences(value, 'p')).toHaveLength(2);
    expect(findReferences(value, 'p')).toHaveLength(2);
  });
});

describe('checkReference', () => {
  const earlier = new Set(['scale', 'notify-team']);
  const check = (path: string): string | undefined => checkReference({ at: 'params.x', path }, earlier);

  it('exposes the two roots', () => {
    expect(TEMPLATE_ROOTS).toEqual(['incident', 'steps']);
  });

  it.each([
    'incident.title',
    'incident.context.commit_sha',
    'incident.context.some-key.0',
    'steps.scale.output',
    'steps.scale.output.previous',
    'steps.notify-team.output.status',
  ])('accepts %p', (path) => {
    expect(check(path)).toBeUndefined();
  });

  it.each(['', 'incident..title', 'incident.title.', '.incident', 'incident title', 'incident.ti tle', '1incident.x', 'incident.context[0]', 'incident.$x'])(
    'rejects the malformed path %p',
    (path) => {
      expect(check(path)).toBe(`"{{${path}}}" is not a valid reference: use a dotted path like incident.context.host`);
    },
  );

  it.each(['context.host', 'env.SECRET', 'process.env', 'Incident.title', 'step.scale.output'])('rejects the unknown root in %p', (path) => {
    expect(check(path)).toBe(`"{{${path}}}" must start with incident. or steps.`);
  });

  it('rejects the whole incident', () => {
    expect(check('incident')).toBe('"{{incident}}" names the whole incident: name a field');
  });

  it('rejects a step that does not run earlier', () => {
    expect(check('steps.rollback.output.x')).toBe('"{{steps.rollback.output.x}}" refers to step "rollback", which does not run before this one');
    expect(checkReference({ at: 'p', path: 'steps.scale.output' }, new Set())).toBe(
      '"{{steps.scale.output}}" refers to step "scale", which does not run before this one',
    );
  });

  it('rejects bare steps', () => {
    expect(check('steps')).toBe('"{{steps}}" refers to step "", which does not run before this one');
  });

  it("requires reading a step's output", () => {
    expect(check('steps.scale')).toBe('"{{steps.scale}}" must read a step\'s output: steps.scale.output.…');
    expect(check('steps.scale.params.url')).toBe('"{{steps.scale.params.url}}" must read a step\'s output: steps.scale.output.…');
  });
});

describe('render', () => {
  const scope = {
    incident: {
      title: 'DB down',
      severity: 'critical',
      context: { replicas: 5, zero: 0, no: false, empty: '', nothing: null, obj: { a: 1 }, list: ['x', 'y'], host: 'db-1' },
    },
    steps: { scale: { output: { previous: 3 } } },
  };

  it('a whole-value template keeps the type of the value', () => {
    expect(render('{{incident.context.replicas}}', scope, 'params.replicas')).toBe(5);
    expect(render('{{ incident.context.replicas }}', scope, 'params.replicas')).toBe(5);
    expect(render('{{incident.context.no}}', scope, 'p')).toBe(false);
    expect(render('{{incident.context.zero}}', scope, 'p')).toBe(0);
    expect(render('{{incident.context.empty}}', scope, 'p')).toBe('');
    expect(render('{{incident.context.obj}}', scope, 'p')).toEqual({ a: 1 });
    expect(render('{{incident.context.list}}', scope, 'p')).toEqual(['x', 'y']);
    expect(render('{{steps.scale.output.previous}}', scope, 'p')).toBe(3);
  });

  it('reads array elements by index', () => {
    expect(render('{{incident.context.list.1}}', scope, 'p')).toBe('y');
  });

  it('interpolates embedded templates as text', () => {
    expect(render('Scale {{incident.context.host}} to {{incident.context.replicas}}', scope, 'p')).toBe('Scale db-1 to 5');
    expect(render('was {{steps.scale.output.previous}}!', scope, 'p')).toBe('was 3!');
    expect(render('flag={{incident.context.no}} n={{incident.context.zero}}', scope, 'p')).toBe('flag=false n=0');
    expect(render('obj={{incident.context.obj}} list={{incident.context.list}}', scope, 'p')).toBe('obj={"a":1} list=["x","y"]');
  });

  it('does not interpret $ patterns in substituted values', () => {
    expect(render('v={{incident.context.v}}', { incident: { context: { v: "$& $1 $'" } } }, 'p')).toBe("v=$& $1 $'");
  });

  it('leaves strings without templates and non-string primitives unchanged', () => {
    expect(render('plain text', scope, 'p')).toBe('plain text');
    expect(render(42, scope, 'p')).toBe(42);
    expect(render(true, scope, 'p')).toBe(true);
    expect(render(null, scope, 'p')).toBeNull();
  });

  it('renders nested objects and arrays without changing the input', () => {
    const params = { url: 'http://x/{{incident.context.host}}', replicas: '{{incident.context.replicas}}', tags: ['{{incident.severity}}', 'fixed'], n: 1 };
    const copy = JSON.parse(JSON.stringify(params)) as typeof params;
    expect(render(params, scope, 'params')).toEqual({ url: 'http://x/db-1', replicas: 5, tags: ['critical', 'fixed'], n: 1 });
    expect(params).toEqual(copy);
  });

  it('throws a TemplateError naming where a missing value is', () => {
    let caught: unknown;
    try {
      render({ headers: [{ a: 'ok' }, { b: 'x {{incident.context.missing}}' }] }, scope, 'params');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    const error = caught as TemplateError;
    expect(error.path).toBe('params.headers[1].b');
    expect(error.name).toBe('TemplateError');
    expect(error.message).toBe('params.headers[1].b: {{incident.context.missing}} has no value');
  });

  it('treats null as missing, both whole and embedded', () => {
    expect(() => render('{{incident.context.nothing}}', scope, 'params.x')).toThrow('params.x: {{incident.context.nothing}} has no value');
    expect(() => render('a {{incident.context.nothing}}', scope, 'params.x')).toThrow('params.x: {{incident.context.nothing}} has no value');
  });

  it('treats a path through a non-object as missing', () => {
    expect(() => render('{{incident.title.length}}', scope, 'p')).toThrow(TemplateError);
    expect(() => render('{{incident.context.replicas.x}}', scope, 'p')).toThrow(TemplateError);
  });

  it('does not read inherited properties', () => {
    expect(() => render('{{incident.constructor}}', scope, 'p')).toThrow('p: {{incident.constructor}} has no value');
    expect(() => render('{{incident.__proto__}}', scope, 'p')).toThrow(TemplateError);
    expect(() => render('x {{incident.toString}}', scope, 'p')).toThrow(TemplateError);
  });

  it('a missing root is missing', () => {
    expect(() => render('{{steps.other.output.x}}', scope, 'p')).toThrow('p: {{steps.other.output.x}} has no value');
  });
});

describe('TemplateError', () => {
  it('carries the path and prefixes the message', () => {
    const error = new TemplateError('params.url', 'boom');
    expect(error).toBeInstanceOf(Error);
    expect(error.path).toBe('params.url');
    expect(error.message).toBe('params.url: boom');
  });
});
