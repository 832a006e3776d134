-- Detection rules (POST /api/events runs every event through the tenant's enabled rules) and the
-- hits they count. Counts live here, not in an API process, so a threshold window survives an API
-- restart and is exact with several API replicas (see src/db/rules.ts for the locking).

CREATE TABLE rules (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id          text NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  -- The rule as validated by RuleSchema (src/domain/rules.ts); `enabled` mirrors definition.enabled.
  definition  jsonb NOT NULL,
  enabled     boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text NOT NULL,
  updated_by  text NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

-- One row per matching event of a rule with a threshold, per correlation value. Rows older than the
-- rule's window are pruned as new hits come in.
CREATE TABLE rule_hits (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  rule_id      text NOT NULL,
  correlation  text NOT NULL,
  at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- The event's key: a redelivered event (same id) is counted once.
  event_id     text NOT NULL,
  PRIMARY KEY (tenant_id, rule_id, correlation, event_id)
);
CREATE INDEX rule_hits_window ON rule_hits (tenant_id, rule_id, correlation, at);
CREATE INDEX rule_hits_age ON rule_hits (tenant_id, rule_id, at);

ALTER TABLE rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE rules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rules USING (tenant_id = aire_current_tenant()) WITH CHECK (tenant_id = aire_current_tenant());
ALTER TABLE rule_hits ENABLE ROW LEVEL SECURITY;
ALTER TABLE rule_hits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rule_hits USING (tenant_id = aire_current_tenant()) WITH CHECK (tenant_id = aire_current_tenant());

GRANT SELECT, INSERT, UPDATE ON rules TO aire_app;
GRANT SELECT, INSERT, DELETE ON rule_hits TO aire_app;
-- Pruning locks the rows it deletes with FOR UPDATE SKIP LOCKED, which needs UPDATE on a column.
GRANT UPDATE (at) ON rule_hits TO aire_app;
