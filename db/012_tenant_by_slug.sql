-- Slack's interaction requests carry no API key: the request URL names the tenant by its slug, and
-- the signature made with that tenant's Slack signing secret authenticates the request. Finding the
-- tenant from the slug is the second lookup that crosses tenants (after aire_authenticate): a narrow
-- SECURITY DEFINER function that answers only the id of the tenant with exactly that slug.
CREATE FUNCTION aire_tenant_id(p_slug text)
  RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$ SELECT id FROM tenants WHERE slug = p_slug $$;
REVOKE ALL ON FUNCTION aire_tenant_id(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aire_tenant_id(text) TO aire_app;
