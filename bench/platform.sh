#!/usr/bin/env bash
# Platform benchmark (issue 2): seeds 100,000 findings, then measures on SQLite
# and on PostgreSQL:
#   - SARIF ingestion of a 10,000-result log (target: under 2 s)
#   - the filtered findings list (HTML and API) and a finding's detail page under
#     concurrent load from wrk (target: p99 under 50 ms)
#   - status changes under load (target: p99 under 20 ms)
# Usage: bench/platform.sh [sqlite|postgres|both]   (default both)
# Needs: a release build (built if missing), wrk (installed from Debian if
# missing), PostgreSQL for the postgres run (scripts/test-services.sh starts one).
set -euo pipefail
cd "$(dirname "$0")/.."
which_db=${1:-both}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=${RAMPART_BIN:-$TARGET_DIR/release/rampart}
DURATION=${BENCH_DURATION:-15s}
CONNECTIONS=${BENCH_CONNECTIONS:-8}

[ -x "$BIN" ] || cargo build --release --bin rampart
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
sev = ["critical", "high", "medium", "low", "info"]
src = ["secrets", "detection", "audit", "inspector", "sarif"]
# 10 batches of 10,000 findings = the 100,000 already in the database.
for b in range(10):
    items = []
    for i in range(10_000):
        n = b * 10_000 + i
        items.append({"source": src[n % 5], "title": f"Seeded finding {n} in component {n % 97}",
                      "severity": sev[n % 5], "asset": f"asset-{n % 50}", "location": f"src/file{n}.rs:{n % 400}",
                      "rule_id": f"RULE-{n % 300}", "description": "Seeded for the benchmark. " * 4})
    with open(os.path.join(work, f"seed{b}.json"), "w") as f:
        json.dump({"findings": items}, f)
# A 10,000-result SARIF log, as a CI scanner would send.
results = [{"ruleId": f"R{i % 120}", "level": ["error", "warning", "note"][i % 3],
            "message": {"text": f"Issue number {i}: tainted data reaches a sink."},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": f"app/module{i % 700}/file{i}.py"},
                                                "region": {"startLine": 1 + i % 900}}}],
            "partialFingerprints": {"primaryLocationLineHash": f"{i:016x}:1"}} for i in range(10_000)]
rules = [{"id": f"R{r}", "shortDescription": {"text": f"Rule {r}: injection"},
          "properties": {"tags": ["security", f"external/cwe/cwe-{79 + r % 10}"], "security-severity": str(2 + r % 8)}}
         for r in range(120)]
with open(os.path.join(work, "ci.sarif"), "w") as f:
    json.dump({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "bench-scanner", "rules": rules}}, "results": results}]}, f)
PY

cat > "$work/detail.lua" <<'LUA'
-- A random finding's detail page each request.
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/findings/" .. math.random(1, 100000))
end
LUA
cat > "$work/status.lua" <<'LUA'
-- A status change on a random finding each request.
math.randomseed(os.time() + 1)
local statuses = {"triaged", "in_progress", "open", "resolved"}
request = function()
  local body = '{"status":"' .. statuses[math.random(1, #statuses)] .. '"}'
  -- wrk.format replaces wrk.headers when given a table: copy them in, so the
  -- Authorization header from -H is sent too.
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/findings/" .. math.random(1, 100000) .. "/status", headers, body)
end
LUA

p99() { awk '/^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; printf "%.1f", v}'; }
# A run with errors measures the error path, not the feature: fail loudly.
check_ok() {
  if grep -q 'Non-2xx' <<<"$2"; then
    echo "error: non-2xx responses in the $1 run:" >&2
    grep -E 'Non-2xx|requests in' <<<"$2" >&2
    exit 1
  fi
}
rps() { awk '/^Requests\/sec/ {printf "%.0f", $2}'; }

run_one() {
  local label=$1; shift
  local data="$work/data-$label"
  rm -rf "$data"; mkdir -p "$data"
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local base="http://127.0.0.1:$port"
  local token; token=$("$BIN" token create --name bench --scope all --data-dir "$data" "$@")
  "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$data" "$@" >"$work/serve-$label.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  local auth="Authorization: Bearer $token"

  local t0; t0=$(date +%s.%N)
  for b in $(seq 0 9); do
    curl -sf -H "$auth" -H 'content-type: application/json' --data-binary "@$work/seed$b.json" "$base/api/v1/findings" >/dev/null
  done
  local seed_s; seed_s=$(python3 -c "import time; print(f'{time.time()-$t0:.1f}')")

  local sarif_new sarif_again
  sarif_new=$(curl -sf -o /dev/null -w '%{time_total}' -H "$auth" -H 'content-type: application/json' --data-binary "@$work/ci.sarif" "$base/api/v1/findings/sarif?asset=bench-repo")
  sarif_again=$(curl -sf -o /dev/null -w '%{time_total}' -H "$auth" -H 'content-type: application/json' --data-binary "@$work/ci.sarif" "$base/api/v1/findings/sarif?asset=bench-repo")

  # Let the statistics refresh that follows a large import finish first, so
  # the load runs measure serving, not the import's aftermath.
  sleep 5
  local out
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$auth" "$base/findings?severity=high&status=open&source=detection&page=3")
  check_ok "list page" "$out"
  local list_html_p99; list_html_p99=$(p99 <<<"$out"); local list_html_rps; list_html_rps=$(rps <<<"$out")
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$auth" "$base/api/v1/findings?severity=critical&asset=asset-10&per_page=50")
  check_ok "list API" "$out"
  local list_api_p99; list_api_p99=$(p99 <<<"$out"); local list_api_rps; list_api_rps=$(rps <<<"$out")
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$auth" -s "$work/detail.lua" "$base")
  check_ok "detail" "$out"
  local detail_p99; detail_p99=$(p99 <<<"$out"); local detail_rps; detail_rps=$(rps <<<"$out")
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$auth" -s "$work/status.lua" "$base")
  check_ok "status change" "$out"
  local status_p99; status_p99=$(p99 <<<"$out"); local status_rps; status_rps=$(rps <<<"$out")

  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  printf '| %-8s | %6ss | %6.2fs | %6.2fs | %6s ms (%s/s) | %6s ms (%s/s) | %6s ms (%s/s) | %6s ms (%s/s) |\n' \
    "$label" "$seed_s" "$sarif_new" "$sarif_again" "$list_html_p99" "$list_html_rps" "$list_api_p99" "$list_api_rps" \
    "$detail_p99" "$detail_rps" "$status_p99" "$status_rps"
}

echo "100,000 findings seeded; wrk -t1 -c$CONNECTIONS -d$DURATION per row; $(nproc) cores"
echo
echo '| database | seed 100k | SARIF 10k new | SARIF 10k again | list page p99 | list API p99 | detail p99 | status change p99 |'
echo '|---|---|---|---|---|---|---|---|'
if [ "$which_db" = sqlite ] || [ "$which_db" = both ]; then run_one sqlite; fi
if [ "$which_db" = postgres ] || [ "$which_db" = both ]; then
  eval "$(RAMPART_BROWSER_TESTS=0 scripts/test-services.sh)"
  db="rampart_bench_$$"
  psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $db" >/dev/null
  run_one postgres --database-url "${TEST_DATABASE_URL%/*}/$db"
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE $db" >/dev/null || true
fi
echo
echo "targets: SARIF 10k < 2 s; list and detail p99 < 50 ms; status change p99 < 20 ms"
