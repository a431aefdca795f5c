#!/usr/bin/env bash
# Property-based fuzzing of the JSON API with schemathesis, driven by the
# OpenAPI document the server itself publishes at /api/v1/openapi.json.
#
# What it does, all on 127.0.0.1 and in a throwaway data directory:
#   1. installs schemathesis 4.x from PyPI if it is missing (or too old);
#   2. finds the rampart binary ($RAMPART_BIN, else $CARGO_TARGET_DIR/debug,
#      building it with cargo only when it is not there);
#   3. creates a service token (scope all), an engineer account and a token
#      acting as that engineer;
#   4. starts `rampart serve` on a free port, waits for /healthz, and seeds a
#      few findings (some assigned to the engineer) so that the {id}
#      operations reach real rows instead of 404s;
#   5. runs schemathesis with the service token (main run), then a short run
#      with the engineer's token (role-restricted view of the same API);
#   6. exits non-zero on any failed check, and otherwise ends with the line
#      `schemathesis: N passed, 0 failed` (N = operations x runs).
#
# Checks: everything schemathesis has (`--checks all`) except those listed in
# RAMPART_FUZZ_EXCLUDE_CHECKS, which by default names the two that fail on
# known, documented gaps (see the comment at DEFAULT_EXCLUDE below).
# not_a_server_error can never be excluded.
#
# Authenticated requests are not rate-limited by the server; the anonymous
# ones that schemathesis sends on purpose (missing_required_header,
# ignored_auth) are few, but would get 429 past 300 a minute per address,
# which is the documented behaviour and not a failure.
#
# Knobs (environment):
#   RAMPART_BIN                      binary to test
#   RAMPART_FUZZ_MAX_TIME            seconds for the main run (default 90)
#   RAMPART_FUZZ_ENGINEER_MAX_TIME   seconds for the engineer run (default 25; 0 skips it)
#   RAMPART_FUZZ_MAX_EXAMPLES        examples per operation and round (default 50)
#   RAMPART_FUZZ_SEED                schemathesis seed (default 1; `random` for a new one each run)
#   RAMPART_FUZZ_WORKERS             concurrent schemathesis workers (default 2)
#   RAMPART_FUZZ_EXCLUDE_CHECKS      comma-separated checks to skip ("" runs them all)
#   RAMPART_FUZZ_DATABASE_URL        fuzz against this (empty, throwaway) database
#                                    instead of SQLite in the temp directory
#   RAMPART_FUZZ_KEEP=1              keep the temp directory (logs, JUnit reports)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "api-fuzz: $*" >&2; }

MAIN_TIME=${RAMPART_FUZZ_MAX_TIME:-90}
ENG_TIME=${RAMPART_FUZZ_ENGINEER_MAX_TIME:-25}
MAX_EXAMPLES=${RAMPART_FUZZ_MAX_EXAMPLES:-50}
SEED=${RAMPART_FUZZ_SEED:-1}
# One worker: CPython 3.11's ast module is not thread-safe ("AST constructor
# recursion depth mismatch"), and hypothesis parses sources to describe values.
WORKERS=${RAMPART_FUZZ_WORKERS:-1}
# Every check runs by default. (The first runs found: POSTs without a token
# answered 403 from the CSRF layer instead of 401; NUL characters in text gave
# 500 on PostgreSQL; the document did not state the limits the server
# enforces. All fixed; keep the gate at full strength.)
DEFAULT_EXCLUDE=
EXCLUDE=${RAMPART_FUZZ_EXCLUDE_CHECKS-$DEFAULT_EXCLUDE}
case ",$EXCLUDE," in
  *,not_a_server_error,* | *,all,*)
    log "not_a_server_error must stay enabled; fix RAMPART_FUZZ_EXCLUDE_CHECKS"
    exit 2
    ;;
esac

# --- 1. schemathesis ---------------------------------------------------------
st_ok() {
  python3 - <<'EOF' 2>/dev/null
import sys
import schemathesis
v = tuple(int(p) for p in schemathesis.__version__.split(".")[:2])
# 4.32 is the oldest release this script was written against (dictionaries
# and body-path parameter bindings in the config file).
sys.exit(0 if (4, 32) <= v < (5, 0) else 1)
EOF
}
if ! st_ok; then
  log "installing schemathesis 4.x from PyPI"
  export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
  python3 -m pip install --quiet 'schemathesis>=4.32,<5' ||
    python3 -m pip install --quiet --break-system-packages 'schemathesis>=4.32,<5'
  st_ok || { log "schemathesis 4.x is still not importable"; exit 1; }
fi
st() { python3 -m schemathesis.cli "$@"; }

# --- 2. the binary -----------------------------------------------------------
BIN=${RAMPART_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/rampart}
if [ ! -x "$BIN" ]; then
  if [ -n "${RAMPART_BIN:-}" ]; then
    log "RAMPART_BIN=$RAMPART_BIN is not an executable"
    exit 1
  fi
  log "building $BIN"
  (cd "$ROOT" && cargo build -p rampart-cli)
fi

# --- 3. data directory, accounts and tokens ----------------------------------
# Settings from the caller's environment must not point the server elsewhere.
unset RAMPART_DATABASE_URL RAMPART_DATA_DIR RAMPART_CONFIG
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rampart-fuzz.XXXXXX")
DATA="$WORK/data"
mkdir -p "$DATA"
DB_ARGS=(--data-dir "$DATA")
if [ -n "${RAMPART_FUZZ_DATABASE_URL:-}" ]; then
  DB_ARGS+=(--database-url "$RAMPART_FUZZ_DATABASE_URL")
fi

SERVER_PID=
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ]; then
    for f in cli.log serve.log; do
      if [ -s "$WORK/$f" ]; then
        log "last lines of $f:"
        tail -n 30 "$WORK/$f" >&2 || true
      fi
    done
  fi
  if [ "${RAMPART_FUZZ_KEEP:-0}" = 1 ]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TOKEN=$("$BIN" token create "${DB_ARGS[@]}" --name fuzz --scope all 2>"$WORK/cli.log")
ENG_ID=$("$BIN" admin create-user "${DB_ARGS[@]}" --email eng@example.com --role engineer \
  --format json 2>>"$WORK/cli.log" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
ENG_TOKEN=$("$BIN" token create "${DB_ARGS[@]}" --name eng --scope all \
  --user eng@example.com 2>>"$WORK/cli.log")
case "$TOKEN$ENG_TOKEN" in
  *[[:space:]]* | "") log "token create printed something other than a token"; exit 1 ;;
esac

# --- 4. the server -----------------------------------------------------------
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$BIN" serve "${DB_ARGS[@]}" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!

healthy() {
  python3 - "$BASE/healthz" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}
for _ in $(seq 1 60); do
  if healthy; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "rampart serve exited before it was ready"
    exit 1
  fi
  sleep 0.5
done
healthy || { log "$BASE/healthz did not answer 200 within 30 s"; exit 1; }
log "rampart serve is up on $BASE (data in $DATA)"

# Seed findings, assign a few to the engineer, and write the schemathesis
# configuration: dictionaries steer part of the generated values to ids that
# exist and to values the server accepts, so the fuzzer gets past 404 and
# validation into the code behind them; the rest stays fully random.
python3 - "$BASE" "$TOKEN" "$ENG_ID" "$WORK/schemathesis.toml" <<'EOF'
import json, sys, urllib.request

base, token, eng_id, config_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def call(path, body):
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)

severities = ["critical", "high", "medium", "low", "info"]
findings = [
    {
        "source": ["manual", "sarif", "secrets", "detection"][i % 4],
        "title": f"Seeded finding {i}",
        "severity": severities[i % 5],
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "cwe": 79 + i,
        "asset": f"repo-{i % 4}",
        "location": f"src/file{i}.rs:{i + 1}",
        "rule_id": f"RULE-{i}",
        "description": "Seeded by scripts/api-fuzz.sh",
    }
    for i in range(20)
]
ids = call("/api/v1/findings", {"findings": findings})["ids"]
assert len(ids) == 20, ids
for fid in ids[:6]:
    call(f"/api/v1/findings/{fid}/assignee", {"assignee_id": eng_id})

def toml_list(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"

dictionaries = {
    "finding-ids": ids,
    "user-ids": [eng_id],
    "sources": ["manual", "sarif", "secrets", "fuzz-1", "a_b"],
    "severities": severities,
    "statuses": ["open", "triaged", "in_progress", "resolved", "verified",
                 "risk_accepted", "false_positive", "duplicate"],
    "sorts": ["last_seen", "severity", "first_seen", "occurrences"],
    "assignees": ["me", "none", str(eng_id)],
    "pages": [1, 2, 3],
    "per-pages": [1, 5, 50, 500],
    "cvss": ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
             "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"],
    "cwes": [1, 79, 89, 100000],
    "fingerprints": ["fp-1", "fp-2", "sha256:abc123"],
    # Text that has tripped databases before: NUL, LIKE wildcards, quotes,
    # backslashes, non-ASCII.
    "tricky-text": ["a\u0000b", "%", "_", "100%_done", "O'Brien", "back\\slash", "\u00e9t\u00e9 \u2603"],
}
bindings = {
    "path.id": ("finding-ids", 0.5),
    "body.assignee_id": ("user-ids", 0.5),
    "query.source": ("sources", 0.5),
    "query.severity": ("severities", 0.5),
    "query.status": ("statuses", 0.5),
    "query.sort": ("sorts", 0.5),
    "query.assignee": ("assignees", 0.5),
    "query.page": ("pages", 0.5),
    "query.per_page": ("per-pages", 0.5),
    "query.q": ("tricky-text", 0.3),
    "query.asset": ("tricky-text", 0.3),
    "body.findings[*].source": ("sources", 0.7),
    "body.findings[*].title": ("tricky-text", 0.3),
    "body.findings[*].asset": ("tricky-text", 0.3),
    "body.findings[*].cvss_vector": ("cvss", 0.7),
    "body.findings[*].cwe": ("cwes", 0.7),
    "body.findings[*].fingerprint": ("fingerprints", 0.7),
}
lines = []
for name, values in dictionaries.items():
    lines += [f"[dictionaries.{name}]", f"values = {toml_list(values)}", ""]
lines.append("[parameters]")
for key, (name, p) in bindings.items():
    lines.append(f'{json.dumps(key)} = {{ dictionary = "{name}", probability = {p} }}')
with open(config_path, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"api-fuzz: seeded {len(ids)} findings ({ids[0]}..{ids[-1]}), {min(6, len(ids))} assigned to user {eng_id}",
      file=sys.stderr)
EOF

# --- 5. schemathesis ---------------------------------------------------------
# Run from the temp directory so nothing (reports, caches) lands in the repo.
cd "$WORK"
run_fuzz() { # NAME TOKEN MAX_TIME
  local name=$1 token=$2 max_time=$3
  local args=(
    --config-file "$WORK/schemathesis.toml" --no-color
    run "$BASE/api/v1/openapi.json"
    --url "$BASE"
    --header "Authorization: Bearer $token"
    --checks all
    --max-examples "$MAX_EXAMPLES"
    --max-time "$max_time"
    --workers "$WORKERS"
    --request-timeout 10
    --generation-database none
    --report junit --report-junit-path "$WORK/junit-$name.xml"
  )
  if [ -n "$EXCLUDE" ]; then args+=(--exclude-checks "$EXCLUDE"); fi
  if [ "$SEED" != random ]; then args+=(--seed "$SEED"); fi
  echo "== schemathesis ($name token, up to ${max_time}s; excluded checks: ${EXCLUDE:-none})"
  local rc=0
  st "${args[@]}" || rc=$?
  echo "$rc" >"$WORK/rc-$name"
}

run_fuzz service "$TOKEN" "$MAIN_TIME"
runs=(service)
if [ "$ENG_TIME" != 0 ]; then
  run_fuzz engineer "$ENG_TOKEN" "$ENG_TIME"
  runs+=(engineer)
fi

# --- 6. verdict --------------------------------------------------------------
server_problems=0
if ! kill -0 "$SERVER_PID" 2>/dev/null || ! healthy; then
  log "the server is no longer healthy after fuzzing"
  server_problems=1
fi
if grep -q 'panicked at' "$WORK/serve.log"; then
  log "the server log records a panic:"
  grep -m 5 -A 2 'panicked at' "$WORK/serve.log" >&2 || true
  server_problems=1
fi

python3 - "$WORK" "$server_problems" "${runs[@]}" <<'EOF'
import os, sys
import xml.etree.ElementTree as ET

work, server_problems, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
passed = failed = 0
for run in runs:
    rc = int(open(os.path.join(work, f"rc-{run}")).read().strip())
    path = os.path.join(work, f"junit-{run}.xml")
    run_passed = run_failed = 0
    bad = []
    if os.path.exists(path):
        for case in ET.parse(path).getroot().iter("testcase"):
            name = case.get("name", "?")
            if case.find("failure") is not None or case.find("error") is not None:
                run_failed += 1
                bad.append(name)
            elif case.find("skipped") is not None:
                continue
            elif name != "Stateful tests":  # count operations, not the stateful suite
                run_passed += 1
    if rc != 0 and run_failed == 0:
        run_failed = 1  # schemathesis failed without a per-operation verdict
        bad.append(f"schemathesis exited with {rc}")
    print(f"api-fuzz: {run} run: {run_passed} operations passed"
          + (f"; failed: {', '.join(bad)}" if bad else ""))
    passed += run_passed
    failed += run_failed
failed += server_problems
print(f"schemathesis: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
