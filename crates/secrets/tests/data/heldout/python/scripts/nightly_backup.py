#!/usr/bin/env python3
"""Dump the reporting database and push it to the backup bucket."""
import datetime
import subprocess

import boto3
import psycopg2

BUCKET = "acme-db-backups"
conn = psycopg2.connect(
    host="reporting-db.internal",
    dbname="reporting",
    user="backup_ro",
    password="Falcon77%Harbor!546",
)

session = boto3.session.Session(
    aws_access_key_id="AKIATQQ6PY7GHPD5LQVP",
    aws_secret_access_key="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",
    region_name="us-east-1",
)


def main():
    stamp = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%S")
    out = f"/var/backups/reporting-{stamp}.sql.gz"
    subprocess.run(f"pg_dump -h reporting-db.internal -U backup_ro reporting | gzip > {out}", shell=True, check=True)
    session.client("s3").upload_file(out, BUCKET, f"reporting/{stamp}.sql.gz")
    with conn.cursor() as cur:
        cur.execute("INSERT INTO backup_log (taken_at, object) VALUES (now(), %s)", (out,))
    conn.commit()


if __name__ == "__main__":
    main()
