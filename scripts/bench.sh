#!/usr/bin/env bash
# The benchmark (bench/): starts its own Temporal dev server, `aire_bench` database, API and worker,
# runs the scenarios and writes bench/results/<date>.json and .md. `npm run bench -- --quick` for a
# smoke run; see bench/run.ts for the other options.
source "$(dirname "$0")/lib.sh"
ensure_node_modules
ensure_temporal
export AIRE_TEMPORAL_BIN="$TEMPORAL_BIN"
check_postgres "postgres://postgres@127.0.0.1:5432/postgres"
cd "$ROOT"
exec node --import tsx bench/run.ts "$@"
