#!/bin/sh
PGPASSWORD='vlFSF*7ZHr!61' pg_dump -h db.internal shop > shop.sql
aws s3 cp shop.sql s3://acme-backups/$(date +%F).sql
