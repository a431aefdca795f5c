#!/usr/bin/env bash
# Real mail servers for Rampart's mail tests (issue 3), all on 127.0.0.1, installed from Debian
# packages when missing and run as throwaway instances with their config, spool and mailboxes
# under $RAMPART_TEST_MAIL_DIR (default /tmp/rampart-test-mail). Nothing under /etc is changed:
# Postfix runs from its own config directory (`postfix -c`), Dovecot from its own file (`dovecot -c`).
#
#   Postfix 3.7  SMTP        127.0.0.1:2525  no auth, loopback clients only, STARTTLS offered
#                submission  127.0.0.1:2587  STARTTLS required, AUTH PLAIN/LOGIN (Dovecot SASL)
#                SMTPS       127.0.0.1:2465  implicit TLS, AUTH PLAIN/LOGIN
#                accepts mail for rampart.test and researcher.test only (anything else is refused
#                at RCPT, so no test mail can leave the machine) and delivers it by LMTP to Dovecot
#   Dovecot 2.3  LMTP        127.0.0.1:2424
#                IMAP        127.0.0.1:1143  STARTTLS (plaintext login allowed: loopback is trusted)
#                IMAPS       127.0.0.1:1993
#
# Mailboxes: the users in $DIR/dovecot/users (security@rampart.test, triage@rampart.test,
# alice@, bob@, carol@researcher.test), and, through a static fallback, any other local part at
# the two domains, so tests running in parallel can each use their own address and never see each
# other's mail. Every password is "test-password". Maildir: $DIR/maildir/<domain>/<user>.
# TLS: a CA and a server certificate (localhost, 127.0.0.1, mail.rampart.test) made here.
#
# Called by scripts/test-services.sh; prints `export` lines (stdout) and logs on stderr.
# Idempotent: running servers are reused. `scripts/mail-services.sh stop` stops both.
set -euo pipefail

log() { echo "mail-services: $*" >&2; }

DIR=${RAMPART_TEST_MAIL_DIR:-/tmp/rampart-test-mail}
SMTP_PORT=2525
SUBMISSION_PORT=2587
SMTPS_PORT=2465
LMTP_PORT=2424
IMAP_PORT=1143
IMAPS_PORT=1993
PASSWORD=test-password
VMAIL_USER=rampart-vmail

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  for conf in "$DIR"/postfix/etc "$DIR"/postfix-*/etc; do
    if [ -f "$conf/main.cf" ]; then postfix -c "$conf" stop >&2 2>&1 || true; fi
  done
  if [ -f "$DIR/dovecot/dovecot.conf" ]; then doveadm -c "$DIR/dovecot/dovecot.conf" stop >&2 2>&1 || true; fi
  exit 0
fi

need_apt=()
command -v postfix >/dev/null 2>&1 || need_apt+=(postfix)
[ -x /usr/sbin/dovecot ] || need_apt+=(dovecot-imapd)
[ -x /usr/lib/dovecot/lmtp ] || need_apt+=(dovecot-lmtpd)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v gpg >/dev/null 2>&1 || need_apt+=(gnupg)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]} from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  # "No configuration": the package must not set up (or start) a system mail server; the
  # instance below has its own configuration directory.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

if ! id "$VMAIL_USER" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir "$DIR/maildir" --shell /usr/sbin/nologin "$VMAIL_USER"
fi
VUID=$(id -u "$VMAIL_USER")
VGID=$(id -g "$VMAIL_USER")

install -d -m 0755 "$DIR" "$DIR/tls" "$DIR/dovecot" "$DIR/postfix" "$DIR/postfix/etc"
install -d -m 0700 -o "$VMAIL_USER" -g "$VMAIL_USER" "$DIR/maildir"

# --- TLS: a CA (what clients trust: RAMPART_TEST_MAIL_CA) and a server certificate signed by it.
# rustls refuses a self-signed end-entity certificate as its own trust anchor, hence two.
if [ ! -f "$DIR/tls/server.crt" ]; then
  log "making a test CA and server certificate"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Rampart test mail CA" \
    -keyout "$DIR/tls/ca.key" -out "$DIR/tls/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$DIR/tls/server.key" -out "$DIR/tls/server.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,DNS:mail.rampart.test,IP:127.0.0.1" \
    > "$DIR/tls/server.ext"
  openssl x509 -req -in "$DIR/tls/server.csr" -CA "$DIR/tls/ca.crt" -CAkey "$DIR/tls/ca.key" \
    -CAcreateserial -days 3650 -extfile "$DIR/tls/server.ext" -out "$DIR/tls/server.crt" 2>/dev/null
  chmod 0644 "$DIR/tls/server.key"  # read by Postfix's and Dovecot's unprivileged processes
fi

# --- Dovecot -----------------------------------------------------------------------------------
QUEUE="$DIR/postfix/spool"
install -d -m 0755 "$QUEUE"
DOVECOT_CONF="$DIR/dovecot/dovecot.conf"
if ! port_open "$IMAP_PORT" || ! port_open "$LMTP_PORT"; then
  HASH=$(doveadm pw -s SHA512-CRYPT -p "$PASSWORD")
  : > "$DIR/dovecot/users"
  for u in security@rampart.test triage@rampart.test alice@researcher.test bob@researcher.test carol@researcher.test; do
    echo "$u:$HASH:$VUID:$VGID::$DIR/maildir/${u#*@}/${u%@*}::" >> "$DIR/dovecot/users"
  done
  install -d -m 0755 "$DIR/dovecot/run" "$DIR/dovecot/state"
  install -d -m 0750 -o postfix -g postfix "$QUEUE/private" 2>/dev/null || install -d "$QUEUE/private"
  cat > "$DOVECOT_CONF" <<EOF
# Written by scripts/mail-services.sh; a throwaway test instance.
base_dir = $DIR/dovecot/run
state_dir = $DIR/dovecot/state
instance_name = rampart-test
log_path = $DIR/dovecot/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <$DIR/tls/server.crt
ssl_key = <$DIR/tls/server.key
ssl_dh = </usr/share/dovecot/dh.pem
ssl_min_protocol = TLSv1.2
# Loopback connections count as secured, so plaintext LOGIN works without TLS only from
# 127.0.0.1 (Rampart's tls = "none-loopback-only"); anything else needs STARTTLS or IMAPS.
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_uid = $VUID
mail_gid = $VGID
first_valid_uid = $VUID
last_valid_uid = $VUID
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
}
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%u $DIR/dovecot/users
}
# Any other address at the test domains exists too (one per test, so parallel tests never share
# a mailbox); same password.
passdb {
  driver = static
  args = password=$PASSWORD
}
userdb {
  driver = passwd-file
  args = username_format=%u $DIR/dovecot/users
}
userdb {
  driver = static
  args = uid=$VUID gid=$VGID home=$DIR/maildir/%d/%n allow_all_users=yes
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
  unix_listener lmtp {
    mode = 0600
  }
}
service auth {
  # Postfix's submission and SMTPS ports authenticate against Dovecot.
  unix_listener $QUEUE/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
  if [ -f "$DIR/dovecot/run/master.pid" ] && kill -0 "$(cat "$DIR/dovecot/run/master.pid")" 2>/dev/null; then
    doveadm -c "$DOVECOT_CONF" stop >&2 2>&1 || true
    sleep 1
  fi
  dovecot -c "$DOVECOT_CONF"
  for _ in $(seq 50); do port_open "$IMAP_PORT" && port_open "$LMTP_PORT" && break; sleep 0.1; done
  port_open "$IMAP_PORT" || { log "Dovecot did not start; see $DIR/dovecot/dovecot.log"; tail -20 "$DIR/dovecot/dovecot.log" >&2 || true; exit 1; }
  log "Dovecot started: IMAP 127.0.0.1:$IMAP_PORT, IMAPS $IMAPS_PORT, LMTP $LMTP_PORT"
fi

# --- Postfix -----------------------------------------------------------------------------------
# start_postfix BASE SMTP_PORT [SUBMISSION_PORT SMTPS_PORT]: one instance with its config in
# BASE/etc, its queue in BASE/spool and its log in BASE/maillog, delivering to the Dovecot above.
start_postfix() {
  local base=$1 smtp=$2 submission=${3:-} smtps=${4:-}
  local conf="$base/etc" queue="$base/spool"
  install -d -m 0755 "$base" "$conf" "$queue"
  install -d -m 0700 -o postfix -g postfix "$base/data"
  cat > "$conf/main.cf" <<EOF
# Written by scripts/mail-services.sh; a throwaway test instance (postfix -c $conf).
compatibility_level = 3.6
queue_directory = $queue
data_directory = $base/data
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
mail_owner = postfix
setgid_group = postdrop
# No syslog in containers: Postfix's own log daemon writes this file.
maillog_file = $base/maillog
maillog_file_prefixes = $DIR
myhostname = mail.rampart.test
mydomain = rampart.test
myorigin = rampart.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# Only the two test domains are accepted, from anyone (loopback included): nothing relays out.
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
virtual_mailbox_domains = rampart.test researcher.test
virtual_mailbox_maps = regexp:$conf/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
recipient_delimiter = +
smtp_host_lookup = native
lmtp_host_lookup = native
disable_dns_lookups = yes
smtpd_peername_lookup = no
# Rampart's own limit (25 MiB by default) is what tests exercise, not Postfix's.
message_size_limit = 52428800
mailbox_size_limit = 0
smtpd_banner = \$myhostname ESMTP Rampart test Postfix
smtpd_tls_cert_file = $DIR/tls/server.crt
smtpd_tls_key_file = $DIR/tls/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtp_tls_security_level = none
smtpd_sasl_type = dovecot
smtpd_sasl_path = $QUEUE/private/auth
smtpd_sasl_auth_enable = no
biff = no
# Retry deferred mail quickly (an LMTP hiccup in a test must not wait an hour).
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 30s
EOF
  printf '%s\n' '/^[^@]+@(rampart|researcher)\.test$/ OK' > "$conf/vmailbox"
  # Debian's master.cf without chroot (a chroot would need copies of /etc files), with the test
  # ports instead of port 25.
  {
    echo "127.0.0.1:$smtp inet n - n - - smtpd"
    if [ -n "$submission" ]; then
      echo "127.0.0.1:$submission inet n - n - - smtpd"
      echo "  -o syslog_name=postfix/submission"
      echo "  -o smtpd_tls_security_level=encrypt"
      echo "  -o smtpd_sasl_auth_enable=yes"
      echo "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
      echo "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
    fi
    if [ -n "$smtps" ]; then
      echo "127.0.0.1:$smtps inet n - n - - smtpd"
      echo "  -o syslog_name=postfix/smtps"
      echo "  -o smtpd_tls_wrappermode=yes"
      echo "  -o smtpd_sasl_auth_enable=yes"
      echo "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
      echo "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
    fi
    cat <<EOF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  } > "$conf/master.cf"
  postfix -c "$conf" check >&2 2>&1 || true
  if postfix -c "$conf" status >/dev/null 2>&1; then postfix -c "$conf" stop >&2 2>&1 || true; sleep 1; fi
  postfix -c "$conf" start >&2 2>&1
  for _ in $(seq 50); do port_open "$smtp" && break; sleep 0.1; done
  port_open "$smtp" || { log "Postfix did not start; see $base/maillog"; tail -20 "$base/maillog" >&2 || true; return 1; }
}

if [ "${1:-}" = extra-smtp ]; then
  # scripts/mail-services.sh extra-smtp NAME PORT: one more Postfix instance (SMTP on PORT only,
  # delivering to the same Dovecot) for a test that stops and starts its SMTP server without
  # disturbing the tests sharing the main instance: `postfix -c DIR stop` / `start`, DIR being
  # what this prints.
  name=${2:?extra-smtp NAME PORT}; port=${3:?extra-smtp NAME PORT}
  case $name in *[!a-zA-Z0-9_-]*) log "NAME: letters, digits, - and _ only"; exit 2 ;; esac
  if ! port_open "$port"; then start_postfix "$DIR/postfix-$name" "$port" >&2; fi
  echo "$DIR/postfix-$name/etc"
  exit 0
fi

PFCONF="$DIR/postfix/etc"
if ! port_open "$SMTP_PORT"; then
  start_postfix "$DIR/postfix" "$SMTP_PORT" "$SUBMISSION_PORT" "$SMTPS_PORT"
  log "Postfix started: SMTP 127.0.0.1:$SMTP_PORT, submission $SUBMISSION_PORT, SMTPS $SMTPS_PORT"
fi

echo "export RAMPART_TEST_SMTP_HOST=127.0.0.1"
echo "export RAMPART_TEST_SMTP_PORT=$SMTP_PORT"
echo "export RAMPART_TEST_SMTP_SUBMISSION_PORT=$SUBMISSION_PORT"
echo "export RAMPART_TEST_SMTPS_PORT=$SMTPS_PORT"
echo "export RAMPART_TEST_IMAP_HOST=127.0.0.1"
echo "export RAMPART_TEST_IMAP_PORT=$IMAP_PORT"
echo "export RAMPART_TEST_IMAPS_PORT=$IMAPS_PORT"
echo "export RAMPART_TEST_MAIL_PASSWORD=$PASSWORD"
echo "export RAMPART_TEST_MAIL_CA=$DIR/tls/ca.crt"
echo "export RAMPART_TEST_MAILDIR_ROOT=$DIR/maildir"
echo "export RAMPART_TEST_POSTFIX_CONFIG=$PFCONF"
