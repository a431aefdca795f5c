#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need (PostgreSQL
# and Chromium from Debian packages, Playwright and schemathesis from their
# registries), starts the services on 127.0.0.1, then runs the Rust suites
# against SQLite and PostgreSQL, the scanner's container image, the browser
# tests and the API fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/test-services.sh)"
eval "$(scripts/test-schemas.sh)"

echo "== cargo test (SQLite and PostgreSQL at $TEST_DATABASE_URL)"
cargo test --workspace --locked

if [ "${RAMPART_CONTAINER_TESTS:-1}" = 1 ]; then
  # The scanner image, built with buildah from Debian packages and run on a
  # directory with a planted key (the binary cargo test just built).
  echo "== container image (buildah)"
  crates/secrets/tests/container.sh "${CARGO_TARGET_DIR:-target}/debug/rampart"
fi

if [ "${RAMPART_BROWSER_TESTS:-1}" = 1 ] && [ -x e2e/run.sh ]; then
  echo "== browser tests (headless Chromium)"
  e2e/run.sh
fi

if [ "${RAMPART_API_FUZZ:-1}" = 1 ] && [ -x scripts/api-fuzz.sh ]; then
  echo "== API fuzzing (schemathesis)"
  scripts/api-fuzz.sh
fi
