-- Incident command (issue #14): what people set on a running incident. Title, summary, severity,
-- category, affected services and labels already have columns; these are the new fields.
ALTER TABLE incidents ADD COLUMN impact jsonb;
-- The confirmed root cause, distinct from the automatic hypothesis (root_cause_hypothesis).
ALTER TABLE incidents ADD COLUMN root_cause text;
-- {commander?, assignees[], comms?, scribe?}: names from the tenant's roster or `key:<name>`.
ALTER TABLE incidents ADD COLUMN roles jsonb NOT NULL DEFAULT '{"assignees": []}'::jsonb;
-- The latest stakeholder update: {message, eta?, audience, at, actor}; every one is in action_log.
ALTER TABLE incidents ADD COLUMN latest_status_update jsonb;
CREATE INDEX incidents_tenant_commander ON incidents (tenant_id, (roles ->> 'commander')) WHERE status <> 'closed';
