#!/bin/sh
# Local development bootstrap. Every value here is a placeholder or a local-only default.
set -e

: "${POSTGRES_PASSWORD:=postgres}"
export DATABASE_URL="postgres://postgres:${POSTGRES_PASSWORD}@localhost:5432/acme_dev"
export REDIS_URL="redis://localhost:6379/0"
export STRIPE_SECRET_KEY="sk_test_your_key_here"
export OPENAI_API_KEY="${OPENAI_API_KEY:-<your-openai-key>}"
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
export JWT_SECRET=changeme

docker compose up -d db redis
until pg_isready -h localhost -p 5432 -U postgres; do sleep 1; done
psql "$DATABASE_URL" -f db/schema.sql
echo "commit $(git rev-parse HEAD) ready"
