import express, { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';
import { requireKey } from './auth';
import { consoleRoutes } from './console';
import { rejectHostileInput } from './hostile-input';
import type { Deps } from './deps';
import { openApiRoute } from './openapi';
import { HttpProblem, problemHandler } from './problem';
import { keepRawBody } from './signature';
import { actionItemRoutes } from './routes/action-items';
import { alertmanagerRoutes } from './routes/alertmanager';
import { breakerRoutes } from './routes/breakers';
import { codecRoutes } from './routes/codec';
import { controlRoutes } from './routes/controls';
import { eventRoutes } from './routes/events';
import { incidentRoutes } from './routes/incidents';
import { intakeRoutes } from './routes/intake';
import { keyRoutes } from './routes/keys';
import { metricsRoutes, prometheusRoutes } from './routes/metrics';
import { reportRoutes } from './routes/reports';
import { ruleRoutes } from './routes/rules';
import { runbookRoutes } from './routes/runbooks';
import { settingsRoutes } from './routes/settings';

const JSON_TYPES = ['application/json', 'application/cloudevents+json', 'application/*+json'];
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/** A body we cannot read is refused up front instead of being treated as empty. */
function requireKnownBody(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (!hasBody || req.is([...JSON_TYPES, ...YAML_TYPES])) return next();
  throw new HttpProblem(415, 'Unsupported Media Type', 'send the body as application/json (runbooks may also be application/yaml)');
}

async function checkReady(deps: Deps): Promise<Record<string, string>> {
  const checks: Record<string, string> = {};
  await deps.pool.query('SELECT 1').then(
    () => (checks.postgres = 'ok'),
    (err: Error) => (checks.postgres = err.message),
  );
  await deps.temporal.workflowService.getSystemInfo({}).then(
    () => (checks.temporal = 'ok'),
    (err: Error) => (checks.temporal = err.message),
  );
  return checks;
}

/** The thin HTTP API: validates, authorises, starts workflows and sends signals. It runs no remediation. */
export function createApp(appDeps: Deps, log: Logger): express.Express {
  const deps: Deps = { ...appDeps, log };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(prometheusRoutes());

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await checkReady(deps);
    const ready = Object.values(checks).every((v) => v === 'ok');
    if (!ready) res.set('Retry-After', '5');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });

  // The API's OpenAPI document is public, like /healthz: mounted before the router that asks for a key.
  app.get('/api/openapi.json', openApiRoute());

  // The approval console: a static page (no key needed to load it) that calls the API below with one.
  app.use('/console', consoleRoutes());

  // The codec endpoint answers the Web UI's CORS preflight, which carries no key: mounted before the API router.
  app.use('/api/codec', codecRoutes(deps));

  const api = express.Router();
  api.use(requireKey(deps.pool));
  api.use(requireKnownBody);
  api.use(express.json({ limit: deps.config.AIRE_BODY_LIMIT, type: JSON_TYPES, strict: true, verify: keepRawBody }));
  api.use(express.text({ limit: deps.config.AIRE_BODY_LIMIT, type: YAML_TYPES }));
  // Depth past 64, NUL, lone surrogates and __proto__ keys: valid JSON that breaks what comes after (src/api/hostile-input.ts).
  api.use(rejectHostileInput);
  api.use(intakeRoutes(deps));
  api.use(alertmanagerRoutes(deps));
  api.use(eventRoutes(deps));
  api.use(ruleRoutes(deps));
  // Before incidentRoutes, whose catch-all answers 404 for unknown /incidents/:id/<action>.
  api.use(reportRoutes(deps));
  api.use(actionItemRoutes(deps));
  api.use(incidentRoutes(deps));
  api.use(runbookRoutes(deps));
  api.use(controlRoutes(deps));
  api.use(settingsRoutes(deps));
  api.use(keyRoutes(deps));
  api.use(breakerRoutes(deps));
  api.use(metricsRoutes(deps));
  app.use('/api', api);

  app.use((req, _res, next) => next(new HttpProblem(404, 'Not Found', `no route for ${req.method} ${req.path}`)));
  app.use(problemHandler(log));
  return app;
}
