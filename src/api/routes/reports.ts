import { Request, Router } from 'express';
import { z } from 'zod';
import { redact } from '../../domain/redact';
import { ReportInputSchema, buildReport } from '../../domain/report';
import { reportMarkdown } from '../../domain/report-markdown';
import { READ_ROLES, principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { reportRecord } from '../services/reviews';
import { params, query } from '../validate';

export const IdParams = z.object({ id: z.uuid('not an incident id') });
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
export function reportRoutes(deps: Deps): Router {
  const router = Router();
  const sensitive = deps.config.AIRE_SENSITIVE_KEYS;

  router.get('/incidents/:id/report', requireRole(...READ_ROLES), async (req, res) => {
    const { id } = params(IdParams, req);
    const { format } = query(ReportQuery, req);
    const principal = principalOf(res);
    const record = await reportRecord(deps, principal, id);
    // Rows as PostgreSQL returns them (Date objects, text statuses) become the report's input shape here.
    const report = redact(buildReport(ReportInputSchema.parse(record), new Date()), sensitive);
    res.vary('Accept');
    if (wantsMarkdown(req, format)) {
      res.type(`${MARKDOWN}; charset=utf-8`).send(reportMarkdown(report));
      return;
    }
    res.json(report);
  });

  return router;
}
