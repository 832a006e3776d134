import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import pino from 'pino';
import packageJson from '../../package.json';
import { createApp } from '../../src/api/app';
import { ROLES, Role } from '../../src/domain/access';
import { ForecastSchema } from '../../src/domain/intake';
import { SEVERITIES } from '../../src/domain/severity';
import { Stack, TestTenant } from '../support/stack';

type JsonSchema = Record<string, unknown>;

interface ParameterDoc {
  name: string;
  in: string;
  required: boolean;
  schema: JsonSchema;
}

interface ContentDoc {
  content?: Record<string, { schema: JsonSchema }>;
}

interface OperationDoc {
  operationId: string;
  security?: unknown[];
  'x-required-roles'?: Role[];
  parameters?: ParameterDoc[];
  requestBody?: ContentDoc & { required: boolean };
  responses: Record<string, ContentDoc & { description: string }>;
}

interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, OperationDoc>>;
  components: {
    securitySchemes: Record<string, { type: string; scheme?: string; bearerFormat?: string }>;
    schemas: Record<string, JsonSchema>;
  };
}

/** What router 2.x's `listRoutes()` answers (express 5 uses it; it is not in @types/express). */
interface ListedRoute {
  path: string | RegExp;
  methods?: string[];
  router?: RouterLike;
}
interface RouterLike {
  listRoutes?: () => ListedRoute[];
}

/**
 * Registered routes that are not operations: the catch-all answering 404 with the list of known
 * incident actions. Anything else the app registers must be in the document.
 */
const NOT_OPERATIONS = new Set(['* /api/incidents/{id}/{action}']);

/** Every `METHOD /path` the Express app registers, with mount paths joined, in OpenAPI path syntax. */
function registeredRoutes(router: RouterLike, prefix = ''): string[] {
  if (typeof router.listRoutes !== 'function') throw new Error('the router cannot list its routes (router >= 2.3 has listRoutes)');
  const found: string[] = [];
  for (const route of router.listRoutes()) {
    if (typeof route.path !== 'string') throw new Error(`a route registered with a RegExp (${String(route.path)}) cannot be checked; use a string path`);
    // `/` inside a mounted router is the mount path itself (`/console`, not `/console/`).
    const path = route.path === '/' && prefix !== '' ? prefix : `${prefix.replace(/\/$/, '')}${route.path}`;
    if (route.router) {
      found.push(...registeredRoutes(route.router, path));
      continue;
    }
    const methods = route.methods ?? [];
    for (const method of methods) {
      // router adds HEAD to every GET route by itself; HEAD is documented by GET.
      if (method === 'HEAD' && methods.includes('GET')) continue;
      found.push(`${method} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
  }
  return found;
}

/** The OpenAPI document as data: one operation per `METHOD /path`. */
function documentedRoutes(doc: OpenApiDoc): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
}

describe('OpenAPI document', () => {
  let stack: Stack;
  let tenant: TestTenant;
  let doc: OpenApiDoc;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  const compiled = new Map<string, ValidateFunction>();

  /** A schema from the document, with `$ref: #/components/schemas/X` resolved, compiled by ajv. */
  function validatorFor(schema: JsonSchema): ValidateFunction {
    const ref = typeof schema.$ref === 'string' ? schema.$ref : undefined;
    const key = ref ?? JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      const target = ref ? doc.components.schemas[ref.replace('#/components/schemas/', '')] : schema;
      if (!target) throw new Error(`${ref} is not in components.schemas`);
      validate = ajv.compile(target);
      compiled.set(key, validate);
    }
    return validate;
  }

  function operation(method: string, path: string): OperationDoc {
    const op = doc.paths[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${path} is not documented`);
    return op;
  }

  function requestSchema(method: string, path: string): ValidateFunction {
    const schema = operation(method, path).requestBody?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`${method} ${path} documents no JSON request body`);
    return validatorFor(schema);
  }

  /** Fails unless `status` is documented for the operation and the body is valid against its schema. */
  function expectDocumentedAnswer(method: string, path: string, answer: { status: number; headers: Headers; body: unknown }): void {
    const response = operation(method, path).responses[String(answer.status)];
    if (!response) throw new Error(`${method} ${path} answered ${answer.status}, which the document does not list: ${JSON.stringify(answer.body)}`);
    if (!response.content) return;
    const contentType = answer.headers.get('content-type') ?? '';
    const entry = Object.entries(response.content).find(([type]) => contentType.startsWith(type));
    if (!entry) throw new Error(`${method} ${path} ${answer.status}: content type ${contentType}, documented ${Object.keys(response.content).join(', ')}`);
    const validate = validatorFor(entry[1].schema);
    if (!validate(answer.body)) {
      throw new Error(
        `${method} ${path} ${answer.status}: the answer does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(answer.body)}`,
      );
    }
  }

  beforeAll(async () => {
    stack = await Stack.start('openapi', { worker: false });
    tenant = await stack.tenant('oas');
    const res = await fetch(`${stack.baseUrl}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as OpenApiDoc;
  });
  afterAll(async () => stack?.stop());

  test('is OpenAPI 3.1, public, versioned like the package, with a bearer API-key scheme', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.version).toBe(packageJson.version);
    const bearer = Object.entries(doc.components.securitySchemes).find(([, s]) => s.type === 'http' && s.scheme === 'bearer');
    expect(bearer).toBeDefined();
    expect(doc.security).toEqual([{ [bearer![0]]: [] }]);
    for (const path of ['/healthz', '/readyz', '/api/openapi.json']) expect(operation('GET', path).security).toEqual([]);
    // Component schemas are self-contained, so each one can be used (and compiled) on its own.
    expect(JSON.stringify(doc.components.schemas)).not.toContain('$ref');
    for (const name of Object.keys(doc.components.schemas)) expect(() => validatorFor({ $ref: `#/components/schemas/${name}` })).not.toThrow();
  });

  test('documents every route the Express app registers, and nothing it does not', () => {
    const app = createApp({ pool: stack.pool, temporal: stack.temporal, config: stack.config }, pino({ level: 'silent' }));
    const registered = registeredRoutes((app as unknown as { router: RouterLike }).router);
    expect(registered.length).toBeGreaterThan(10);
    const operations = registered.filter((r) => !NOT_OPERATIONS.has(r));
    for (const known of NOT_OPERATIONS) expect(registered).toContain(known); // the exclusions are still real
    const documented = documentedRoutes(doc);
    // Listed one by one, so a failure names the route to add to OPERATIONS in src/api/openapi.ts.
    expect(operations.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((r) => !operations.includes(r))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  test('request schemas are the zod schemas the routes validate with', () => {
    const forecast = doc.components.schemas.Forecast as { properties: Record<string, JsonSchema>; required: string[] };
    expect(forecast.properties.confidence).toMatchObject({ type: 'number', minimum: 0, maximum: 100 });
    expect(forecast.required).toEqual(expect.arrayContaining(['id', 'riskType', 'confidence', 'recommendedAction']));
    expect(forecast.required).not.toContain('rawFeatures'); // has a default: optional for a client

    const declaration = doc.components.schemas.Declaration as { properties: Record<string, JsonSchema> };
    expect(declaration.properties.severity).toEqual({ type: 'string', enum: [...SEVERITIES] });

    const byId = operation('GET', '/api/incidents/{id}').parameters ?? [];
    expect(byId).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true, schema: expect.objectContaining({ format: 'uuid' }) })]);
    const list = operation('GET', '/api/incidents').parameters ?? [];
    expect(list.map((p) => p.name)).toEqual(['status', 'severity', 'source', 'limit', 'cursor']);
    expect(list.find((p) => p.name === 'limit')).toMatchObject({ in: 'query', required: false, schema: { minimum: 1, maximum: 200 } });

    // Runbooks: either the native runbook (the action catalogue listed) or seed 000's format; PUT takes the id from the path.
    type Branch = { required: string[]; properties: Record<string, { items: { properties: Record<string, { enum: string[] }> } }> };
    const [native, seed] = (doc.components.schemas.Runbook as { anyOf: Branch[] }).anyOf;
    expect(native!.properties.steps!.items.properties.action!.enum).toContain('http');
    expect(native!.required).toContain('id');
    expect(seed!.properties.actions!.items.properties.type!.enum).toEqual(['notify', 'block', 'scale_down', 'disable_feature', 'restart']);
    expect(seed!.required).not.toContain('id');
    const update = (doc.components.schemas.RunbookUpdate as { anyOf: Branch[] }).anyOf;
    expect(update.map((b) => b.required.includes('id'))).toEqual([false, false]);
    const validate = requestSchema('POST', '/api/runbooks');
    expect(validate(JSON.parse(readFileSync(join(__dirname, '../fixtures/seeds/000-budget-overrun.json'), 'utf8')))).toBe(true);
    expect(Object.keys(operation('PUT', '/api/runbooks/{id}').requestBody?.content ?? {})).toEqual(['application/json', 'application/yaml']);
  });

  test('a JSON Schema validator and zod agree on a forecast, and so does the server', async () => {
    const validate = requestSchema('POST', '/api/incident/from-forecast');
    const valid = { id: 'fc-oas', riskType: 'capacity exhaustion', confidence: 65, recommendedAction: 'scale out', rawFeatures: { replicas: 6 } };
    expect(validate(valid)).toBe(true);
    expect(ForecastSchema.safeParse(valid).success).toBe(true);

    const invalid = { ...valid, confidence: 150 };
    expect(validate(invalid)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(['/confidence']);
    const zod = ForecastSchema.safeParse(invalid);
    expect(zod.success).toBe(false);
    expect(zod.error?.issues.map((i) => i.path)).toEqual([['confidence']]);

    const answer = await stack.call<{ errors: { path: string }[] }>('POST', '/api/incident/from-forecast', tenant.keys.ingest, invalid);
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e) => e.path)).toEqual(['confidence']);
    expectDocumentedAnswer('POST', '/api/incident/from-forecast', answer);

    // A field zod does not know is refused by both where the schema is strict (dry run body).
    const dryRun = requestSchema('POST', '/api/runbooks/{id}/test');
    expect(dryRun({ incident: { title: 't', severity: 'low' } })).toBe(true);
    expect(dryRun({ incident: { title: 't', severity: 'low' }, extra: 1 })).toBe(false);
    expect(dryRun({ incident: { title: 't', severity: 'urgent' } })).toBe(false);
  });

  test('public routes answer what the document says', async () => {
    for (const path of ['/healthz', '/readyz', '/api/openapi.json', '/metrics']) {
      const res = await fetch(`${stack.baseUrl}${path}`);
      const text = await res.text();
      const body: unknown = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
      expectDocumentedAnswer('GET', path, { status: res.status, headers: res.headers, body });
    }
  });

  test('answers with data match their documented schemas (the types the CLI client uses)', async () => {
    // Another tenant's data: the probes below check that they write nothing into `tenant`.
    const other = await stack.tenant('oas-data');
    const runbook = { id: 'oas-rb', name: 'oas', steps: [{ id: 's', name: 's', action: 'wait', params: { duration: '1s' } }] };
    const created = await stack.call('POST', '/api/runbooks', other.keys.admin, runbook);
    expectDocumentedAnswer('POST', '/api/runbooks', created);
    expect(created.status).toBe(201);
    const put = await stack.call('PUT', '/api/runbooks/oas-rb', other.keys.admin, { ...runbook, id: undefined, name: 'oas v2' });
    expectDocumentedAnswer('PUT', '/api/runbooks/{id}', put);
    expect(put.status).toBe(200);
    expectDocumentedAnswer('GET', '/api/runbooks', await stack.call('GET', '/api/runbooks', other.keys.viewer));
    expectDocumentedAnswer('GET', '/api/runbooks/{id}', await stack.call('GET', '/api/runbooks/oas-rb', other.keys.viewer));
    expectDocumentedAnswer('GET', '/api/runbooks/{id}/versions', await stack.call('GET', '/api/runbooks/oas-rb/versions', other.keys.viewer));
    const plan = await stack.call('POST', '/api/runbooks/oas-rb/test', other.keys.viewer, { incident: { title: 't', severity: 'low' } });
    expect(plan.status).toBe(200);
    expectDocumentedAnswer('POST', '/api/runbooks/{id}/test', plan);

    const opened = await stack.call<{ id: string }>('POST', '/api/incidents', other.keys.ingest, {
      title: 'oas incident',
      severity: 'high',
      labels: { env: 'test' },
    });
    expectDocumentedAnswer('POST', '/api/incidents', opened);
    const item = await stack.call('POST', `/api/incidents/${opened.body.id}/action-items`, other.keys.responder, {
      title: 'oas follow-up',
      dueDate: '2000-01-01',
    });
    expectDocumentedAnswer('POST', '/api/incidents/{id}/action-items', item);
    const items = await stack.call<{ items: unknown[] }>('GET', '/api/action-items?overdue=true', other.keys.viewer);
    expect(items.body.items.length).toBe(1);
    expectDocumentedAnswer('GET', '/api/action-items', items);
    const list = await stack.call<{ items: unknown[] }>('GET', '/api/incidents', other.keys.viewer);
    expect(list.body.items.length).toBe(1);
    expectDocumentedAnswer('GET', '/api/incidents', list);
    const details = await stack.call('GET', `/api/incidents/${opened.body.id}`, other.keys.viewer);
    expect(details.status).toBe(200);
    expectDocumentedAnswer('GET', '/api/incidents/{id}', details);
  });

  test('each /api operation is refused without a key and enforces exactly the roles it documents', async () => {
    const probed: string[] = [];
    const wrong: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const roles = op['x-required-roles'];
        if (op.security?.length === 0) {
          expect(roles).toBeUndefined();
          continue;
        }
        expect(roles?.length).toBeGreaterThan(0);
        // Ids nobody has and empty bodies: every answer is a refusal (400, 403, 404) or a read, nothing is written.
        const url = path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
          const param = op.parameters?.find((p) => p.in === 'path' && p.name === name);
          return param?.schema.format === 'uuid' ? randomUUID() : 'openapi-probe';
        });
        const body = op.requestBody ? {} : undefined;
        const call = async (key: string | undefined) => {
          const answer = await stack.call(method.toUpperCase(), url, key, body);
          expectDocumentedAnswer(method, path, answer);
          return answer.status;
        };
        const name = `${method.toUpperCase()} ${path}`;
        const anonymous = await call(undefined);
        if (anonymous !== 401) wrong.push(`${name} without a key: ${anonymous}`);
        for (const role of ROLES) {
          const allowed = role === 'admin' || roles!.includes(role);
          const status = await call(tenant.keys[role]);
          if (allowed === (status === 403)) wrong.push(`${name} as ${role}: ${status}, documented roles ${roles!.join(', ')}`);
        }
        probed.push(name);
      }
    }
    expect(wrong).toEqual([]);
    expect(probed).toEqual(expect.arrayContaining(['POST /api/incidents', 'PUT /api/runbooks/{id}', 'POST /api/incidents/{id}/steps/{stepId}/decision']));
    // Nothing was written by the probes.
    const { rows } = await stack.admin.query(
      'SELECT (SELECT count(*) FROM incidents WHERE tenant_id = $1)::int AS incidents, (SELECT count(*) FROM runbooks WHERE tenant_id = $1)::int AS runbooks',
      [tenant.id],
    );
    expect(rows[0]).toEqual({ incidents: 0, runbooks: 0 });
  });
});
