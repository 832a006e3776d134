-- AIRE's own health as Prometheus gauges (GET /metrics): how many incidents are open, how long the
-- quietest of them has gone without an audit entry, how many circuit breakers are open. /metrics is
-- not per tenant, so these are the second lookup that crosses tenants (after aire_authenticate): a
-- narrow SECURITY DEFINER function that returns aggregates only, never a tenant, incident or service.
CREATE FUNCTION aire_health_gauges()
  RETURNS TABLE (metric text, status text, severity text, value float8)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$
    -- Incidents not yet settled, by status and severity.
    SELECT 'open', i.status, i.severity, count(*)::float8
      FROM incidents i
     WHERE i.status NOT IN ('mitigated', 'resolved', 'closed', 'failed', 'rolled_back')
     GROUP BY i.status, i.severity
    UNION ALL
    -- Per unsettled status: the longest any incident in it has gone since its last audit entry.
    SELECT 'quiet', i.status, NULL, max(EXTRACT(EPOCH FROM now() - last.at))::float8
      FROM incidents i
      CROSS JOIN LATERAL (SELECT a.at FROM action_log a WHERE a.incident_id = i.id ORDER BY a.id DESC LIMIT 1) last
     WHERE i.status NOT IN ('mitigated', 'resolved', 'closed', 'failed', 'rolled_back')
     GROUP BY i.status
    UNION ALL
    SELECT 'breakers', NULL, NULL, count(*)::float8 FROM breakers WHERE reset_at IS NULL
  $$;
REVOKE ALL ON FUNCTION aire_health_gauges() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aire_health_gauges() TO aire_app;

-- Where the schema owner is not a superuser, FORCE would hide these rows from the function too
-- (as for aire_authenticate in 001_core.sql): read-only policies for the owner alone.
CREATE POLICY owner_health ON incidents FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY owner_health ON action_log FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY owner_health ON breakers FOR SELECT TO CURRENT_USER USING (true);
