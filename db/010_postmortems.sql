-- Post-incident review, people's part: the post-mortem narrative of an incident with its status
-- (draft → in_review → published) and review date, and action items with a priority and a `blocked` status.
-- Row-level security as on every tenant table (002_action_items.sql): enabled, forced, keyed on aire_current_tenant().

CREATE TABLE postmortems (
  incident_id           uuid PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  status                text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'in_review', 'published')),
  -- Each a JSON array of strings, in the order people wrote them.
  contributing_factors  jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(contributing_factors) = 'array'),
  went_well             jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(went_well) = 'array'),
  went_badly            jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(went_badly) = 'array'),
  lessons               jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(lessons) = 'array'),
  -- Set at resolution for critical and high incidents by the review workflow; reminded_at once the reminder went out.
  review_due_at         timestamptz,
  review_reminded_at    timestamptz,
  published_at          timestamptz,
  published_by          text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  -- null while only the review workflow wrote the row (its review date).
  updated_by            text
);
CREATE INDEX postmortems_tenant_review ON postmortems (tenant_id, review_due_at) WHERE status <> 'published';

ALTER TABLE postmortems ENABLE ROW LEVEL SECURITY;
ALTER TABLE postmortems FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON postmortems USING (tenant_id = aire_current_tenant()) WITH CHECK (tenant_id = aire_current_tenant());

GRANT SELECT, INSERT, UPDATE ON postmortems TO aire_app;

-- Action items: how urgent the follow-up is, and `blocked` for work waiting on something else.
ALTER TABLE action_items ADD COLUMN priority text NOT NULL DEFAULT 'medium' CHECK (priority IN ('high', 'medium', 'low'));
ALTER TABLE action_items DROP CONSTRAINT action_items_status_check;
ALTER TABLE action_items ADD CONSTRAINT action_items_status_check CHECK (status IN ('open', 'in_progress', 'blocked', 'done'));

-- An item's history is its entries in the audit trail (action_item.added / action_item.changed, detail.itemId).
CREATE INDEX action_log_action_item ON action_log ((detail ->> 'itemId'), id) WHERE kind IN ('action_item.added', 'action_item.changed');
