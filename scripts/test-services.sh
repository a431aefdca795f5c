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
echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PGPORT/postgres"
echo "export RAMPART_REQUIRE_POSTGRES=1"
