import { z } from 'zod';
import { DurationSchema } from './duration';
import { SlugSchema } from './incident';
import { ApprovalPolicySchema } from './policy';
import { DEFAULT_POSTMORTEM_REVIEW_AFTER_DAYS } from './postmortem-review';
import { SeveritySchema } from './severity';
import { SLACK_USER_ID_HINT, SlackUserIdSchema } from './slack';

export const NOTIFICATION_EVENTS = [
  'incident.opened',
  'incident.acknowledged',
  'approval.needed',
  'sla.breached',
  'escalation',
  'step.failed',
  'incident.resolved',
  // A critical or high incident's post-mortem review date has come and the post-mortem is not published.
  // Only channels that list it in `events` get it: it is a reminder, not an alert to page anyone with.
  'postmortem.review_due',
  'role.assigned',
  'status.update',
  'status.update-due',
  'page',
] as const;
export const NotificationEventSchema = z.enum(NOTIFICATION_EVENTS);
export type NotificationEvent = z.infer<typeof NotificationEventSchema>;

/** A place notifications go, and which of them it wants. */
export const ChannelSchema = z
  .object({
    name: SlugSchema,
    /** Parameters of the `notify` action: `{channel: 'webhook', url}`, `{channel: 'slack', url}`, `{channel: 'email', to}`… */
    target: z.record(z.string(), z.unknown()),
    minSeverity: SeveritySchema.default('info'),
    categories: z.array(z.string().min(1)).min(1).optional(),
    /** Absent: every event. */
    events: z.array(NotificationEventSchema).min(1).optional(),
    /** `external`: a channel outside the company (a status page); it gets only status updates meant for it. */
    audience: z.enum(['internal', 'external']).default('internal'),
  })
  .strict();
export type Channel = z.infer<typeof ChannelSchema>;

export const EscalationTierSchema = z.object({ after: DurationSchema, channels: z.array(SlugSchema).min(1) }).strict();

/** A maintenance window or silence: matching events are recorded, and no incident opens. */
export const SilenceSchema = z
  .object({
    /** Every given label must equal; `service` also matches an affected service. */
    matchers: z.record(z.string().min(1).max(100), z.string().max(500)).refine((m) => Object.keys(m).length > 0, 'give at least one matcher'),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    reason: z.string().trim().min(1).max(500),
  })
  .strict();
export type Silence = z.infer<typeof SilenceSchema>;

export const INTAKE_SOURCES = ['forecast', 'event', 'incidents', 'alertmanager', 'events'] as const;

const IntakeSchema = z
  .object({
    /** After an alert resolves an incident, it closes when no re-fire comes for this long (flapping stays one incident). */
    flapWindow: DurationSchema.default(600_000),
    silences: z.array(SilenceSchema).max(200).default([]),
    /** Per intake route, a shared secret: requests must then carry a fresh `x-aire-signature`. */
    signingSecrets: z.partialRecord(z.enum(INTAKE_SOURCES), z.string().min(16).max(200)).default({}),
  })
  .strict();

/** Someone who can hold a role on an incident, where they are told of it, and the API keys that act as them. */
export const PersonSchema = z
  .object({ name: SlugSchema, channel: SlugSchema.optional(), keys: z.array(z.string().min(1).max(100)).max(20).default([]) })
  .strict();

/** Who is paged when an incident breaches its acknowledgement SLA and no escalation tiers are set. */
export const OnCallSchema = z
  .object({ channel: SlugSchema, minSeverity: SeveritySchema.default('high'), repeatEvery: DurationSchema.default(900_000) })
  .strict();

/**
 * Approving from Slack (docs/people.md#slack-approvals): the Slack app's signing secret, which
 * authenticates its interaction requests, and who each Slack user is on the roster. Only people
 * mapped here can approve or reject from Slack; map only people who may approve.
 */
export const SlackSettingsSchema = z
  .object({
    signingSecret: z.string().min(16).max(200),
    /** Slack user id → a person of `people`. */
    users: z
      .record(z.string(), SlugSchema)
      .superRefine((users, ctx) => {
        // Checked here rather than as the record's key schema, whose refusal would not say what a user id is.
        for (const id of Object.keys(users))
          if (!SlackUserIdSchema.safeParse(id).success) ctx.addIssue({ code: 'custom', path: [id], message: SLACK_USER_ID_HINT });
      })
      .default({}),
  })
  .strict();

const SlaSchema = z
  .object({
    critical: DurationSchema.optional(),
    high: DurationSchema.optional(),
    medium: DurationSchema.optional(),
    low: DurationSchema.optional(),
    info: DurationSchema.optional(),
  })
  .strict();

/** Everything a tenant configures about people: approvals, response SLAs, escalation, notification routing. */
export const TenantSettingsSchema = z
  .object({
    approval: ApprovalPolicySchema.default(ApprovalPolicySchema.parse({})),
    /** Time to acknowledge, per severity; defaults: critical 15 min, high 1 h, medium 4 h, low and info 24 h. */
    responseSla: SlaSchema.default({}),
    /** How long a gate waits before escalating; after the last tier the runbook's timeout policy applies. */
    approvalTimeout: DurationSchema.default(3_600_000),
    /** Ordered tiers: each `after` the previous one (or the breach), notify its channels; then repeat the last tier. */
    escalation: z
      .object({ tiers: z.array(EscalationTierSchema).min(1).max(10), repeat: z.number().int().min(0).max(10).default(0) })
      .strict()
      .optional(),
    channels: z.array(ChannelSchema).max(50).default([]),
    intake: IntakeSchema.default(IntakeSchema.parse({})),
    /**
     * A critical or high incident's post-mortem review is due this many days after it is resolved;
     * channels listing `postmortem.review_due` are reminded then (src/workflows/postmortem-review.ts).
     */
    postmortemReviewAfterDays: z.number().int().min(0).max(90).default(DEFAULT_POSTMORTEM_REVIEW_AFTER_DAYS),
    /** Where the approval console is, for links in notifications. */
    consoleUrl: z.string().url().optional(),
    /** The roster: who may hold a role on an incident (src/domain/command.ts). */
    people: z.array(PersonSchema).max(500).default([]),
    onCall: OnCallSchema.optional(),
    statusUpdates: z
      .object({
        /** Whether status updates may go to `external` channels. */
        allowExternal: z.boolean().default(false),
        /** Per severity: the commander is reminded when no update was posted for this long. */
        every: SlaSchema.default({}),
      })
      .strict()
      .default({ allowExternal: false, every: {} }),
    /** A secret: never in an incident's input (src/domain/incident-settings.ts), never answered (GET /api/settings). */
    slack: SlackSettingsSchema.optional(),
  })
  .strict()
  .superRefine((settings, ctx) => {
    const names = new Set(settings.channels.map((c) => c.name));
    const known = (path: (string | number)[], name: string | undefined): void => {
      if (name !== undefined && !names.has(name)) ctx.addIssue({ code: 'custom', path, message: `no channel named "${name}"` });
    };
    known(['onCall', 'channel'], settings.onCall?.channel);
    settings.people.forEach((p, i) => {
      known(['people', i, 'channel'], p.channel);
      if (settings.people.findIndex((x) => x.name === p.name) !== i)
        ctx.addIssue({ code: 'custom', path: ['people', i, 'name'], message: `duplicate person "${p.name}"` });
    });
    for (const [user, person] of Object.entries(settings.slack?.users ?? {})) {
      if (!settings.people.some((p) => p.name === person))
        ctx.addIssue({ code: 'custom', path: ['slack', 'users', user], message: `no person named "${person}" in people` });
    }
    settings.channels.forEach((c, i) => {
      if (settings.channels.findIndex((x) => x.name === c.name) !== i)
        ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `duplicate channel "${c.name}"` });
    });
    settings.escalation?.tiers.forEach((tier, i) =>
      tier.channels.forEach((name, j) => {
        if (!names.has(name)) ctx.addIssue({ code: 'custom', path: ['escalation', 'tiers', i, 'channels', j], message: `no channel named "${name}"` });
      }),
    );
  });
export type TenantSettings = z.infer<typeof TenantSettingsSchema>;
export const DEFAULT_TENANT_SETTINGS: TenantSettings = TenantSettingsSchema.parse({});

/** The silence in force that matches this incident at `now`, if any. */
export function activeSilence(
  settings: TenantSettings,
  incident: { labels: Record<string, string>; affectedServices: string[] },
  now: Date,
): Silence | undefined {
  return settings.intake.silences.find((silence) => {
    if (silence.startsAt && new Date(silence.startsAt) > now) return false;
    if (silence.endsAt && new Date(silence.endsAt) <= now) return false;
    return Object.entries(silence.matchers).every(
      ([label, value]) => incident.labels[label] === value || (label === 'service' && incident.affectedServices.includes(value)),
    );
  });
}
