#!/usr/bin/env bash
# Fetches the official schemas the tests validate output against, from the npm
# registry (they are third-party files, so they are not kept in the repository),
# into a cache. Prints `export` lines:
#   eval "$(scripts/test-schemas.sh)"
# SARIF 2.1.0: OASIS's schema (rtm.5) as Microsoft's @microsoft/jest-sarif ships it.
set -euo pipefail
CACHE=${RAMPART_SCHEMA_CACHE:-$HOME/.cache/rampart-schemas}
SARIF=$CACHE/sarif-2.1.0-rtm.5.json
if [ ! -s "$SARIF" ]; then
  mkdir -p "$CACHE"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null 2>&1) \
    || { echo "test-schemas: npm pack @microsoft/jest-sarif failed (is npm installed?)" >&2; exit 1; }
  tar -xzf "$tmp"/microsoft-jest-sarif-*.tgz -C "$tmp" package/lib/schemas/sarif-2.1.0-rtm.5.json
  mv "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$SARIF"
  rm -rf "$tmp"
  echo "test-schemas: SARIF 2.1.0 schema cached at $SARIF" >&2
fi
echo "export RAMPART_SARIF_SCHEMA=$SARIF"
