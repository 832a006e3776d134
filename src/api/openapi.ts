import { z } from 'zod';
import packageJson from '../../package.json';
import { ACTION_TYPES } from '../domain/actions';
import { RoleSchema, type Role } from '../domain/access';
import { runbookJsonSchema, seedRunbookJsonSchema } from '../domain/runbook-json-schema';
import { SEED_ACTION_TYPES } from '../domain/seed-actions';
import type { JsonSchema, OperationSpec, SchemaSource } from './route';

/**
 * The OpenAPI 3.1 description of this API, served at GET /api/openapi.json, built from the route
 * registry (src/api/routes/index.ts): each route's declaration (src/api/route.ts) carries its
 * method, path, roles and schemas.
 *
 * Request schemas (bodies, path and query parameters, headers) are the very zod schemas the routes
 * validate with, so the contract cannot drift from validation. Response schemas are zod schemas
 * next to their routes, whose inferred types the CLI client uses; test/integration/openapi.test.ts
 * checks real answers against them and checks that every route the Express app registers is in
 * the document.
 */

export type { JsonSchema, OperationSpec } from './route';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ description: 'RFC 9457 problem details; `errors` names each failing field.' });

/** The problem+json statuses an operation may answer besides those every operation of its kind may: 404, 409 or both. */
export const problemsFor = (notFound: boolean, conflict: boolean): number[] => [...(notFound ? [404] : []), ...(conflict ? [409] : [])];

/** A body schema for PUT to a path that names the resource: `id` may be left out of the body. */
export function idFromPath(schema: JsonSchema): JsonSchema {
  if (Array.isArray(schema.anyOf)) return { ...schema, anyOf: (schema.anyOf as JsonSchema[]).map(idFromPath) };
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return { ...schema, required: required.filter((name) => name !== 'id') };
}

/**
 * A runbook as POST and PUT take it: the native runbook (the JSON Schema lists the action catalogue,
 * with each action's parameters), or seed 000's format, told apart by its shape (`actions`, no `steps`).
 */
export function runbookSchema(): JsonSchema {
  const { $id: _id, title: _title, ...native } = runbookJsonSchema(ACTION_TYPES);
  return {
    description:
      'Either the native runbook (`steps`) or the seed 000 runbook format (`triggerConditions`, `actions[{type, payload, order, requiresApproval}]`, ' +
      '`severityScope: "all" | <severity>`, `requiresHsoeApproval`), recognised by having `actions` and no `steps` and converted to the native runbook; ' +
      'errors in a seed document name its own paths (`actions[1].payload.service`). See docs/runbooks.md, "Seed 000 format".',
    anyOf: [{ ...native, title: 'Native runbook' }, seedRunbookJsonSchema(SEED_ACTION_TYPES)],
  };
}

const PROBLEM_TITLES: Record<number, string> = {
  400: 'invalid request: `errors` names each failing field',
  401: 'no API key, or an unknown or revoked one',
  403: 'the API key lacks the role',
  404: "not found (also for another tenant's resources)",
  409: 'conflicts with the current state',
  413: 'the body is larger than AIRE_BODY_LIMIT',
  415: 'the body is not JSON (or YAML where accepted)',
  429: 'this API key is over its rate limit (AIRE_RATE_LIMIT_INTAKE or AIRE_RATE_LIMIT_APPROVALS per minute); retry after Retry-After seconds',
  500: 'unexpected error; it has been logged',
  503: 'PostgreSQL or Temporal does not answer; retry after Retry-After seconds',
};

/** The problem+json statuses an operation may answer. */
export function problemStatuses(op: OperationSpec): number[] {
  // A public route answers the problems it lists (Slack's, authenticated by a signature, not a key).
  if (op.roles === null) return [...(op.problems ?? [])].sort((a, b) => a - b);
  const statuses = new Set([401, 403, 500, 503, ...(op.problems ?? []), ...(op.rateLimit ? [429] : [])]);
  if (op.params || op.query || op.headers || op.body) statuses.add(400);
  if (op.body) {
    statuses.add(413);
    statuses.add(415);
  }
  return [...statuses].sort((a, b) => a - b);
}

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) of what a client sends, or of what the API answers. */
export function toJsonSchema(source: SchemaSource, io: 'input' | 'output'): JsonSchema {
  const schema: JsonSchema = typeof source === 'function' ? source() : z.toJSONSchema(source, { io, unrepresentable: 'any' });
  const copy = { ...schema };
  delete copy.$schema;
  delete copy.$id;
  return copy;
}

/** `/api/incidents/:id` → `/api/incidents/{id}` */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(schema: z.ZodType, where: 'path' | 'query'): JsonSchema[] {
  const json = toJsonSchema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(json.required) ? (json.required as string[]) : []);
  return Object.entries(properties).map(([name, property]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: property }));
}

function buildDocument(operations: readonly OperationSpec[]): JsonSchema {
  const schemas: Record<string, JsonSchema> = { Problem: toJsonSchema(ProblemSchema, 'output') };
  const referenced = new Set<string>();
  const register = (name: string, source: SchemaSource | undefined, io: 'input' | 'output'): JsonSchema => {
    if (source !== undefined) {
      const json = toJsonSchema(source, io);
      const known = schemas[name];
      if (known !== undefined && JSON.stringify(known) !== JSON.stringify(json)) throw new Error(`two different schemas named ${name}`);
      schemas[name] = json;
    }
    referenced.add(name);
    return { $ref: `#/components/schemas/${name}` };
  };

  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of operations) {
    const path = openApiPath(op.path);
    const pathParams = op.params ? parameters(op.params, 'path') : [];
    const named = [...op.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
    const documented = pathParams.map((p) => p.name);
    if (named.join() !== documented.join())
      throw new Error(`${op.method.toUpperCase()} ${op.path}: path parameters ${named.join()} but schema has ${documented.join()}`);

    const headerParams = Object.entries(op.headers ?? {}).map(([name, schema]) => ({
      name,
      in: 'header',
      required: !schema.safeParse(undefined).success,
      schema: toJsonSchema(schema, 'input'),
    }));

    const responses: Record<string, JsonSchema> = {};
    for (const [status, spec] of Object.entries(op.responses)) {
      const schema = spec.component ? register(spec.component, spec.schema, 'output') : spec.schema ? toJsonSchema(spec.schema, 'output') : undefined;
      responses[status] = {
        description: spec.description,
        ...(spec.headers
          ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) }
          : {}),
        ...(schema
          ? {
              content: {
                [spec.contentType ?? 'application/json']: { schema },
                ...Object.fromEntries(Object.entries(spec.alternatives ?? {}).map(([type, alt]) => [type, { schema: toJsonSchema(alt, 'output') }])),
              },
            }
          : {}),
      };
    }
    for (const status of problemStatuses(op)) {
      responses[String(status)] = {
        description: PROBLEM_TITLES[status] ?? 'error',
        ...(status === 401 ? { headers: { 'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string' } } } } : {}),
        ...(status === 503 || status === 429 ? { headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'string' } } } } : {}),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }

    let requestBody: JsonSchema | undefined;
    if (op.body) {
      const ref = register(op.body.component, op.body.schema, 'input');
      requestBody = {
        required: true,
        content: { [op.body.contentType ?? 'application/json']: { schema: ref }, ...(op.body.yaml ? { 'application/yaml': { schema: ref } } : {}) },
      };
    }

    const roles: Role[] | null = op.roles === null ? null : [...new Set(op.roles)];
    paths[path] ??= {};
    if (paths[path][op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is listed twice`);
    paths[path][op.method] = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      description: [op.description, roles ? `Roles: ${roles.join(', ')} (admin may do everything).` : 'No API key needed.'].filter(Boolean).join('\n\n'),
      ...(roles ? { 'x-required-roles': roles } : { security: [] }),
      ...(pathParams.length + headerParams.length > 0 || op.query
        ? { parameters: [...pathParams, ...(op.query ? parameters(op.query, 'query') : []), ...headerParams] }
        : {}),
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
  }

  for (const name of referenced) if (schemas[name] === undefined) throw new Error(`schema ${name} is referenced but never given`);

  return {
    openapi: '3.1.0',
    info: {
      title: 'AIRE API',
      version: packageJson.version,
      description: packageJson.description,
      license: { name: packageJson.license, identifier: packageJson.license },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    tags: [
      { name: 'health', description: 'liveness and readiness, no API key' },
      { name: 'meta', description: 'this document' },
      { name: 'console', description: 'the approval console (a static page)' },
      { name: 'intake', description: 'where incidents come in' },
      { name: 'incidents', description: 'reading incidents and signalling their workflows' },
      { name: 'reviews', description: 'post-incident reports and action items' },
      { name: 'runbooks', description: 'runbooks as code, versioned; dry runs' },
      { name: 'rules', description: 'detection rules that POST /api/events runs every event through' },
      { name: 'controls', description: 'kill switches and blocks in force' },
      { name: 'settings', description: "the tenant's approval policy, SLAs, escalation and notification channels" },
      { name: 'keys', description: "the tenant's API keys" },
      { name: 'breakers', description: 'circuit breakers on automatic remediation' },
      { name: 'metrics', description: 'Prometheus metrics and response metrics' },
      { name: 'codec', description: 'Temporal codec endpoint: encrypted payloads for the Web UI and CLI (AIRE_PAYLOAD_KEYS)' },
      { name: 'slack', description: "approving from Slack: the Slack app's interactivity requests, signed by Slack" },
    ],
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'API key',
          description: `\`Authorization: Bearer <api key>\`; a key belongs to one tenant and has roles (${RoleSchema.options.join(', ')}).`,
        },
      },
      schemas,
    },
  };
}

const built = new WeakMap<readonly OperationSpec[], JsonSchema>();

/** The document of these routes (the registry), built once from their schemas. */
export function openApiDocument(operations: readonly OperationSpec[]): JsonSchema {
  let doc = built.get(operations);
  if (!doc) {
    doc = buildDocument(operations);
    built.set(operations, doc);
  }
  return doc;
}
