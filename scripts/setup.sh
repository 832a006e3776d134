#!/usr/bin/env bash
# Installs what is missing and prepares the database. Safe to re-run.
source "$(dirname "$0")/lib.sh"
ensure_node_modules
ensure_temporal
ADMIN_URL="${DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/aire}"
check_postgres "$(echo "$ADMIN_URL" | sed 's#/[^/]*$#/postgres#')"
cd "$ROOT"
npx tsx src/cli/main.ts db migrate
say "setup done (Temporal CLI: $TEMPORAL_BIN)"
