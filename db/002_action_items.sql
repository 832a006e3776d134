-- Action items: follow-up work agreed in post-incident review, each with an owner, a due date and a status.
-- Row-level security as on every tenant table in 001: enabled, forced, keyed on aire_current_tenant().

CREATE TABLE action_items (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  incident_id  uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  owner        text CHECK (owner IS NULL OR length(owner) BETWEEN 1 AND 200),
  due_date     date,
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'done')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  created_by   text NOT NULL
);
CREATE INDEX action_items_incident ON action_items (incident_id, created_at, id);
-- The overdue list: items not done, by due date, per tenant.
CREATE INDEX action_items_tenant_due ON action_items (tenant_id, due_date) WHERE status <> 'done';

ALTER TABLE action_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE action_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON action_items USING (tenant_id = aire_current_tenant()) WITH CHECK (tenant_id = aire_current_tenant());

GRANT SELECT, INSERT, UPDATE ON action_items TO aire_app;
