import { consoleRoutes } from '../console';
import { openApiDocument } from '../openapi';
import { type Fallback, type OperationSpec, type Route, defineRoute } from '../route';
import { actionItemRoutes } from './action-items';
import { alertmanagerRoutes } from './alertmanager';
import { breakerRoutes } from './breakers';
import { codecRoutes } from './codec';
import { commandRoutes } from './command';
import { controlRoutes } from './controls';
import { eventRoutes } from './events';
import { healthRoutes } from './health';
import { incidentRoutes, unknownIncidentAction } from './incidents';
import { intakeRoutes } from './intake';
import { keyRoutes } from './keys';
import { metricsRoutes, prometheusRoutes } from './metrics';
import { postmortemRoutes } from './postmortems';
import { reportRoutes } from './reports';
import { ruleRoutes } from './rules';
import { runbookRoutes } from './runbooks';
import { settingsRoutes } from './settings';
import { slackRoutes } from './slack';
import { timelineRoutes } from './timeline';

/** GET /api/openapi.json: public, like /healthz; the document of this very registry. */
const openApiRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openapi',
    tag: 'meta',
    summary: 'This OpenAPI 3.1 document',
    roles: null,
    responses: { 200: { description: 'the OpenAPI document', schema: () => ({ type: 'object' }) } },
    handler: ({ res }) => {
      res.json(openApiDocument(ROUTES));
    },
  }),
];

/**
 * EVERY ROUTE THE API SERVES, each declared once in its module (src/api/route.ts says how). Express
 * mounts them group by group (`mount`: public, then codec, then api; src/api/app.ts) in this order,
 * and the OpenAPI document lists them in this order.
 */
export const ROUTES: readonly Route[] = [
  // public: no API key
  ...healthRoutes,
  ...openApiRoutes,
  ...prometheusRoutes,
  ...consoleRoutes,
  // Slack's requests: no API key, a signature (src/api/slack.ts)
  ...slackRoutes,
  // intake
  ...intakeRoutes,
  ...alertmanagerRoutes,
  ...eventRoutes,
  // incidents and their review
  ...incidentRoutes,
  ...commandRoutes,
  ...timelineRoutes,
  ...reportRoutes,
  ...postmortemRoutes,
  ...actionItemRoutes,
  // configuration
  ...runbookRoutes,
  ...ruleRoutes,
  ...controlRoutes,
  ...settingsRoutes,
  ...keyRoutes,
  ...breakerRoutes,
  ...metricsRoutes,
  // Temporal's codec endpoint (its own mount: CORS preflight before the key)
  ...codecRoutes,
];

/** What the document and the tests read of the routes: the registry itself. */
export const OPERATIONS: readonly OperationSpec[] = ROUTES;

/** Handlers that are not operations, mounted after the routes of their group. */
export const FALLBACKS: readonly Fallback[] = [
  // Any other /incidents/:id/<action>: 404 naming the actions there are. After every route, so it shadows none (reports, action items).
  { mount: 'api', path: '/api/incidents/:id/:action', handler: unknownIncidentAction },
];

/** The intake routes (all POST), whose outcomes aire_intake_requests_total counts. */
export const INTAKE_PATHS: ReadonlySet<string> = new Set(ROUTES.filter((r) => r.tag === 'intake').map((r) => r.path));
