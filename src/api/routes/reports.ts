import type { Request } from 'express';
import { z } from 'zod';
import { redact } from '../../domain/redact';
import { IncidentReportSchema, ReportInputSchema, buildReport } from '../../domain/report';
import { reportMarkdown } from '../../domain/report-markdown';
import { READ_ROLES } from '../auth';
import { problemsFor } from '../openapi';
import { defineRoute } from '../route';
import { reportRecord } from '../services/reviews';
import { IdParams } from './incidents';

export const ReportQuery = z.object({ format: z.enum(['json', 'markdown']).optional() }).strict();

const MARKDOWN = 'text/markdown';

/** `?format=` wins; otherwise the Accept header; JSON unless the client prefers Markdown. */
function wantsMarkdown(req: Request, format: 'json' | 'markdown' | undefined): boolean {
  if (format) return format === 'markdown';
  return req.accepts(['application/json', MARKDOWN]) === MARKDOWN;
}

/**
 * The post-incident report, built from the stored record: a draft while the incident is open,
 * `final: true` once it is closed. JSON by default, Markdown on request.
 */
export const reportRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/incidents/:id/report',
    operationId: 'incidentReport',
    tag: 'reviews',
    summary: 'The post-incident report: a draft while the incident is open, `final` once closed; JSON, or Markdown (`?format=markdown` or Accept)',
    roles: READ_ROLES,
    params: IdParams,
    query: ReportQuery,
    responses: {
      200: {
        description: 'the report',
        component: 'IncidentReport',
        schema: IncidentReportSchema,
        alternatives: { 'text/markdown': () => ({ type: 'string' }) },
      },
    },
    problems: problemsFor(true, false),
    handler: async ({ params: { id }, query: { format }, principal, deps, req, res }) => {
      const record = await reportRecord(deps, principal, id);
      // Rows as PostgreSQL returns them (Date objects, text statuses) become the report's input shape here.
      const report = redact(buildReport(ReportInputSchema.parse(record), new Date()), deps.config.AIRE_SENSITIVE_KEYS);
      res.vary('Accept');
      if (wantsMarkdown(req, format)) {
        res.type(`${MARKDOWN}; charset=utf-8`).send(reportMarkdown(report));
        return;
      }
      res.json(report);
    },
  }),
];
