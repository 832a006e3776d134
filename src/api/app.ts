import express, { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';
import { requireKey } from './auth';
import { consoleFiles } from './console';
import { rejectHostileInput } from './hostile-input';
import type { Deps } from './deps';
import { HttpProblem, problemHandler } from './problem';
import { mountRoutes } from './route';
import { keepRawBody } from './signature';
import { codecGate } from './routes/codec';
import { FALLBACKS, INTAKE_PATHS, ROUTES } from './routes';
import { observeRequests } from './routes/metrics';
import { traceRequests } from './tracing';
import { activeTracing } from '../tracing';

const JSON_TYPES = ['application/json', 'application/cloudevents+json', 'application/*+json'];
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/** A body we cannot read is refused up front instead of being treated as empty. */
function requireKnownBody(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (!hasBody || req.is([...JSON_TYPES, ...YAML_TYPES])) return next();
  throw new HttpProblem(415, 'Unsupported Media Type', 'send the body as application/json (runbooks may also be application/yaml)');
}

/**
 * The thin HTTP API: validates, authorises, starts workflows and sends signals. It runs no remediation.
 * Every route is in the registry (src/api/routes/index.ts); here are the three groups it is mounted in.
 */
export function createApp(appDeps: Deps, log: Logger): express.Express {
  const deps: Deps = { ...appDeps, log };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // First, so that everything a request does is inside its span; only while tracing is on (src/tracing.ts).
  if (activeTracing()) app.use(traceRequests());
  // Before every route, so its request timing sees them all.
  app.use(observeRequests(INTAKE_PATHS));

  // Public: health, the OpenAPI document, /metrics and the console page, before anything asks for a key.
  const open = express.Router();
  mountRoutes(open, 'public', ROUTES, FALLBACKS, deps);
  app.use(open);
  // The console's script and style, after its page.
  app.use('/console', consoleFiles());

  // The codec endpoint answers the Web UI's CORS preflight, which carries no key: mounted before the API router.
  const codec = express.Router();
  codec.use(...codecGate(deps));
  mountRoutes(codec, 'codec', ROUTES, FALLBACKS, deps);
  app.use('/api/codec', codec);

  const api = express.Router();
  api.use(requireKey(deps.pool));
  api.use(requireKnownBody);
  api.use(express.json({ limit: deps.config.AIRE_BODY_LIMIT, type: JSON_TYPES, strict: true, verify: keepRawBody }));
  api.use(express.text({ limit: deps.config.AIRE_BODY_LIMIT, type: YAML_TYPES }));
  // Depth past 64, NUL, lone surrogates and __proto__ keys: valid JSON that breaks what comes after (src/api/hostile-input.ts).
  api.use(rejectHostileInput);
  mountRoutes(api, 'api', ROUTES, FALLBACKS, deps);
  app.use('/api', api);

  app.use((req, _res, next) => next(new HttpProblem(404, 'Not Found', `no route for ${req.method} ${req.path}`)));
  app.use(problemHandler(log));
  return app;
}
