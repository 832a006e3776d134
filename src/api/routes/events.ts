import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CLOUDEVENTS_MEDIA_TYPE, GenericEventSchema, IncomingEvent, parseEvent } from '../../domain/events';
import { first } from '../../domain/must';
import { Rule, draftFromRule, matchRule, ruleDedupKey, settingsForRule, shortKey } from '../../domain/rules';
import { incidentsOpened } from '../../metrics';
import { defineRoute } from '../route';
import { openIncident } from '../services/incidents';
import { countHit, rulesOf } from '../services/rules';
import { boundedRegexTester } from '../regex-guard';
import { requireSignature } from '../signature';

/** What POST /api/events answers (202): per rule the event matched, the count and the incident. */
export const EventOutcomeSchema = z.object({
  eventId: z.string(),
  format: z.enum(['json', 'cloudevents']),
  /** Enabled rules the event was checked against. */
  evaluated: z.number().int(),
  matches: z.array(
    z.object({
      ruleId: z.string(),
      reasons: z.array(z.string()),
      correlation: z.string().nullable(),
      /** Matching events counted within the window for this correlation value (1 without a threshold). */
      count: z.number().int(),
      threshold: z.object({ count: z.number().int(), windowMs: z.number().int() }).nullable(),
      /** false when the same event (same id) was counted before. */
      counted: z.boolean(),
      incident: z.object({ id: z.string(), created: z.boolean() }).nullable(),
      silenced: z.string().optional(),
    }),
  ),
  /** Why nothing happened, when the event matched no rule. */
  reason: z.string().optional(),
  /** Rules whose regex ran out of time on this event (so they did not match it). */
  gaveUp: z.array(z.object({ ruleId: z.string(), reason: z.string() })).optional(),
});
export type EventOutcome = z.infer<typeof EventOutcomeSchema>;
type Match = EventOutcome['matches'][number];

const testRegex = boundedRegexTester();

/** The key one event is counted and joined under: its own id (so a redelivery counts once), else a fresh one. */
function eventKey(event: IncomingEvent): string {
  if (event.id === undefined) return `event:${randomUUID()}`;
  return shortKey(`event:${event.source ?? ''}:${event.id}`, 200);
}

/**
 * Generic events and CloudEvents through the tenant's detection rules. A rule without a threshold
 * opens (or joins) its incident on every matching event; a rule with one counts matching events per
 * correlation value in PostgreSQL and opens the incident when the count reaches the threshold;
 * while that incident is open, later matching events join it.
 */
export const eventRoutes = [
  defineRoute({
    method: 'post',
    path: '/api/events',
    operationId: 'ingestEvent',
    tag: 'intake',
    summary: 'An event through the detection rules: counted per rule and correlation value; a rule whose threshold is reached opens (or joins) its incident',
    description:
      "Any JSON object (optional `id`, `source`, `time`), or a CloudEvents 1.0 event in structured mode (`Content-Type: application/cloudevents+json`, or any JSON body with `specversion`): `specversion`, `id`, `source` and `type` are required. A CloudEvent's payload fields are read both as `data.<field>` and as `<field>`. An event with an `id` is counted once per rule however often it is sent.",
    roles: ['ingest'],
    middleware: (deps) => [requireSignature(deps, 'events')],
    // Documented by GenericEventSchema; parsed by parseEvent, which also reads CloudEvents.
    body: { component: 'Event', schema: GenericEventSchema, raw: true },
    responses: {
      202: {
        description: 'what each matching rule did; an empty `matches` with a `reason` when none matched',
        component: 'EventOutcome',
        schema: EventOutcomeSchema,
      },
    },
    handler: async ({ body, principal, deps, req, res }) => {
      const event = parseEvent(body, req.is(CLOUDEVENTS_MEDIA_TYPE) !== false);
      const eventId = eventKey(event);
      const rules = await rulesOf(deps, principal, { enabledOnly: true });

      async function detect(rule: Rule, correlation: string | null, reasons: string[]): Promise<Match> {
        const dedupKey = ruleDedupKey(rule.id, correlation);
        let count = 1;
        let counted = true;
        let trigger = true;
        if (rule.threshold) {
          const { window } = rule.threshold;
          const hit = await countHit(deps, principal, { ruleId: rule.id, correlation: correlation ?? '', eventId, windowMs: window, dedupKey });
          count = hit.count;
          counted = hit.recorded;
          trigger = hit.count >= rule.threshold.count || hit.openIncidentId !== null;
        }
        const base = {
          ruleId: rule.id,
          reasons,
          correlation,
          count,
          threshold: rule.threshold ? { count: rule.threshold.count, windowMs: rule.threshold.window } : null,
          counted,
        };
        if (!trigger) return { ...base, incident: null };
        const draft = draftFromRule(rule, event.view, { count, correlation, eventId, sourceEventId: event.id }, event.context);
        const opened = await openIncident(deps, principal, draft, eventId, { adjustSettings: (s) => settingsForRule(s, rule) });
        if (opened.silenced) return { ...base, incident: null, silenced: opened.silenced.reason };
        if (opened.created) incidentsOpened.inc({ severity: draft.severity, source: draft.source });
        return { ...base, incident: { id: opened.incidentId, created: opened.created } };
      }

      const matches: Match[] = [];
      const gaveUp: { ruleId: string; reason: string }[] = [];
      for (const { rule } of rules) {
        const match = matchRule(rule, event.view, { testRegex });
        if (match.timedOut) gaveUp.push({ ruleId: rule.id, reason: first(match.reasons, `the reason rule ${rule.id} was given up`) });
        if (!match.matched) continue;
        matches.push(await detect(rule, match.correlationValue, match.reasons));
      }

      const outcome: EventOutcome = {
        eventId,
        format: event.format,
        evaluated: rules.length,
        matches,
        ...(matches.length === 0
          ? { reason: rules.length === 0 ? 'the tenant has no enabled detection rules' : `no enabled rule matched (${rules.length} checked)` }
          : {}),
        ...(gaveUp.length > 0 ? { gaveUp } : {}),
      };
      res.status(202).json(outcome);
    },
  }),
];
