import { z } from 'zod';
import { NarrativeListSchema, PostmortemSchema, PostmortemStatusSchema } from '../../domain/postmortem';
import { problemsFor } from '../openapi';
import { defineRoute } from '../route';
import { savePostmortem } from '../services/postmortems';
import { IdParams } from './incidents';

/** Any of the narrative fields (each replaces that list whole) and the status; what is left out stays as it is. */
export const PostmortemBody = z
  .object({
    contributingFactors: NarrativeListSchema.optional(),
    wentWell: NarrativeListSchema.optional(),
    wentBadly: NarrativeListSchema.optional(),
    lessons: NarrativeListSchema.optional(),
    status: PostmortemStatusSchema.optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: 'send at least one of: contributingFactors, wentWell, wentBadly, lessons, status',
  });

export const SavedPostmortemSchema = PostmortemSchema.extend({
  /** What this save changed (`status` last); empty when it changed nothing, and then nothing was recorded. */
  changed: z.array(z.string()),
});
export type SavedPostmortemView = z.infer<typeof SavedPostmortemSchema>;

/**
 * The post-mortem people write: its narrative and its status. Reading it is the report
 * (GET /api/incidents/:id/report), which shows it with participants, key notes and the timeline.
 */
export const postmortemRoutes = [
  defineRoute({
    method: 'put',
    path: '/api/incidents/:id/postmortem',
    operationId: 'savePostmortem',
    tag: 'reviews',
    summary: "Write the incident's post-mortem: contributing factors, what went well and badly, lessons, and its status draft → in_review → published",
    description:
      'Fields left out keep their value; each list given replaces that list. The draft can be written at any time from the moment the incident ' +
      'is opened; `in_review` and `published` wait until the incident is resolved or closed. `in_review` goes back to `draft` or on to ' +
      '`published`; a published post-mortem is final: only an admin reopens it (status `draft` or `in_review`). A refused move is a 409 naming ' +
      '`status`. Every save that changes something is a `postmortem.saved` entry in the audit trail, with who and which fields.',
    roles: ['responder', 'approver'],
    params: IdParams,
    body: { component: 'PostmortemBody', schema: PostmortemBody },
    responses: { 200: { description: 'the post-mortem as saved, and what this save changed', component: 'SavedPostmortem', schema: SavedPostmortemSchema } },
    problems: problemsFor(true, true),
    handler: async ({ params: { id }, body, principal, deps, res }) => {
      res.json(await savePostmortem(deps, principal, id, body));
    },
  }),
];
