#!/usr/bin/env bash
# Runs the end-to-end browser test: headless Chromium (Debian's package) driven
# by playwright-core, against a real `rampart serve` on 127.0.0.1.
#
#   RAMPART_BIN=/path/to/rampart bash e2e/run.sh
#
# Without RAMPART_BIN it uses ${CARGO_TARGET_DIR:-<repo>/target}/debug/rampart,
# building it first if it is missing. No browser is ever downloaded.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$E2E_DIR/.." && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

echo "== npm dependencies"
cd "$E2E_DIR"
if [ -f package-lock.json ]; then
  npm ci --silent --no-audit --no-fund
else
  npm install --silent --no-audit --no-fund
fi

if [ -n "${RAMPART_BIN:-}" ]; then
  BIN="$RAMPART_BIN"
else
  BIN="${CARGO_TARGET_DIR:-$REPO/target}/debug/rampart"
  if [ ! -x "$BIN" ]; then
    echo "== building rampart ($BIN is missing)"
    (cd "$REPO" && cargo build -p rampart-cli)
  fi
fi
if [ ! -x "$BIN" ]; then
  echo "rampart binary not found at $BIN" >&2
  exit 1
fi
export RAMPART_BIN="$BIN"

echo "== e2e: foundation story (rampart: $BIN)"
cd "$REPO"
exec node e2e/foundation.test.mjs
