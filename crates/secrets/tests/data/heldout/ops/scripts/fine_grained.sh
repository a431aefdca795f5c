#!/usr/bin/env bash
# Mirror release notes with a fine-grained PAT scoped to acme/storefront (contents: read).
set -euo pipefail
GH_TOKEN=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 gh release view --repo acme/storefront --json body -q .body > NOTES.md
HF_HUB_TOKEN=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 huggingface-cli upload acme/storefront-notes NOTES.md
echo "uploaded $(sha256sum NOTES.md | cut -c1-64)"
