#!/bin/sh
# After the Temporal server is up: the namespace AIRE uses and AIRE's custom search attributes
# (src/workflows/search-attributes.ts), the same steps as scripts/temporal-postgres.sh. Safe to re-run.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
attrs="AireTenant AireSeverity AireStatus AireSource AireRunbook AireCommander"
until temporal operator cluster health | grep -q SERVING; do echo "waiting for Temporal at $TEMPORAL_ADDRESS"; sleep 1; done
temporal operator namespace describe --namespace "$ns" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$ns" --retention "${NAMESPACE_RETENTION:-720h}"
missing() {
  list=$(temporal operator search-attribute list --namespace "$ns" 2>/dev/null) || return 1
  out=""
  # One --type per --name: the CLI pairs them up and sends only as many names as types.
  for a in $attrs; do echo "$list" | grep -qw "$a" || out="$out --name $a --type Keyword"; done
  echo "$out"
}
# The namespace reaches the frontend's cache within ~10 s.
until m=$(missing); do sleep 1; done
# On SQL visibility two creates within one cache refresh can lose one: create all missing ones in
# one call, then wait until the list shows them, and only then try again.
for attempt in 1 2 3; do
  m=$(missing || echo "$attrs")
  [ -z "$m" ] && break
  # shellcheck disable=SC2086
  temporal operator search-attribute create --namespace "$ns" $m
  i=0
  while [ $i -lt 30 ]; do m=$(missing || echo x); [ -z "$m" ] && break; sleep 1; i=$((i + 1)); done
done
[ -z "$(missing)" ] || { echo "search attributes could not be registered" >&2; exit 1; }
echo "namespace $ns ready with search attributes $attrs"
