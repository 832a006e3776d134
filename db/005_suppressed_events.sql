-- Events that opened no incident because a silence or maintenance window matched: kept, so that
-- "why did nothing page?" has an answer.
CREATE TABLE suppressed_events (
  id          bigserial PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  source      text NOT NULL,
  dedup_key   text NOT NULL,
  event_id    text NOT NULL,
  title       text NOT NULL,
  reason      text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX suppressed_events_tenant_at ON suppressed_events (tenant_id, at DESC);
ALTER TABLE suppressed_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE suppressed_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON suppressed_events USING (tenant_id = aire_current_tenant()) WITH CHECK (tenant_id = aire_current_tenant());
GRANT SELECT, INSERT ON suppressed_events TO aire_app;
GRANT USAGE ON SEQUENCE suppressed_events_id_seq TO aire_app;
