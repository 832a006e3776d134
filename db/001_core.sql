-- AIRE core schema: tenants, API keys, runbooks, incidents, steps, approvals, the append-only action log.
-- Every tenant table has row-level security, forced, keyed on the session setting aire.tenant_id.
-- The API and the worker connect as aire_app, which owns nothing and cannot bypass RLS.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aire_app') THEN
    CREATE ROLE aire_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO aire_app;

-- The tenant the current transaction acts for; NULL (so no rows match) when none was set.
CREATE FUNCTION aire_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('aire.tenant_id', true), '')::uuid $$;

CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  name        text NOT NULL,
  approval_policy jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name        text NOT NULL,
  -- SHA-256 of the key; the key itself is shown once and never stored.
  key_hash    text NOT NULL UNIQUE,
  key_prefix  text NOT NULL,
  roles       text[] NOT NULL CHECK (roles <@ ARRAY['ingest', 'viewer', 'responder', 'approver', 'admin']::text[] AND cardinality(roles) > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz,
  UNIQUE (tenant_id, name)
);

CREATE TABLE runbooks (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id          text NOT NULL,
  version     integer NOT NULL CHECK (version > 0),
  definition  jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text NOT NULL,
  PRIMARY KEY (tenant_id, id, version)
);

CREATE TABLE incidents (
  id                    uuid PRIMARY KEY,
  tenant_id             uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  workflow_id           text NOT NULL,
  source                text NOT NULL CHECK (source IN ('upewe', 'asrs', 'mcse', 'hsoe', 'alertmanager', 'webhook', 'manual', 'system')),
  dedup_key             text NOT NULL,
  severity              text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
  category              text,
  status                text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'investigating', 'remediating', 'awaiting_approval', 'mitigated', 'resolved', 'closed', 'failed', 'rolled_back')),
  title                 text NOT NULL,
  summary               text,
  root_cause_hypothesis text,
  affected_services     text[] NOT NULL DEFAULT '{}',
  labels                jsonb NOT NULL DEFAULT '{}'::jsonb,
  context               jsonb NOT NULL DEFAULT '{}'::jsonb,
  severity_reasons      jsonb NOT NULL DEFAULT '[]'::jsonb,
  linked_forecast_id    text,
  linked_event_id       text,
  runbook_id            text,
  runbook_version       integer,
  declared_by           text NOT NULL,
  occurrences           integer NOT NULL DEFAULT 1,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  last_seen_at          timestamptz NOT NULL DEFAULT now(),
  acknowledged_at       timestamptz,
  mitigated_at          timestamptz,
  resolved_at           timestamptz,
  closed_at             timestamptz
);
CREATE INDEX incidents_tenant_created ON incidents (tenant_id, created_at DESC, id DESC);
CREATE INDEX incidents_tenant_status ON incidents (tenant_id, status);
CREATE INDEX incidents_tenant_dedup ON incidents (tenant_id, dedup_key);

CREATE TABLE incident_steps (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  incident_id    uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  step_id        text NOT NULL,
  position       integer NOT NULL,
  name           text NOT NULL,
  action         text NOT NULL,
  status         text NOT NULL CHECK (status IN ('pending', 'awaiting_approval', 'running', 'succeeded', 'failed', 'skipped', 'compensating', 'compensated', 'compensation_failed')),
  gate           jsonb,
  params         jsonb,
  output         jsonb,
  error          text,
  attempts       integer NOT NULL DEFAULT 0,
  started_at     timestamptz,
  finished_at    timestamptz,
  compensated_at timestamptz,
  -- Facts an action must observe only once, e.g. the capacity before scaling, kept across retries.
  memory         jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (incident_id, step_id)
);

CREATE TABLE approvals (
  id           bigserial PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  incident_id  uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  -- NULL for the gate before the whole runbook.
  step_id      text,
  decision     text NOT NULL CHECK (decision IN ('approve', 'reject')),
  approver     text NOT NULL,
  reason       text,
  event_key    text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incident_id, event_key)
);

-- The audit trail. Rows are only ever added: the application role may not update or delete them,
-- and a trigger refuses it for every role, owners included.
CREATE TABLE action_log (
  id           bigserial PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  incident_id  uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  kind         text NOT NULL,
  actor        text NOT NULL,
  step_id      text,
  detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Set by the writer so a retried activity does not log the same transition twice.
  event_key    text NOT NULL,
  UNIQUE (incident_id, event_key)
);
CREATE INDEX action_log_incident ON action_log (incident_id, id);

CREATE FUNCTION aire_refuse_change() RETURNS trigger
  LANGUAGE plpgsql
  AS $$ BEGIN RAISE EXCEPTION 'action_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$;
CREATE TRIGGER action_log_append_only BEFORE UPDATE OR DELETE ON action_log FOR EACH ROW EXECUTE FUNCTION aire_refuse_change();
CREATE TRIGGER action_log_no_truncate BEFORE TRUNCATE ON action_log FOR EACH STATEMENT EXECUTE FUNCTION aire_refuse_change();

-- Kill switches and blocks AIRE keeps and serves to other services (GET /api/controls).
CREATE TABLE controls (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('feature', 'block')),
  key          text NOT NULL,
  -- true while the switch is in force: the feature is off, or the target is blocked.
  active       boolean NOT NULL,
  reason       text,
  incident_id  uuid,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, kind, key)
);

-- Row-level security on every tenant table, forced so that even the owner is subject to it.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['api_keys', 'runbooks', 'incidents', 'incident_steps', 'approvals', 'action_log', 'controls'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = aire_current_tenant()) WITH CHECK (tenant_id = aire_current_tenant())', t);
  END LOOP;
END
$$;
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (id = aire_current_tenant());

GRANT SELECT ON tenants TO aire_app;
GRANT SELECT, INSERT, UPDATE ON api_keys TO aire_app;
GRANT SELECT, INSERT ON runbooks TO aire_app;
GRANT SELECT, INSERT, UPDATE ON incidents TO aire_app;
GRANT SELECT, INSERT, UPDATE ON incident_steps TO aire_app;
GRANT SELECT, INSERT ON approvals TO aire_app;
GRANT SELECT, INSERT ON action_log TO aire_app;
GRANT SELECT, INSERT, UPDATE ON controls TO aire_app;
GRANT USAGE ON SEQUENCE approvals_id_seq, action_log_id_seq TO aire_app;

-- Authentication happens before the tenant is known, so it is the one lookup that crosses tenants:
-- a narrow SECURITY DEFINER function that answers only for the exact hash of a live key.
CREATE FUNCTION aire_authenticate(p_key_hash text)
  RETURNS TABLE (key_id uuid, key_name text, tenant_id uuid, tenant_slug text, roles text[])
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$
    SELECT k.id, k.name, t.id, t.slug, k.roles
      FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
     WHERE k.key_hash = p_key_hash AND k.revoked_at IS NULL
  $$;
REVOKE ALL ON FUNCTION aire_authenticate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aire_authenticate(text) TO aire_app;

-- Where the schema owner is not a superuser, FORCE would hide keys from aire_authenticate too;
-- these read-only policies let the owner (and so the function) see them.
CREATE POLICY owner_lookup ON api_keys FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY owner_lookup ON tenants FOR SELECT TO CURRENT_USER USING (true);
