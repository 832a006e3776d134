-- Circuit breakers on automatic remediation: opened when a runbook keeps failing or being rolled back
-- for one service; while open, that runbook does not run on its own for that service. Only a person
-- closes one (POST /api/breakers/reset, `aire breaker reset SERVICE`).
CREATE TABLE breakers (
  id          bigserial PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  runbook_id  text NOT NULL,
  -- The service the runbook acted on; '*' when the incidents named none.
  target      text NOT NULL,
  reason      text NOT NULL,
  opened_at   timestamptz NOT NULL DEFAULT now(),
  reset_at    timestamptz,
  reset_by    text
);
CREATE UNIQUE INDEX breakers_one_open ON breakers (tenant_id, runbook_id, target) WHERE reset_at IS NULL;
CREATE INDEX incidents_tenant_runbook_created ON incidents (tenant_id, runbook_id, created_at DESC);
ALTER TABLE breakers ENABLE ROW LEVEL SECURITY;
ALTER TABLE breakers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON breakers USING (tenant_id = aire_current_tenant()) WITH CHECK (tenant_id = aire_current_tenant());
GRANT SELECT, INSERT, UPDATE ON breakers TO aire_app;
GRANT USAGE ON SEQUENCE breakers_id_seq TO aire_app;
