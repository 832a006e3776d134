#!/usr/bin/env bash
# A real Temporal server (not the dev server) on the local PostgreSQL, with the config kept in
# deploy/temporal/. Usage: scripts/temporal-postgres.sh install|start|stop|kill|status|drop-databases
#
#   start   installs the server and temporal-sql-tool from the Go module proxy when missing (once,
#           into $(go env GOPATH)/bin/temporal-server-<version>/), creates the databases, applies
#           the schema (setup-schema + update-schema: safe to repeat, upgrades in place), starts the
#           server in the background, waits until it is healthy, then registers the namespace and
#           AIRE's search attributes when missing. Prints the TEMPORAL_ADDRESS to use.
#   stop    stops the server this script started (pid file in the state dir): SIGTERM, a clean
#           shutdown (SIGKILL after 30 s).
#   install only installs the server and temporal-sql-tool when missing.
#   kill    SIGKILLs it: a crash, for tests that restart the server mid-runbook.
#   status  answers whether it is up.
#   drop-databases  drops the two databases (refused while this script's server runs): the next
#           start begins from an empty schema. The test lane does this before every run.
#
# Environment (all optional; the same names are read by deploy/temporal/development-postgres.yaml):
#   AIRE_TEMPORAL_PORT            frontend gRPC port, default 7243 (the next 4 and +10…+13 are used too)
#   AIRE_TEMPORAL_BIND_IP         default 127.0.0.1
#   AIRE_TEMPORAL_PG_HOST/_PORT   default 127.0.0.1 / 5432
#   AIRE_TEMPORAL_PG_USER/_PASSWORD  default postgres / empty (trust auth)
#   AIRE_TEMPORAL_DB              default temporal
#   AIRE_TEMPORAL_VISIBILITY_DB   default temporal_visibility
#   AIRE_TEMPORAL_NAMESPACE       default default
#   AIRE_STATE_DIR                pid and log files, default .aire
source "$(dirname "$0")/lib.sh"

# v1.29.1 is the one in use; the others are nearby tags the module proxy serves, tried in order when
# an install fails. None of them carries a replace directive, so `go install` works.
TEMPORAL_SERVER_VERSIONS=(v1.29.1 v1.30.4 v1.27.3)

export AIRE_TEMPORAL_PORT="${AIRE_TEMPORAL_PORT:-7243}"
export AIRE_TEMPORAL_BIND_IP="${AIRE_TEMPORAL_BIND_IP:-127.0.0.1}"
export AIRE_TEMPORAL_PG_HOST="${AIRE_TEMPORAL_PG_HOST:-127.0.0.1}"
export AIRE_TEMPORAL_PG_PORT="${AIRE_TEMPORAL_PG_PORT:-5432}"
export AIRE_TEMPORAL_PG_USER="${AIRE_TEMPORAL_PG_USER:-postgres}"
export AIRE_TEMPORAL_PG_PASSWORD="${AIRE_TEMPORAL_PG_PASSWORD:-}"
export AIRE_TEMPORAL_DB="${AIRE_TEMPORAL_DB:-temporal}"
export AIRE_TEMPORAL_VISIBILITY_DB="${AIRE_TEMPORAL_VISIBILITY_DB:-temporal_visibility}"
export AIRE_TEMPORAL_CONFIG_DIR="$ROOT/deploy/temporal"
NAMESPACE="${AIRE_TEMPORAL_NAMESPACE:-default}"
ADDRESS="$AIRE_TEMPORAL_BIND_IP:$AIRE_TEMPORAL_PORT"
PID_FILE="$STATE_DIR/temporal-postgres.pid"
LOG_FILE="$STATE_DIR/temporal-postgres.log"

# Sets SERVER_BIN and SQL_TOOL, building them from the Go module proxy the first time.
ensure_temporal_server() {
  local gopath version dir started
  gopath="$(go env GOPATH)"
  for version in "${TEMPORAL_SERVER_VERSIONS[@]}"; do
    dir="$gopath/bin/temporal-server-$version"
    if [ -x "$dir/server" ] && [ -x "$dir/sql" ]; then SERVER_BIN="$dir/server"; SQL_TOOL="$dir/sql"; return; fi
  done
  command -v go >/dev/null 2>&1 || { say "Go is needed to build the Temporal server"; exit 1; }
  for version in "${TEMPORAL_SERVER_VERSIONS[@]}"; do
    dir="$gopath/bin/temporal-server-$version"
    say "building the Temporal server and temporal-sql-tool $version from the Go module proxy (several minutes, once)"
    started=$(date +%s)
    if GOBIN="$dir" go install "go.temporal.io/server/cmd/server@$version" "go.temporal.io/server/cmd/tools/sql@$version"; then
      say "Temporal server $version installed in $(( $(date +%s) - started ))s at $dir"
      SERVER_BIN="$dir/server"; SQL_TOOL="$dir/sql"
      return
    fi
    say "Temporal server $version did not install; trying the next version"
  done
  say "no Temporal server version installed"; exit 1
}

sql_tool() {
  "$SQL_TOOL" --endpoint "$AIRE_TEMPORAL_PG_HOST" --port "$AIRE_TEMPORAL_PG_PORT" --user "$AIRE_TEMPORAL_PG_USER" \
    --password "$AIRE_TEMPORAL_PG_PASSWORD" --plugin postgres12 "$@"
}

pg_admin_url() {
  local auth="$AIRE_TEMPORAL_PG_USER"
  [ -n "$AIRE_TEMPORAL_PG_PASSWORD" ] && auth="$auth:$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$AIRE_TEMPORAL_PG_PASSWORD")"
  echo "postgres://$auth@$AIRE_TEMPORAL_PG_HOST:$AIRE_TEMPORAL_PG_PORT/postgres"
}

# Creates the two databases when missing and brings their schema to the version this server ships.
prepare_databases() {
  local db schema
  for db in "$AIRE_TEMPORAL_DB" "$AIRE_TEMPORAL_VISIBILITY_DB"; do
    if [ "$db" = "$AIRE_TEMPORAL_DB" ]; then schema=postgresql/v12/temporal; else schema=postgresql/v12/visibility; fi
    # create-database is a no-op for a database that exists; setup-schema -v 0.0 only creates the
    # version tables (a no-op once the schema is newer); update-schema applies every versioned step
    # above the recorded version.
    if ! sql_tool --db "$db" create-database >"$STATE_DIR/temporal-sql-tool.log" 2>&1 ||
       ! sql_tool --db "$db" setup-schema -v 0.0 >>"$STATE_DIR/temporal-sql-tool.log" 2>&1 ||
       ! sql_tool --db "$db" update-schema --schema-name "$schema" >>"$STATE_DIR/temporal-sql-tool.log" 2>&1; then
      say "temporal-sql-tool failed on $db:"; tail -20 "$STATE_DIR/temporal-sql-tool.log" >&2; exit 1
    fi
  done
  say "schema up to date in $AIRE_TEMPORAL_DB and $AIRE_TEMPORAL_VISIBILITY_DB"
}

healthy() { "$TEMPORAL_BIN" operator cluster health --address "$ADDRESS" >/dev/null 2>&1; }

running_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

missing_search_attributes() {
  local existing a
  existing="$("$TEMPORAL_BIN" operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE" 2>/dev/null)" || return 1
  MISSING=()
  for a in "${SEARCH_ATTRIBUTES[@]}"; do grep -qw "$a" <<<"$existing" || MISSING+=("$a"); done
}

register_namespace_and_search_attributes() {
  if ! "$TEMPORAL_BIN" operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
    say "registering namespace $NAMESPACE"
    "$TEMPORAL_BIN" operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention 72h >/dev/null
  fi
  # A new namespace reaches the frontend's cache within ~10 s; until then calls on it fail.
  for _ in $(seq 1 60); do missing_search_attributes && break; sleep 0.5; done
  # On SQL visibility a custom attribute is an alias in the namespace record, and the frontend
  # updates that record from its cache (refreshed every ~10 s): two creates within one refresh
  # lose one of them. So: all missing ones in one call, then wait until the list shows them.
  local a
  for _ in 1 2 3; do
    missing_search_attributes || true
    [ "${#MISSING[@]}" -eq 0 ] && break
    say "registering search attributes ${MISSING[*]} (Keyword)"
    # One --type per --name: the CLI pairs them up and sends only as many names as types.
    local pairs=()
    for a in "${MISSING[@]}"; do pairs+=(--name "$a" --type Keyword); done
    "$TEMPORAL_BIN" operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" "${pairs[@]}" >/dev/null
    for _ in $(seq 1 50); do
      sleep 0.5
      missing_search_attributes && [ "${#MISSING[@]}" -eq 0 ] && break
    done
  done
  missing_search_attributes || true
  [ "${#MISSING[@]}" -eq 0 ] || { say "search attributes ${MISSING[*]} could not be registered"; exit 1; }
  # Wait until a list query on them is accepted, so the first incident's upsert cannot race them.
  for _ in $(seq 1 60); do
    if "$TEMPORAL_BIN" workflow list --address "$ADDRESS" --namespace "$NAMESPACE" --limit 1 --query 'AireRunbook = "probe"' >/dev/null 2>&1; then return; fi
    sleep 0.5
  done
  say "namespace $NAMESPACE did not accept queries on AIRE's search attributes in 30 s"; exit 1
}

start() {
  ensure_temporal
  ensure_node_modules
  ensure_temporal_server
  check_postgres "$(pg_admin_url)"
  if healthy; then
    say "a Temporal server already answers on $ADDRESS"
  else
    prepare_databases
    say "starting Temporal server on $ADDRESS (PostgreSQL $AIRE_TEMPORAL_PG_HOST:$AIRE_TEMPORAL_PG_PORT, log $LOG_FILE)"
    cd "$ROOT"
    setsid "$SERVER_BIN" --root "$ROOT" --config deploy/temporal --env development-postgres start >>"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    local pid started
    pid="$(cat "$PID_FILE")"
    started=$(date +%s)
    until healthy; do
      kill -0 "$pid" 2>/dev/null || { say "the Temporal server exited; see $LOG_FILE"; tail -20 "$LOG_FILE" >&2; exit 1; }
      [ $(( $(date +%s) - started )) -lt 120 ] || { say "the Temporal server did not become healthy in 120 s; see $LOG_FILE"; exit 1; }
      sleep 0.5
    done
    say "Temporal server healthy after $(( $(date +%s) - started ))s (pid $pid)"
  fi
  register_namespace_and_search_attributes
  say "ready: TEMPORAL_ADDRESS=$ADDRESS TEMPORAL_NAMESPACE=$NAMESPACE"
}

# Args: signal (TERM: clean shutdown, KILL: crash).
stop() {
  local pid signal="${1:-TERM}"
  if ! pid="$(running_pid)"; then say "no Temporal server started by this script is running"; rm -f "$PID_FILE"; return; fi
  say "stopping Temporal server (pid $pid, SIG$signal)"
  kill "-$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

drop_databases() {
  if running_pid >/dev/null; then say "the Temporal server (pid $(running_pid)) is running: stop it first"; exit 1; fi
  local db
  for db in "$AIRE_TEMPORAL_DB" "$AIRE_TEMPORAL_VISIBILITY_DB"; do
    node -e "const {Client}=require('pg');const c=new Client({connectionString:process.argv[1]});
      c.connect().then(()=>c.query('DROP DATABASE IF EXISTS \"'+process.argv[2].replace(/\"/g,'\"\"')+'\" WITH (FORCE)')).then(()=>c.end())
      .catch(e=>{console.error(e.message);process.exit(1)})" "$(pg_admin_url)" "$db"
  done
  say "dropped $AIRE_TEMPORAL_DB and $AIRE_TEMPORAL_VISIBILITY_DB"
}

status() {
  ensure_temporal
  local pid=""
  pid="$(running_pid)" || pid=""
  if healthy; then
    say "Temporal server healthy on $ADDRESS${pid:+ (pid $pid)}"
  else
    say "no healthy Temporal server on $ADDRESS${pid:+ (pid $pid is running; see $LOG_FILE)}"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  install) ensure_temporal_server; say "Temporal server at $SERVER_BIN" ;;
  stop) stop TERM ;;
  kill) stop KILL ;;
  status) status ;;
  drop-databases) cd "$ROOT"; drop_databases ;;
  *) echo "usage: $0 install|start|stop|kill|status|drop-databases" >&2; exit 2 ;;
esac
