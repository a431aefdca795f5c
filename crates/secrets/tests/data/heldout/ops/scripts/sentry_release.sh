#!/usr/bin/env bash
set -euo pipefail
export SENTRY_AUTH_TOKEN=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
export SENTRY_ORG=acme-corp
VERSION=$(git rev-parse HEAD)
sentry-cli releases new "$VERSION"
sentry-cli releases set-commits "$VERSION" --auto
sentry-cli releases finalize "$VERSION"
