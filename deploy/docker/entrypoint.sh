#!/bin/sh
# Entry point of the AIRE image: the first argument chooses the process. Configuration is the
# environment only (docs/operations.md, Configuration); a bad value stops the process at start.
#   api                 the HTTP API (PORT, HOST)
#   worker              a worker on AIRE_TASK_QUEUE; run as many as you like
#   setup [tenant]      migrations, the tenant (default "default") with an admin key in
#                       /var/lib/aire/admin.key, the built-in runbooks and detection rules; safe to re-run
#   aire <args…>        the aire CLI, e.g. `aire admin create-key --tenant acme --name am --role ingest`
#   anything else       run as given
set -eu
cd /app
cli() { node dist/src/cli/main.js "$@"; }
case "${1:-api}" in
  api) shift; exec node dist/src/api/main.js "$@" ;;
  # The main heap bounded, as measured in bench/ (docs/performance.md): V8 collects instead of growing.
  worker) shift; exec node --max-old-space-size=256 dist/src/worker/main.js "$@" ;;
  setup)
    tenant="${2:-default}"
    cli admin bootstrap --tenant "$tenant" --key-file /var/lib/aire/admin.key
    cli admin load-runbooks --tenant "$tenant" --dir runbooks
    if [ -d rules ]; then cli admin load-rules --tenant "$tenant" --dir rules; fi
    ;;
  aire) shift; exec node dist/src/cli/main.js "$@" ;;
  *) exec "$@" ;;
esac
