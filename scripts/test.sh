#!/usr/bin/env bash
# Runs the whole test suite: type check, then jest (unit and integration). Installs what it needs;
# the integration tests start their own Temporal dev server and use a fresh `aire_test` database.
source "$(dirname "$0")/lib.sh"
ensure_node_modules
ensure_temporal
ensure_jaeger
ensure_helm
ensure_kubectl_validate
bash "$ROOT/scripts/install-system-packages.sh"
export AIRE_TEMPORAL_BIN="$TEMPORAL_BIN" AIRE_JAEGER_BIN="$JAEGER_BIN" AIRE_HELM_BIN="$HELM_BIN" AIRE_KUBECTL_VALIDATE_BIN="$KUBECTL_VALIDATE_BIN"
export AIRE_TEST_DATABASE_ADMIN_URL="${AIRE_TEST_DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/aire_test}"
check_postgres "$(echo "$AIRE_TEST_DATABASE_ADMIN_URL" | sed 's#/[^/]*$#/postgres#')"
cd "$ROOT"
say "type check"
npx tsc --noEmit -p tsconfig.json
say "jest"
npx jest "$@"
