#!/usr/bin/env bash
# Builds the scanner image from Containerfile with buildah (Debian packages
# only) and smoke-tests it on a directory with a planted key: the scan must
# exit 1 and name the rule. Needs root, debootstrap and buildah (installed
# from apt when missing).
#
#   crates/secrets/tests/container.sh [RAMPART_BINARY]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/rampart-target}/release/rampart}
CTX=${CTX:-/tmp/rampart-image}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p rampart-cli)" >&2; exit 2; }
command -v buildah >/dev/null && command -v debootstrap >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah debootstrap >/dev/null
}
mkdir -p "$CTX"
if [ ! -f "$CTX/rootfs.tar" ]; then
  rm -rf "$CTX/rootfs"
  # The Debian mirror this machine's apt already uses (its sources list).
  MIRROR=${DEBIAN_MIRROR:-$(grep -hoE 'https?://[^ ]+/debian/?([0-9TZ]+)?' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -v security | head -1)}
  [ -n "$MIRROR" ] || { echo "no Debian mirror in /etc/apt/sources.list*; set DEBIAN_MIRROR" >&2; exit 2; }
  debootstrap --variant=minbase --include=git,ca-certificates bookworm "$CTX/rootfs" "$MIRROR" >/dev/null
  rm -rf "$CTX/rootfs/var/cache/apt/archives"/*.deb "$CTX/rootfs/var/lib/apt/lists"/*
  tar -C "$CTX/rootfs" -cf "$CTX/rootfs.tar" .
  rm -rf "$CTX/rootfs"
fi
cp "$BIN" "$CTX/rampart"
cp "$ROOT/Containerfile" "$CTX/Containerfile"
buildah --storage-driver vfs bud --isolation chroot -t rampart:test -f "$CTX/Containerfile" "$CTX" >/dev/null
SCAN=$(mktemp -d)
echo 'AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2' >"$SCAN/deploy.env"
CTR=$(buildah --storage-driver vfs from rampart:test)
set +e
OUT=$(buildah --storage-driver vfs run --isolation chroot -v "$SCAN:/scan" "$CTR" -- rampart secrets scan /scan)
CODE=$?
set -e
buildah --storage-driver vfs rm "$CTR" >/dev/null
rm -rf "$SCAN"
echo "$OUT"
[ "$CODE" -eq 1 ] && grep -q aws-access-key-id <<<"$OUT" && echo "container smoke test: ok"
