import { Router } from 'express';
import { notifySpec } from '../../domain/actions';
import { paramErrors } from '../../domain/runbook-validation';
import { redact } from '../../domain/redact';
import { TenantSettings, TenantSettingsSchema } from '../../domain/tenant-settings';
import { ValidationError } from '../../domain/validation';
import { principalOf, requireRole } from '../auth';
import type { Deps } from '../deps';
import { readSettings, replaceSettings } from '../services/settings';
import { body } from '../validate';

/**
 * The tenant's own settings: approval policy, response SLAs, escalation tiers, notification
 * channels. New incidents start with the settings in force then.
 */
/** Settings as answered: signing secrets are never sent back, only which intake routes have one. */
export function publicSettings(settings: TenantSettings, sensitiveKeys: readonly string[]): Record<string, unknown> {
  const { signingSecrets, ...intake } = settings.intake;
  return { ...redact({ ...settings, intake }, sensitiveKeys), intake: { ...intake, signedSources: Object.keys(signingSecrets).sort() } };
}

export function settingsRoutes(deps: Deps): Router {
  const router = Router();

  router.get('/settings', requireRole('admin'), async (_req, res) => {
    res.json(publicSettings(await readSettings(deps, principalOf(res)), deps.config.AIRE_SENSITIVE_KEYS));
  });

  router.put('/settings', requireRole('admin'), async (req, res) => {
    const settings = body(TenantSettingsSchema, req);
    // A channel's target is the notify action's parameters: check them now, not at 3 a.m.
    const errors = settings.channels.flatMap((channel, i) => paramErrors(notifySpec, { ...channel.target, message: 'check' }, ['channels', i, 'target']));
    if (errors.length > 0) throw new ValidationError('invalid settings', errors);
    await replaceSettings(deps, principalOf(res), settings);
    res.json(publicSettings(settings, deps.config.AIRE_SENSITIVE_KEYS));
  });

  return router;
}
