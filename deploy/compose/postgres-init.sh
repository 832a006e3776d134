#!/bin/sh
# Runs once, when the PostgreSQL volume is new (docker-entrypoint-initdb.d). Creates the two login
# roles the stack uses besides the superuser:
#   temporal  owns Temporal's databases (temporal, temporal_visibility), created by temporal-schema
#   aire_app  AIRE's API and workers: owns nothing, cannot bypass row-level security. The
#             migrations (aire setup) grant it what it needs; here it only gets its password.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v temporal_password="$TEMPORAL_DB_PASSWORD" -v aire_app_password="$AIRE_APP_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE aire_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'aire_app_password';
SQL
