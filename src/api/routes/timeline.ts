import { z } from 'zod';
import { redact } from '../../domain/redact';
import { ReportInputSchema, TimelineEntrySchema, buildReport } from '../../domain/report';
import { READ_ROLES } from '../auth';
import { problemsFor } from '../openapi';
import { defineRoute } from '../route';
import { addNote, reportRecord } from '../services/reviews';
import { IdParams } from './incidents';

export const NoteBody = z
  .object({
    text: z.string().trim().min(1, 'write the note').max(4_000),
    /** A key note is listed in the post-incident report too. */
    key: z.boolean().default(false),
  })
  .strict();

export const NoteSchema = z.object({ incidentId: z.uuid(), at: z.string(), actor: z.string(), text: z.string(), key: z.boolean() });
export type NoteView = z.infer<typeof NoteSchema>;
export const TimelineSchema = z.object({ items: z.array(TimelineEntrySchema) });
export type TimelineView = z.infer<typeof TimelineSchema>;

/**
 * The incident's timeline: notes people write, and everything that happened (status changes, steps,
 * approvals, notifications) in one ordered stream, each entry with its actor, time and a sentence.
 */
export const timelineRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/incidents/:id/notes',
    operationId: 'addNote',
    tag: 'incidents',
    summary: "Write a note on the incident's timeline; `key: true` lists it in the post-incident report",
    roles: ['responder', 'approver'],
    params: IdParams,
    body: { component: 'NoteBody', schema: NoteBody },
    responses: { 201: { description: 'the note, as recorded', component: 'Note', schema: NoteSchema } },
    problems: problemsFor(true, false),
    handler: async ({ params: { id }, body, principal, deps, res }) => {
      res.status(201).json(await addNote(deps, principal, id, body));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/incidents/:id/timeline',
    operationId: 'incidentTimeline',
    tag: 'incidents',
    summary: 'Notes, status changes, steps, approvals and notifications in one ordered stream, with actor and time',
    roles: READ_ROLES,
    params: IdParams,
    responses: { 200: { description: 'the timeline, oldest first', component: 'Timeline', schema: TimelineSchema } },
    problems: problemsFor(true, false),
    handler: async ({ params: { id }, principal, deps, res }) => {
      const record = await reportRecord(deps, principal, id);
      // The report's own timeline: one reading of the audit trail as sentences (src/domain/report-sentences.ts).
      const { timeline } = buildReport(ReportInputSchema.parse(record), new Date()).postMortem;
      res.json(redact({ items: timeline }, deps.config.AIRE_SENSITIVE_KEYS));
    },
  }),
];
