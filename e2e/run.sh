#!/usr/bin/env bash
# Runs the end-to-end browser tests: headless Chromium (Debian's package)
# driven by playwright-core, against a real `rampart serve` on 127.0.0.1.
# Each story is e2e/<name>.test.mjs with its own server; all run even when
# one fails, and the exit code is non-zero if any failed.
#
#   RAMPART_BIN=/path/to/rampart bash e2e/run.sh              # every story
#   bash e2e/run.sh programme                                 # only some
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

cd "$REPO"
if [ "$#" -eq 0 ]; then
  set -- foundation programme
fi
failed=()
for story in "$@"; do
  if [ ! -f "e2e/$story.test.mjs" ]; then
    echo "no such story: e2e/$story.test.mjs" >&2
    exit 2
  fi
  echo "== e2e: $story story (rampart: $BIN)"
  node "e2e/$story.test.mjs" || failed+=("$story")
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "== e2e: failed: ${failed[*]}" >&2
  exit 1
fi
echo "== e2e: all passed: $*"
