#!/usr/bin/env bash
# The whole system on its embedded defaults: Temporal dev server (Web UI :8233), PostgreSQL schema,
# a tenant with an admin key, one worker and the API on :8080. Ctrl-C stops everything.
source "$(dirname "$0")/lib.sh"
ensure_node_modules
ensure_temporal
cd "$ROOT"

export DATABASE_ADMIN_URL="${DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/aire}"
export PORT="${PORT:-8080}"
# Readable logs for a person at a terminal (src/log-pretty.ts); everything else logs JSON lines.
export AIRE_LOG_FORMAT="${AIRE_LOG_FORMAT:-pretty}"
check_postgres "$(echo "$DATABASE_ADMIN_URL" | sed 's#/[^/]*$#/postgres#')"

PIDS=()
cleanup() {
  trap - EXIT INT TERM
  say "stopping"
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  start_temporal 7233 8233 "$STATE_DIR/temporal.db" "$STATE_DIR/temporal.log"
  [ -n "$TEMPORAL_PID" ] && PIDS+=("$TEMPORAL_PID")
  export TEMPORAL_ADDRESS=127.0.0.1:7233
fi

npx tsx src/cli/main.ts db migrate
npx tsx src/cli/main.ts admin bootstrap --tenant "${AIRE_TENANT:-default}" --key-file "$STATE_DIR/admin.key"
npx tsx src/cli/main.ts admin load-runbooks --tenant "${AIRE_TENANT:-default}" --dir runbooks
npx tsx src/cli/main.ts admin load-rules --tenant "${AIRE_TENANT:-default}" --dir rules
# Nobody acknowledging a critical or high incident pages the demo target's /page (docs/people.md, "Default paging").
npx tsx src/cli/main.ts admin default-on-call --tenant "${AIRE_TENANT:-default}" --url "http://127.0.0.1:${AIRE_DEMO_TARGET_PORT:-8099}/page"

node --import tsx scripts/demo-target.ts & PIDS+=($!)
node --max-old-space-size=256 --import tsx src/worker/main.ts & PIDS+=($!)
node --import tsx src/api/main.ts & PIDS+=($!)

for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
cat >&2 <<MSG

  AIRE is running.
    API            http://127.0.0.1:$PORT      (admin key in $STATE_DIR/admin.key)
    Temporal UI    http://127.0.0.1:8233       (namespace default)
    Try:  curl -s -X POST http://127.0.0.1:$PORT/api/incident/from-forecast \\
            -H "Authorization: Bearer \$(cat $STATE_DIR/admin.key)" -H 'Content-Type: application/json' \\
            -d '{"id":"fc-1","riskType":"capacity exhaustion","confidence":65,"recommendedAction":"scale out"}'
  Ctrl-C stops everything.

MSG
wait -n "${PIDS[@]}"
say "a component exited; stopping the rest"
