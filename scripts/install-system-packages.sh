#!/usr/bin/env bash
# Debian packages the test suite uses: Chromium (the approval console's browser test and the
# Prometheus graph screenshot), Prometheus Alertmanager (the real Alertmanager end-to-end test) and
# Prometheus with promtool (test/integration/prometheus.test.ts runs its own server on a free port
# and a temporary TSDB; where systemd runs, the package also starts its service on :9090, which the
# tests do not use). Installed only when missing, with one `apt-get update` for all of them.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
{ [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; } || missing+=(prometheus)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "[aire] installing Debian packages: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
