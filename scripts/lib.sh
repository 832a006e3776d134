# Shared helpers for the setup, dev and test scripts. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${AIRE_STATE_DIR:-$ROOT/.aire}"
mkdir -p "$STATE_DIR"

TEMPORAL_VERSIONS=(v1.5.1 v1.5.0 v1.4.1)   # later tags carry a replace directive and cannot be go-installed
SEARCH_ATTRIBUTES=(AireTenant AireSeverity AireStatus AireSource AireRunbook AireCommander)
JAEGER_VERSION=v1.75.0   # the OTLP receiver and trace store of the tracing test (docs/tracing.md)

say() { printf '\033[1m[aire]\033[0m %s\n' "$*" >&2; }

# npm packages: installed from the lock file when missing or older than it.
ensure_node_modules() {
  cd "$ROOT"
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages"
    # Not `npm ci`: this npm leaves other platforms' optional packages (@swc/core-darwin-*, …) out of
    # the lock file and then refuses it as out of sync. `npm install` honours the same lock.
    npm install --no-audit --no-fund --loglevel=error
  fi
}

# The Temporal CLI, built from the Go module proxy once and reused (GOBIN is kept between runs):
# the first of TEMPORAL_VERSIONS that installs. Sets TEMPORAL_BIN.
ensure_temporal() {
  local modules=() version
  for version in "${TEMPORAL_VERSIONS[@]}"; do modules+=("github.com/temporalio/cli/cmd/temporal@$version"); done
  ensure_go_tool temporal AIRE_TEMPORAL_BIN "${modules[@]}"
  TEMPORAL_BIN="$GO_TOOL_BIN"
}

# Jaeger (v2, all in one), built from the Go module proxy once and reused, like the Temporal CLI.
# `go install …@version` refuses it (its go.mod has a replace directive), so it is built inside the
# downloaded module, which honours the directive. Its web UI is not in the Go module (a separate npm
# build), so this binary serves the query API and a placeholder page; the tests read the API.
ensure_jaeger() {
  local gobin dir started
  gobin="$(go env GOPATH)/bin"
  if [ -n "${AIRE_JAEGER_BIN:-}" ] && [ -x "$AIRE_JAEGER_BIN" ]; then JAEGER_BIN="$AIRE_JAEGER_BIN"; return; fi
  if [ -x "$gobin/jaeger" ]; then JAEGER_BIN="$gobin/jaeger"; return; fi
  command -v go >/dev/null 2>&1 || { say "Go is needed to build Jaeger for the tracing test: install Go, or set AIRE_JAEGER_BIN"; exit 1; }
  say "building Jaeger $JAEGER_VERSION from the Go module proxy (several minutes, once)"
  started=$(date +%s)
  dir="$(go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] || { say "could not download github.com/jaegertracing/jaeger@$JAEGER_VERSION"; exit 1; }
  mkdir -p "$gobin"
  (cd "$dir" && go build -o "$gobin/jaeger" ./cmd/jaeger)
  say "Jaeger $JAEGER_VERSION built in $(( $(date +%s) - started ))s at $gobin/jaeger"
  JAEGER_BIN="$gobin/jaeger"
}

# A Go tool built from the Go module proxy once and reused (GOBIN is kept between runs), like the
# Temporal CLI. Args: name, variable that may name a binary, then module@version candidates in order.
# Sets GO_TOOL_BIN.
ensure_go_tool() {
  local name="$1" var="$2"; shift 2
  local gobin started module
  gobin="$(go env GOPATH 2>/dev/null)/bin"
  if [ -n "${!var:-}" ] && [ -x "${!var}" ]; then GO_TOOL_BIN="${!var}"; return; fi
  if [ -x "$gobin/$name" ]; then GO_TOOL_BIN="$gobin/$name"; return; fi
  if command -v "$name" >/dev/null 2>&1; then GO_TOOL_BIN="$(command -v "$name")"; return; fi
  command -v go >/dev/null 2>&1 || { say "Go is needed to build $name: install Go, or set $var"; exit 1; }
  for module in "$@"; do
    say "building $name ($module) from the Go module proxy (minutes, once)"
    started=$(date +%s)
    if go install "$module"; then
      say "$name installed in $(( $(date +%s) - started ))s at $gobin/$name"
      GO_TOOL_BIN="$gobin/$name"
      return
    fi
    say "$module did not install; trying the next candidate"
  done
  say "$name did not install"; exit 1
}

# Helm, for the chart's tests (test/deploy/helm.test.ts): v4, else the last v3. Sets HELM_BIN.
ensure_helm() {
  ensure_go_tool helm AIRE_HELM_BIN helm.sh/helm/v4/cmd/helm@v4.3.2 helm.sh/helm/v3/cmd/helm@v3.21.4
  HELM_BIN="$GO_TOOL_BIN"
}

# kubectl-validate validates rendered manifests offline against the Kubernetes OpenAPI schemas it
# embeds (1.23–1.30), strictly like the API server. Sets KUBECTL_VALIDATE_BIN.
ensure_kubectl_validate() {
  ensure_go_tool kubectl-validate AIRE_KUBECTL_VALIDATE_BIN sigs.k8s.io/kubectl-validate@v0.0.4
  KUBECTL_VALIDATE_BIN="$GO_TOOL_BIN"
}

# Starts `temporal server start-dev` in the background unless one already answers on the address.
# Args: grpc-port ui-port db-file log-file. Sets TEMPORAL_PID (empty when reusing a running server).
start_temporal() {
  local port="$1" ui_port="$2" db_file="$3" log_file="$4"
  TEMPORAL_PID=""
  if "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$port" >/dev/null 2>&1; then
    say "Temporal already running on 127.0.0.1:$port"
    return
  fi
  local attrs=()
  for a in "${SEARCH_ATTRIBUTES[@]}"; do attrs+=(--search-attribute "$a=Keyword"); done
  say "starting Temporal dev server on 127.0.0.1:$port (Web UI http://127.0.0.1:$ui_port, data $db_file)"
  "$TEMPORAL_BIN" server start-dev --ip 127.0.0.1 --port "$port" --ui-port "$ui_port" --db-filename "$db_file" \
    --log-level warn "${attrs[@]}" --dynamic-config-value history.maximumBufferedEventsBatch=1000 >"$log_file" 2>&1 &
  TEMPORAL_PID=$!
  for _ in $(seq 1 120); do
    if "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$port" >/dev/null 2>&1; then return; fi
    kill -0 "$TEMPORAL_PID" 2>/dev/null || { say "Temporal exited; see $log_file"; tail -20 "$log_file" >&2; exit 1; }
    sleep 0.5
  done
  say "Temporal did not come up in 60s; see $log_file"; exit 1
}

# PostgreSQL must be reachable; we do not install or start it.
check_postgres() {
  local url="$1"
  if ! node -e "const {Client}=require('pg');const c=new Client({connectionString:process.argv[1]});c.connect().then(()=>c.end()).catch(e=>{console.error(e.message);process.exit(1)})" "$url" 2>/dev/null; then
    say "PostgreSQL is not reachable at ${url%%\?*} (set DATABASE_ADMIN_URL); it must be running"
    exit 1
  fi
}
