#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need (PostgreSQL
# and Chromium from Debian packages, Playwright and schemathesis from their
# registries), starts the services on 127.0.0.1, then runs the Rust suites
# against SQLite and PostgreSQL, the browser tests and the API fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/test-services.sh)"

echo "== cargo test (SQLite and PostgreSQL at $TEST_DATABASE_URL)"
cargo test --workspace --locked

if [ "${RAMPART_BROWSER_TESTS:-1}" = 1 ] && [ -x e2e/run.sh ]; then
  echo "== browser tests (headless Chromium)"
  e2e/run.sh
fi

if [ "${RAMPART_API_FUZZ:-1}" = 1 ] && [ -x scripts/api-fuzz.sh ]; then
  echo "== API fuzzing (schemathesis)"
  scripts/api-fuzz.sh
fi
