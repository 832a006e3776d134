import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import type { Principal, Role } from '../domain/access';
import { principalOf, requireRole } from './auth';
import type { Deps } from './deps';
import { type LimitName, rateLimit } from './rate-limit';
import { body as parseBody, headers as parseHeaders, params as parseParams, query as parseQuery } from './validate';

/**
 * One route, declared once: method, path, roles, request and response schemas, handler. Express
 * mounting (mountRoutes below), the role check, validation and the OpenAPI document
 * (src/api/openapi.ts) all read the same declaration; the registry is src/api/routes/index.ts.
 */

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type JsonSchema = Record<string, unknown>;

/** A zod schema, or a JSON Schema built from one (when the generated schema needs a documented patch). */
export type SchemaSource = z.ZodType | (() => JsonSchema);

export interface BodySpec {
  /** Name under components.schemas. */
  component: string;
  /**
   * A zod schema is what the body is validated with before the handler runs. A JSON Schema (a
   * function) only documents the body: the handler reads `req.body` itself (runbooks, rules).
   */
  schema: SchemaSource;
  /** Also accepted as application/yaml (runbooks, rules). */
  yaml?: boolean;
  /** The media type, when not application/json (Slack's form-encoded interactions). */
  contentType?: string;
  /** The zod schema only documents the body; the handler parses `req.body` itself (events: CloudEvents or plain JSON). */
  raw?: boolean;
}

export interface ResponseSpec {
  description: string;
  /** Name under components.schemas; the schema is `schema`, or the one already registered under that name. */
  component?: string;
  schema?: SchemaSource;
  headers?: Record<string, string>;
  /** application/json unless given. */
  contentType?: string;
  /** The same answer in other media types (content negotiation), by media type. */
  alternatives?: Record<string, SchemaSource>;
}

export type Tag =
  | 'health'
  | 'meta'
  | 'console'
  | 'intake'
  | 'incidents'
  | 'reviews'
  | 'runbooks'
  | 'rules'
  | 'controls'
  | 'settings'
  | 'keys'
  | 'breakers'
  | 'metrics'
  | 'codec'
  | 'slack';

/**
 * Where a route is mounted, in this order (src/api/app.ts):
 * - `public`: on the app itself, before anything asks for a key (health, this document, /metrics, the console page);
 * - `codec`: under /api/codec, whose router answers the Web UI's CORS preflight (which carries no key) before asking for one;
 * - `api`: under /api, behind the API key, the body parsers and the hostile-input check.
 */
export type Mount = 'public' | 'codec' | 'api';
export const MOUNT_PATHS: Record<Mount, string> = { public: '', codec: '/api/codec', api: '/api' };

/** What the OpenAPI document and the tests read of a route. */
export interface OperationSpec {
  method: Method;
  /** The full path as Express matches it (`/api/incidents/:id`); the document writes `{id}`. */
  path: string;
  operationId: string;
  tag: Tag;
  summary: string;
  description?: string;
  /** Roles that may call it (`admin` always may); null: public, no API key. */
  roles: readonly Role[] | null;
  params?: z.ZodType;
  query?: z.ZodType;
  headers?: Record<string, z.ZodType>;
  body?: BodySpec;
  /** Answers other than problem+json errors, by status. */
  responses: Record<number, ResponseSpec>;
  /** problem+json statuses this operation answers beyond those every operation of its kind may (404, 409…). */
  problems?: number[];
  /** The per-key rate limit the route is under (src/api/rate-limit.ts); documented as 429. */
  rateLimit?: LimitName;
  mount: Mount;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
type HeadersOut<H> = H extends Record<string, z.ZodType> ? { [K in keyof H]: z.output<H[K]> } : undefined;
type BodyOut<B> = B extends { raw: true } ? unknown : B extends { schema: infer S extends z.ZodType } ? z.output<S> : B extends BodySpec ? unknown : undefined;

/** What a handler is given: the request's parts already validated (and typed), the caller, and the app's dependencies. */
export interface RouteContext<P = unknown, Q = unknown, H = unknown, B = unknown, Who = Principal | undefined> {
  params: P;
  query: Q;
  headers: H;
  body: B;
  /** The API key's tenant and roles; undefined on public routes. */
  principal: Who;
  deps: Deps;
  req: Request;
  res: Response;
}

export interface Route extends OperationSpec {
  /** Run after the role check and the rate limit, before validation (e.g. a signature check). */
  middleware?: (deps: Deps) => RequestHandler[];
  /** Answers through `res`; errors it throws (or rejects with) become problem+json (src/api/problem.ts). */
  handler(ctx: RouteContext): unknown;
}

export interface RouteDefinition<P, Q, H, B, R extends readonly Role[] | null> extends Omit<
  OperationSpec,
  'params' | 'query' | 'headers' | 'body' | 'roles' | 'mount'
> {
  roles: R;
  params?: P;
  query?: Q;
  headers?: H;
  body?: B;
  /** Public routes (roles null) are mounted `public`, the rest `api`, unless said otherwise. */
  mount?: Mount;
  middleware?: (deps: Deps) => RequestHandler[];
  handler: (ctx: RouteContext<Out<P>, Out<Q>, HeadersOut<H>, BodyOut<B>, R extends null ? undefined : Principal>) => unknown;
}

/** Declares a route; its handler's `params`, `query`, `headers` and `body` are typed from the schemas. */
export function defineRoute<
  const P extends z.ZodType | undefined = undefined,
  const Q extends z.ZodType | undefined = undefined,
  const H extends Record<string, z.ZodType> | undefined = undefined,
  const B extends BodySpec | undefined = undefined,
  const R extends readonly Role[] | null = readonly Role[],
>(definition: RouteDefinition<P, Q, H, B, R>): Route {
  const mount = definition.mount ?? (definition.roles === null ? 'public' : 'api');
  if ((mount === 'public') !== (definition.roles === null)) throw new Error(`${definition.operationId}: public routes, and only they, have no roles`);
  if (!definition.path.startsWith(`${MOUNT_PATHS[mount]}/`)) throw new Error(`${definition.operationId}: ${definition.path} is not under ${mount}`);
  return { ...definition, mount };
}

/**
 * A handler that is not an operation, mounted after the operations of its group: the 404 for an
 * unknown incident action, which would otherwise shadow the routes below /incidents/:id/.
 */
export interface Fallback {
  mount: Mount;
  path: string;
  handler: RequestHandler;
}

/** Registers the routes (and then the fallbacks) of one mount group: role check, rate limit, middleware, validation, handler. */
export function mountRoutes(router: Router, mount: Mount, routes: readonly Route[], fallbacks: readonly Fallback[], deps: Deps): void {
  const prefix = MOUNT_PATHS[mount];
  for (const route of routes.filter((r) => r.mount === mount)) {
    const chain: RequestHandler[] = [];
    if (route.roles !== null) chain.push(requireRole(...route.roles));
    if (route.rateLimit) chain.push(rateLimit(deps, route.rateLimit));
    chain.push(...(route.middleware?.(deps) ?? []));
    // Path, query, body, then headers: the first that fails is the 400 answered.
    const validated: RequestHandler = async (req, res) => {
      const params: unknown = route.params ? parseParams(route.params, req) : undefined;
      const query: unknown = route.query ? parseQuery(route.query, req) : undefined;
      const body: unknown = !route.body ? undefined : typeof route.body.schema === 'function' || route.body.raw ? req.body : parseBody(route.body.schema, req);
      const headers: unknown = route.headers ? parseHeaders(route.headers, req) : undefined;
      const principal = route.roles === null ? undefined : principalOf(res);
      await route.handler({ params, query, headers, body, principal, deps, req, res });
    };
    router[route.method](route.path.slice(prefix.length), ...chain, validated);
  }
  for (const fallback of fallbacks.filter((f) => f.mount === mount)) router.all(fallback.path.slice(prefix.length), fallback.handler);
}
