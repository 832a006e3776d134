-- Tenant settings: approval policy, response SLAs, escalation tiers and notification channels, in one
-- document validated by TenantSettingsSchema. Admins of a tenant may change their own.
ALTER TABLE tenants ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb;
UPDATE tenants SET settings = jsonb_build_object('approval', approval_policy) WHERE approval_policy <> '{}'::jsonb;
ALTER TABLE tenants DROP COLUMN approval_policy;
GRANT UPDATE (settings) ON tenants TO aire_app;
