#!/usr/bin/env bash
# Installs (when missing) and starts the real services Rampart's tests talk to,
# all on 127.0.0.1. Prints `export` lines for the test environment, so use:
#   eval "$(scripts/test-services.sh)"
# Idempotent: running it again reuses what is already running.
set -euo pipefail

log() { echo "test-services: $*" >&2; }

need_apt=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need_apt+=(postgresql); fi
if [ "${RAMPART_BROWSER_TESTS:-1}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then need_apt+=(chromium); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]} from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

# PostgreSQL: a throwaway cluster owned by the postgres user (the server
# refuses to run as root), trust auth on loopback only.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGPORT=${RAMPART_TEST_PGPORT:-54329}
PGDATA=${RAMPART_TEST_PGDATA:-/tmp/rampart-test-pg}
if ! id postgres >/dev/null 2>&1; then useradd --system --home /var/lib/postgresql postgres; fi
if ! "$PGBIN/pg_isready" -h 127.0.0.1 -p "$PGPORT" -q; then
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    rm -rf "$PGDATA"; install -d -o postgres -g postgres "$PGDATA"
    su postgres -s /bin/sh -c "$PGBIN/initdb -D $PGDATA -A trust -U postgres --no-sync" >/dev/null
  fi
  su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $PGDATA -l $PGDATA/server.log -w start \
    -o '-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300'" >/dev/null
  log "PostgreSQL started on 127.0.0.1:$PGPORT"
fi
# Each PostgreSQL test makes a database of its own (rampart_store::testkit) and
# leaves it behind; a kept machine would fill its disk over many runs. Drop
# those older than an hour (never one a running suite may still use).
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qAt -F ' ' \
  -c "select oid, datname from pg_database where datname like 'rampart\_test\_%'" 2>/dev/null |
  while read -r oid name; do
    if [ -n "$(find "$PGDATA/base/$oid" -maxdepth 0 -mmin +60 2>/dev/null)" ]; then
      "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qAt -c "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true
    fi
  done
echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PGPORT/postgres"
echo "export RAMPART_REQUIRE_POSTGRES=1"

# --- Mail servers (issue 3): Postfix and Dovecot on 127.0.0.1, see scripts/mail-services.sh.
# RAMPART_MAIL_TESTS=0 skips them (the mail tests then skip too, unless CI is set).
if [ "${RAMPART_MAIL_TESTS:-1}" = 1 ]; then
  bash "$(dirname "$0")/mail-services.sh"
  echo "export RAMPART_REQUIRE_MAIL=1"
fi

# --- moto S3 server (issue 4, `rampart detect s3://…` tests), 127.0.0.1 only.
# Installed from PyPI when missing; RAMPART_S3_TESTS=0 skips it (the S3 tests then
# skip too, unless CI is set).
if [ "${RAMPART_S3_TESTS:-1}" = 1 ]; then
  MOTO_PORT=${RAMPART_TEST_MOTO_PORT:-5055}
  moto_up() { (exec 3<>"/dev/tcp/127.0.0.1/$MOTO_PORT") 2>/dev/null; }
  if ! moto_up; then
    if ! python3 -c 'import moto.server, flask' >/dev/null 2>&1; then
      log "installing moto[server] from PyPI"
      python3 -m pip install --quiet 'moto[server]' >&2 \
        || python3 -m pip install --quiet --break-system-packages 'moto[server]' >&2
    fi
    # Through the module, not the moto_server script: a fresh pip install
    # may not have put the script on PATH yet (pyenv shims). Detached, output
    # to a log: this script's stdout is eval'd by the caller.
    setsid nohup python3 -c 'from moto.server import main; main()' -H 127.0.0.1 -p "$MOTO_PORT" \
      >/tmp/rampart-test-moto.log 2>&1 </dev/null &
    for _ in $(seq 1 100); do moto_up && break; sleep 0.2; done
    moto_up || { log "moto_server did not start, see /tmp/rampart-test-moto.log"; exit 1; }
    log "moto S3 server started on 127.0.0.1:$MOTO_PORT"
  fi
  echo "export RAMPART_TEST_S3_ENDPOINT=http://127.0.0.1:$MOTO_PORT"
fi
