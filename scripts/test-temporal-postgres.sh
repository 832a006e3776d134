#!/usr/bin/env bash
# The PostgreSQL-backed Temporal lane: the integration suite against a real Temporal server on
# PostgreSQL (scripts/temporal-postgres.sh, config in deploy/temporal/) instead of the dev server,
# then that server restarted mid-runbook (test/chaos/temporal-postgres-restart.test.ts). `.ci/run`
# runs it after `npm test`; `npm run test:temporal-postgres` runs it by hand.
#
# The lane owns everything it uses, so it can run beside `npm test`, `npm run chaos`, `npm run dev`
# or a developer's own `scripts/temporal-postgres.sh start`: its own server (port 7343, pid and log
# in .aire/temporal-postgres-lane/), its own Temporal databases (dropped and created anew on every
# run, so no workflow of an earlier run is still there), its own AIRE test database and state
# directory. The server is stopped when the lane ends, however it ends (a stale one left by a
# killed run is stopped at the next start). Installs what it needs: npm packages, the Temporal CLI,
# the server (built from the Go module proxy the first time), the Debian packages the tests use.
#
# Arguments go to jest in place of the default (test/integration), and the restart check is then
# left out unless AIRE_LANE_RESTART=1.
#
#   AIRE_TEST_DATABASE_ADMIN_URL  AIRE's test database, recreated (default .../aire_test_temporal_postgres)
#   AIRE_TEST_STATE_DIR           test state (default .aire/test-temporal-postgres)
#   AIRE_TEMPORAL_PORT            the lane server's frontend port (default 7343; +1…+4, +10…+13 too)
#   AIRE_TEMPORAL_DB, AIRE_TEMPORAL_VISIBILITY_DB  (default temporal_lane, temporal_lane_visibility)
#   AIRE_LANE_RESTART             1: run the restart check (default when no arguments), 0: skip it
source "$(dirname "$0")/lib.sh"
ensure_node_modules
ensure_temporal
bash "$ROOT/scripts/install-system-packages.sh"
cd "$ROOT"

export AIRE_TEMPORAL_BIN="$TEMPORAL_BIN"
export AIRE_TEST_DATABASE_ADMIN_URL="${AIRE_TEST_DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/aire_test_temporal_postgres}"
export AIRE_TEST_STATE_DIR="${AIRE_TEST_STATE_DIR:-$STATE_DIR/test-temporal-postgres}"
# Read by scripts/temporal-postgres.sh (and the restart check, which calls it).
export AIRE_STATE_DIR="$STATE_DIR/temporal-postgres-lane"
export AIRE_TEMPORAL_PORT="${AIRE_TEMPORAL_PORT:-7343}"
export AIRE_TEMPORAL_DB="${AIRE_TEMPORAL_DB:-temporal_lane}"
export AIRE_TEMPORAL_VISIBILITY_DB="${AIRE_TEMPORAL_VISIBILITY_DB:-temporal_lane_visibility}"
check_postgres "$(echo "$AIRE_TEST_DATABASE_ADMIN_URL" | sed 's#/[^/]*$#/postgres#')"
SERVER="$ROOT/scripts/temporal-postgres.sh"
ADDRESS="${AIRE_TEMPORAL_BIND_IP:-127.0.0.1}:$AIRE_TEMPORAL_PORT"

restart_check="${AIRE_LANE_RESTART:-}"
if [ "$#" -eq 0 ]; then set -- test/integration; restart_check="${restart_check:-1}"; fi

# A server of an earlier lane run that was killed before it could clean up.
bash "$SERVER" stop >/dev/null 2>&1 || true
if "$TEMPORAL_BIN" operator cluster health --address "$ADDRESS" >/dev/null 2>&1; then
  say "a Temporal server this lane did not start answers on $ADDRESS: set AIRE_TEMPORAL_PORT to a free port"
  exit 1
fi
trap 'bash "$SERVER" stop || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lane_started=$(date +%s)
# The build is timed on its own (once per machine; kept in $(go env GOPATH)/bin afterwards).
bash "$SERVER" install
server_started=$(date +%s)
bash "$SERVER" drop-databases
bash "$SERVER" start
server_ready=$(date +%s)

export AIRE_TEST_TEMPORAL_ADDRESS="$ADDRESS"
say "integration suite against Temporal on PostgreSQL at $ADDRESS"
status=0
npx jest "$@" || status=$?
suite_done=$(date +%s)

restart_status="skipped"
if [ "$restart_check" = 1 ]; then
  # On its own: it stops the server that every other test file would be using.
  say "restart check: the PostgreSQL-backed server crashed and stopped mid-runbook"
  restart_status=0
  AIRE_TEST_TEMPORAL_CONTROL="$SERVER" npx jest test/chaos/temporal-postgres-restart.test.ts || restart_status=$?
  [ "$restart_status" = 0 ] || status=1
fi
finished=$(date +%s)

say "Temporal-on-PostgreSQL lane: $(( finished - lane_started ))s in all; server install $(( server_started - lane_started ))s, server (schema from empty databases, start, namespace) $(( server_ready - server_started ))s, suite $(( suite_done - server_ready ))s (exit $status), restart check $(( finished - suite_done ))s ($restart_status)"
exit "$status"
