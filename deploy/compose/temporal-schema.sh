#!/bin/sh
# Temporal's databases and schema, with the temporal-sql-tool of the admin-tools image (the same
# version as the server). Safe to run on every start: create-database is a no-op for a database that
# exists, setup-schema -v 0.0 only creates the version tables, and
# update-schema applies only the versioned steps above the version already recorded. PostgreSQL is
# healthy before this runs (depends_on in docker-compose.yml).
set -eu
sql() {
  temporal-sql-tool --plugin postgres12 --endpoint "$POSTGRES_SEEDS" --port "${DB_PORT:-5432}" \
    --user "$POSTGRES_USER" --password "$POSTGRES_PWD" "$@"
}
for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*} schema=${pair#*:}
  sql --db "$db" create-database   # a no-op when it exists
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema --schema-name "postgresql/v12/$schema"
  echo "schema of $db is current"
done
