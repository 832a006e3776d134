import { randomUUID } from 'node:crypto';
import express, { type RequestHandler, type Response } from 'express';
// eslint-disable-next-line no-restricted-imports -- egress.ts is the egress check, not an executor: the one way AIRE calls out, and answering Slack is calling out
import { callOut } from '../activities/egress';
import { SlugSchema } from '../domain/incident';
import { type SlackSettingsSchema, type TenantSettings } from '../domain/tenant-settings';
import { slackSignatureProblem } from '../domain/slack';
import type { z } from 'zod';
import type { Deps } from './deps';
import { HttpProblem, notFound } from './problem';
import { slackTenant } from './services/slack';

/** The tenant a verified Slack request is for, with its Slack settings and roster. */
export interface SlackRequest {
  tenantId: string;
  slack: z.infer<typeof SlackSettingsSchema>;
  people: TenantSettings['people'];
}

const FORM = 'application/x-www-form-urlencoded';

export function slackRequestOf(res: Response): SlackRequest {
  return res.locals.slack as SlackRequest;
}

/** Slack posts interactions as a form; anything else is not Slack. */
const requireForm: RequestHandler = (req, _res, next) => {
  if (req.is(FORM)) return next();
  throw new HttpProblem(415, 'Unsupported Media Type', `send the body as ${FORM}, as Slack does: payload=<the interaction as JSON>`);
};

/**
 * Authenticates a Slack interaction before anything reads it: the tenant named in the URL must have
 * a Slack app set up (settings `slack`), and the request must carry a fresh `x-slack-request-timestamp`
 * and an `x-slack-signature` over the raw body that matches under that app's signing secret. Only
 * then is the form decoded into `req.body` for the route's validation, so an unsigned request learns
 * nothing about what a valid body is.
 */
function verifySlackSignature(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    const slug = SlugSchema.safeParse(req.params.tenant);
    const tenant = slug.success ? await slackTenant(deps, slug.data) : null;
    const slack = tenant?.settings.slack;
    if (!tenant || !slack) throw notFound(`a tenant "${String(req.params.tenant).slice(0, 64)}" with a Slack app set up (settings slack.signingSecret)`);
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const problem = slackSignatureProblem(
      slack.signingSecret,
      { timestamp: req.get('x-slack-request-timestamp'), signature: req.get('x-slack-signature') },
      raw,
      Date.now(),
    );
    if (problem) throw new HttpProblem(401, 'Unauthorized', `not a request signed by this tenant's Slack app: ${problem}`);
    const request: SlackRequest = { tenantId: tenant.tenantId, slack, people: tenant.settings.people };
    res.locals.slack = request;
    req.body = Object.fromEntries(new URLSearchParams(raw));
    next();
  };
}

/** The middleware of the Slack interactions route: a form body kept as bytes (the signature covers them), then the signature check. */
export function slackInteractionMiddleware(deps: Deps): RequestHandler[] {
  return [requireForm, express.raw({ type: FORM, limit: deps.config.AIRE_BODY_LIMIT }), verifySlackSignature(deps)];
}

/** Slack reads &, < and > in text as markup. */
export const slackEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Answers the person who clicked, in Slack: a message to the interaction's `response_url` (in the
 * channel for a decision made, only to them for a refusal). Through the egress check like every
 * outbound call, so Slack's host must be on AIRE_EGRESS_ALLOWLIST. Best effort: the decision stands
 * (or the refusal is still the HTTP answer) whether or not Slack takes the message.
 */
export async function answerInSlack(
  deps: Deps,
  interaction: { response_url?: string; trigger_id?: string },
  message: { text: string; audience: 'ephemeral' | 'in_channel' },
): Promise<void> {
  if (!interaction.response_url) return;
  try {
    await callOut(
      {
        method: 'POST',
        url: interaction.response_url,
        body: { response_type: message.audience, replace_original: false, text: message.text },
        idempotencyKey: `slack:${interaction.trigger_id ?? randomUUID()}`,
        // Slack waits 3 s for the interaction's own answer, which waits for this one.
        timeoutMs: 2_000,
      },
      deps.config.AIRE_EGRESS_ALLOWLIST,
    );
  } catch (err) {
    deps.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not answer in Slack (response_url)');
  }
}
