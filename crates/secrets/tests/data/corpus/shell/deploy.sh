#!/usr/bin/env bash
set -euo pipefail
export HEROKU_API_KEY=HRKU-AAd1gYVEXkVCdOmQsreK8r85akcGBt2oKEMpgE16io_cEsL2aTE1xkUicX8f
export NETLIFY_AUTH_TOKEN=nfp_OyxqVbwYewpUQOgXLVWvicwIv0Pl1XRDSEOl
export DEPLOY_ENV=production
docker login -u ci -p "$DOCKER_PASSWORD" registry.acme.io
echo dckr_pat_ri6eLzfzfONY8GeyKTgQIpV3Z4X | docker login -u acmeci --password-stdin
curl -sf https://api.acme.io/health
