-- Runbook suggestions ranked by relevance, shown on the incident.
ALTER TABLE incidents ADD COLUMN suggestions jsonb NOT NULL DEFAULT '[]'::jsonb;
CREATE INDEX incidents_tenant_category_created ON incidents (tenant_id, category, created_at DESC);
