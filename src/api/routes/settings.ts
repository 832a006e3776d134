import { z } from 'zod';
import { notifySpec } from '../../domain/actions';
import { paramErrors } from '../../domain/runbook-validation';
import { redact } from '../../domain/redact';
import { TenantSettings, TenantSettingsSchema } from '../../domain/tenant-settings';
import { ValidationError } from '../../domain/validation';
import { defineRoute } from '../route';
import { readSettings, replaceSettings } from '../services/settings';

/**
 * The tenant's own settings: approval policy, response SLAs, escalation tiers, notification
 * channels. New incidents start with the settings in force then.
 */

/** Settings as the API answers them: signing secrets replaced by the list of routes that have one, Slack's left out. */
export const PublicSettingsSchema = z.object({
  ...TenantSettingsSchema.shape,
  intake: z.object({ flapWindow: z.number(), silences: z.array(z.unknown()), signedSources: z.array(z.string()) }),
  slack: z.object({ users: z.record(z.string(), z.string()), signingSecretSet: z.literal(true) }).optional(),
});

/** Settings as answered: signing secrets are never sent back, only which intake routes have one, and that Slack's is set. */
export function publicSettings(settings: TenantSettings, sensitiveKeys: readonly string[]): Record<string, unknown> {
  const { signingSecrets, ...intake } = settings.intake;
  const { slack, ...rest } = settings;
  return {
    ...redact({ ...rest, intake }, sensitiveKeys),
    intake: { ...intake, signedSources: Object.keys(signingSecrets).sort() },
    ...(slack ? { slack: { users: slack.users, signingSecretSet: true } } : {}),
  };
}

export const settingsRoutes = [
  defineRoute({
    method: 'get',
    path: '/api/settings',
    operationId: 'getSettings',
    tag: 'settings',
    summary: "The tenant's settings: approval policy, response SLAs, escalation, notification channels",
    roles: ['admin'],
    responses: {
      200: { description: 'the settings in force (signing secrets are never answered)', component: 'PublicSettings', schema: PublicSettingsSchema },
    },
    handler: async ({ principal, deps, res }) => {
      res.json(publicSettings(await readSettings(deps, principal), deps.config.AIRE_SENSITIVE_KEYS));
    },
  }),
  defineRoute({
    method: 'put',
    path: '/api/settings',
    operationId: 'putSettings',
    tag: 'settings',
    summary: "Replace the tenant's settings; new incidents start with them",
    description: "Channel targets are also checked against the notify action's parameters.",
    roles: ['admin'],
    body: { component: 'TenantSettingsInput', schema: TenantSettingsSchema },
    responses: { 200: { description: 'the settings as stored (signing secrets are never answered)', component: 'PublicSettings' } },
    handler: async ({ body: settings, principal, deps, res }) => {
      // A channel's target is the notify action's parameters: check them now, not at 3 a.m.
      const errors = settings.channels.flatMap((channel, i) => paramErrors(notifySpec, { ...channel.target, message: 'check' }, ['channels', i, 'target']));
      if (errors.length > 0) throw new ValidationError('invalid settings', errors);
      await replaceSettings(deps, principal, settings);
      res.json(publicSettings(settings, deps.config.AIRE_SENSITIVE_KEYS));
    },
  }),
];
