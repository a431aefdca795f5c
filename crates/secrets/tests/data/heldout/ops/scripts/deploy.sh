#!/usr/bin/env bash
# Build the storefront image, push it, and roll it out on Heroku.
set -euo pipefail

APP="${APP:-acme-storefront}"
TAG="$(git rev-parse --short HEAD)"
REGISTRY_USER="acmeci"

export HEROKU_API_KEY="HRKU-AA29GhGNLz8PKjCT1kKqsJJATzynEnmrldU_kciIQNLLfSkpP2cGvteT3EQ4"
DOCKERHUB_TOKEN='dckr_pat_p_bGmfQ-FhWV-LDUFih7Fnn7Ik_'

echo "$DOCKERHUB_TOKEN" | docker login -u "$REGISTRY_USER" --password-stdin
docker build -t "acme/storefront:${TAG}" .
docker push "acme/storefront:${TAG}"

# Tell the status page we are deploying.
curl -fsS -X POST https://status.acme.example/api/v1/incidents \
  -H "Authorization: Basic c3RhdHVzYm90OmJ1IVpwbHFYaUVfeippRCs5Xg==" \
  -H 'Content-Type: application/json' \
  -d "{\"name\": \"Deploy ${TAG}\", \"status\": \"investigating\"}"

heroku container:push web --app "$APP"
heroku container:release web --app "$APP"

# The database password is read from the vault, never from here.
DB_PASSWORD="$(vault kv get -field=password secret/storefront/db)"
psql "postgresql://storefront:${DB_PASSWORD}@db.internal/storefront" -c 'select 1'
