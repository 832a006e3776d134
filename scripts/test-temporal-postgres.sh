#!/usr/bin/env bash
# The PostgreSQL-backed Temporal lane: the integration suite against a real Temporal server on
# PostgreSQL (scripts/temporal-postgres.sh, config in deploy/temporal/) instead of the dev server.
# Starts that server unless one already answers, and stops it afterwards if it started it.
# Extra arguments go to jest (default: test/integration).
#
#   AIRE_TEST_DATABASE_ADMIN_URL  AIRE's test database, recreated (default .../aire_test)
#   AIRE_TEST_STATE_DIR           test state (default .aire/test-temporal-postgres)
#   AIRE_TEMPORAL_PORT, AIRE_TEMPORAL_DB, …  see scripts/temporal-postgres.sh
source "$(dirname "$0")/lib.sh"
ensure_node_modules
ensure_temporal
bash "$ROOT/scripts/install-system-packages.sh"
cd "$ROOT"

export AIRE_TEMPORAL_BIN="$TEMPORAL_BIN"
export AIRE_TEST_DATABASE_ADMIN_URL="${AIRE_TEST_DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/aire_test}"
export AIRE_TEST_STATE_DIR="${AIRE_TEST_STATE_DIR:-$ROOT/.aire/test-temporal-postgres}"
export AIRE_TEMPORAL_PORT="${AIRE_TEMPORAL_PORT:-7243}"
check_postgres "$(echo "$AIRE_TEST_DATABASE_ADMIN_URL" | sed 's#/[^/]*$#/postgres#')"

lane_started=$(date +%s)
started_here=""
if ! bash "$ROOT/scripts/temporal-postgres.sh" status >/dev/null 2>&1; then started_here=1; fi
stop_server() { [ -n "$started_here" ] && bash "$ROOT/scripts/temporal-postgres.sh" stop || true; }
trap stop_server EXIT
bash "$ROOT/scripts/temporal-postgres.sh" start
server_ready=$(date +%s)

export AIRE_TEST_TEMPORAL_ADDRESS="${AIRE_TEMPORAL_BIND_IP:-127.0.0.1}:$AIRE_TEMPORAL_PORT"
say "integration suite against Temporal on PostgreSQL at $AIRE_TEST_TEMPORAL_ADDRESS"
if [ "$#" -eq 0 ]; then set -- test/integration; fi
status=0
npx jest "$@" || status=$?
say "Temporal-on-PostgreSQL lane: server ready in $(( server_ready - lane_started ))s, jest $(( $(date +%s) - server_ready ))s, exit $status"
exit "$status"
