#!/usr/bin/env bash
# Detection throughput: `rampart detect` (release) over >= 1 GB of generated,
# gzipped CloudTrail with every built-in rule and every SigmaHQ CloudTrail
# rule loaded, side by side with the parse-only floor (flate2 + serde_json
# into a typed struct with borrowed fields, nothing else) and two peers running
# the same SigmaHQ rules over the same files: rsigma-eval 0.23 (bench/rsigma-peer,
# a standalone cargo project) and pySigma's DuckDB backend run by DuckDB
# (bench/detect_duckdb.py); on one core and on two, in one run. Also the parse
# ceiling (bench/parse-ceiling: libdeflate + sonic-rs, the fastest parse-only
# pipeline found), which bounds what any JSON-reading engine can reach. Prints events/s,
# MB/s, CPU seconds, peak memory, the load average, each tool's Sigma match
# count and the ratios.
#
# usage: bench/detect.sh [--gb X]   (data in $BENCH_DIR, default ~/.cache/rampart-detect-bench;
#                                    --gb X: only the first files, about X GB of JSON)
# needs: target/release/rampart (cargo build --release -p rampart-cli), python3, pip, GNU time,
#        taskset, bc; the peers are built/installed on first use (ensure_peers)
set -euo pipefail
GB=
while [ $# -gt 0 ]; do
    case $1 in
        --gb) GB=${2:?--gb needs a size in GB, e.g. --gb 0.25}; shift 2 ;;
        *) echo "usage: $0 [--gb X]" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH_DIR=${BENCH_DIR:-$HOME/.cache/rampart-detect-bench}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
RAMPART=${RAMPART:-$TARGET/release/rampart}
SIGMA=$ROOT/../shared/corpora/sigma-aws/rules
DATA=$BENCH_DIR/data
# The rsigma peer builds into its own target directory so it never holds the
# workspace's build lock.
RSIGMA_TARGET=${RSIGMA_TARGET:-$HOME/.cache/rampart-rsigma-target}
RSIGMA=$RSIGMA_TARGET/release/rsigma-peer
CEILING_TARGET=${CEILING_TARGET:-$HOME/.cache/rampart-ceiling-target}
CEILING=$CEILING_TARGET/release/parse-ceiling
DUCK_RULES=$BENCH_DIR/duckdb-rules.json
OUT=$BENCH_DIR/out
mkdir -p "$OUT"

if [ ! -d "$DATA" ]; then
    mkdir -p "$BENCH_DIR"
    python3 bench/detect_gen.py "$DATA" --gb 1.05 > "$BENCH_DIR/gen.json"
fi

ensure_peers() {
    if [ ! -x "$RSIGMA" ]; then
        echo "building the rsigma-eval peer (bench/rsigma-peer, pinned by its Cargo.lock)" >&2
        (cd bench/rsigma-peer && CARGO_TARGET_DIR=$RSIGMA_TARGET cargo build --release --locked -q)
    fi
    if [ ! -x "$CEILING" ]; then
        echo "building the parse ceiling (bench/parse-ceiling, pinned by its Cargo.lock)" >&2
        (cd bench/parse-ceiling && CARGO_TARGET_DIR=$CEILING_TARGET cargo build --release --locked -q)
    fi
    python3 -c "import sigma, sigma_backend_duckdb, duckdb" 2>/dev/null ||
        pip install --quiet pysigma pysigma-backend-duckdb duckdb
    # Conversion is not timed: it is the rule-compile step, done once per rule set.
    python3 bench/detect_duckdb.py convert "$SIGMA" "$DUCK_RULES" 2> "$OUT/duckdb-convert.err" > "$OUT/duckdb-convert.json"
    echo "peers: rsigma-eval $(grep -A1 '^name = "rsigma-eval"' bench/rsigma-peer/Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p')," \
        "pySigma $(pip show pysigma 2>/dev/null | sed -n 's/^Version: //p')" \
        "+ pysigma-backend-duckdb $(pip show pysigma-backend-duckdb 2>/dev/null | sed -n 's/^Version: //p')," \
        "DuckDB $(python3 -c 'import duckdb; print(duckdb.__version__)')"
}
ensure_peers

if [ -n "$GB" ]; then
    # A subset: the first files in path order (hard links, same tree), enough for
    # about GB gigabytes of JSON. Events and bytes are counted afresh.
    FULL=$DATA
    DATA=$BENCH_DIR/subset-$GB
    if [ ! -d "$DATA" ]; then
        total=$(find "$FULL" -type f | wc -l)
        want=$(python3 -c "import json,math,sys; g=json.load(open(sys.argv[1])); print(min(int(sys.argv[3]), max(1, math.ceil(float(sys.argv[2]) * 1e9 / (g['json_bytes'] / g['files'])))))" \
            "$BENCH_DIR/gen.json" "$GB" "$total")
        mkdir -p "$DATA.tmp"
        (cd "$FULL" && find . -type f | sort | head -n "$want" | xargs -d "\n" cp -l --parents -t "$DATA.tmp")
        python3 -c "
import gzip, json, pathlib, sys
ev = by = 0
for p in pathlib.Path(sys.argv[1]).rglob('*'):
    if p.is_file():
        raw = gzip.decompress(p.read_bytes()); by += len(raw); ev += len(json.loads(raw)['Records'])
print(json.dumps({'files': sum(1 for p in pathlib.Path(sys.argv[1]).rglob('*') if p.is_file()), 'events': ev, 'json_bytes': by}))
" "$DATA.tmp" > "$DATA.tmp.json"
        mv "$DATA.tmp.json" "$DATA.json"
        mv "$DATA.tmp" "$DATA"
    fi
    GEN=$DATA.json
else
    GEN=$BENCH_DIR/gen.json
fi
cargo build --release -q -p rampart-detect --example parse_floor --example detect_dir
FLOOR=$TARGET/release/examples/parse_floor
if [ -x "$RAMPART" ]; then
    RUN_RAMPART=("$RAMPART" detect --format json --sigma "$SIGMA" "$DATA")
    RAMPART_NAME=rampart
else
    # Without the release binary (cargo build --release -p rampart-cli), run the
    # engine the binary runs (run_files, same sharding), minus JSON printing.
    echo "note: $RAMPART not built; measuring the engine through crates/detect/examples/detect_dir" >&2
    RUN_RAMPART=("$TARGET/release/examples/detect_dir" "$DATA" 0 "$SIGMA")
    RAMPART_NAME=engine
fi
JSON_BYTES=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['json_bytes'])" "$GEN")
EVENTS=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['events'])" "$GEN")
GZ_BYTES=$(du -sb "$DATA" | cut -f1)
echo "input: $EVENTS events, $((JSON_BYTES / 1000000)) MB JSON, $((GZ_BYTES / 1000000)) MB gzipped, $(find "$DATA" -type f | wc -l) files; $(find "$SIGMA" -name '*.yml' | wc -l) Sigma rules"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

measure() { # name cores cmd...: prints "name cores wall cpu rss_mb load1"; output kept in $OUT/name-N.{out,err}
    local name=$1 cores=$2; shift 2
    local t; t=$(mktemp)
    local n; n=$(( $(echo "$cores" | tr ',' '\n' | wc -l) ))
    local load; load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f "%e %U %S %M" -o "$t" taskset -c "$cores" "$@" > "$OUT/$name-$n.out" 2> "$OUT/$name-$n.err" || { cat "$OUT/$name-$n.err" >&2; exit 1; }
    read -r wall user sys rss < "$t"
    echo "$name $cores $wall $(echo "$user + $sys" | bc) $((rss / 1024)) $load"
    rm -f "$t"
}

# Sigma matches (event, rule) pairs per tool, from what each one printed.
matches_of() { # name n
    local f=$OUT/$1-$2.out
    case $1 in
        rampart) python3 -c "
import json, sys
print(sum(json.loads(l)['count'] for l in open(sys.argv[1]) if l.startswith('{') and json.loads(l)['type'].startswith('Sigma:')))" "$f" ;;
        rsigma-eval|duckdb) python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['matches'])" "$f" ;;
        *) echo - ;;
    esac
}

results=()
for cores in 0 0,1; do
    n=$(( $(echo "$cores" | tr ',' '\n' | wc -l) ))
    results+=("$(measure parse-floor "$cores" "$FLOOR" "$DATA" "$n")")
    results+=("$(measure parse-ceiling "$cores" "$CEILING" "$DATA" "$n")")
    if [ "$RAMPART_NAME" = engine ]; then RUN_RAMPART[2]=$n; fi
    results+=("$(measure "$RAMPART_NAME" "$cores" "${RUN_RAMPART[@]}")")
    results+=("$(measure rsigma-eval "$cores" "$RSIGMA" "$SIGMA" "$DATA" "$n")")
    results+=("$(measure duckdb "$cores" python3 bench/detect_duckdb.py run "$DUCK_RULES" "$DATA" "$n")")
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
printf "\n%-12s %5s %8s %8s %12s %9s %12s %8s %9s %6s\n" tool cores wall_s cpu_s events/s MB/s events/cpu-s rss_MB matches load1
for r in "${results[@]}"; do
    read -r name cores wall cpu rss load <<< "$r"
    n=$(( $(echo "$cores" | tr ',' '\n' | wc -l) ))
    printf "%-12s %5s %8.2f %8.2f %12.0f %9.1f %12.0f %8s %9s %6s\n" "$name" "$n" "$wall" "$cpu" \
        "$(echo "$EVENTS / $wall" | bc -l)" "$(echo "$JSON_BYTES / $wall / 1000000" | bc -l)" "$(echo "$EVENTS / $cpu" | bc -l)" "$rss" \
        "$(matches_of "$name" "$n")" "$load"
done
echo
wall_of() { printf "%s\n" "${results[@]}" | awk -v n="$2" -v t="$1" '$1==t && split($2,a,",")==n {print $3}'; }
for n in 1 2; do
    f=$(wall_of parse-floor $n); r=$(wall_of "$RAMPART_NAME" $n)
    printf "%d core(s): %s takes %.2fx the parse-only floor's time;" "$n" "$RAMPART_NAME" "$(echo "$r / $f" | bc -l)"
    printf " events/s %s/rsigma-eval %.2fx, %s/duckdb %.2fx\n" \
        "$RAMPART_NAME" "$(echo "$(wall_of rsigma-eval $n) / $r" | bc -l)" "$RAMPART_NAME" "$(echo "$(wall_of duckdb $n) / $r" | bc -l)"
    printf "           the parse ceiling reaches %.2fx rsigma-eval's events/s (the most any JSON-reading engine could)\n" \
        "$(echo "$(wall_of rsigma-eval $n) / $(wall_of parse-ceiling $n)" | bc -l)"
done
echo
per_rule_table() { # title rampart.out rsigma.out duckdb.out: matches per rule, differences marked
    python3 - "$@" <<'PY'
import json, sys
title, ra_path, rs_path, dk_path = sys.argv[1:]
rs = json.load(open(rs_path))
dk = json.load(open(dk_path))
try:
    ra = {}
    for l in open(ra_path):
        d = json.loads(l)
        if d["type"].startswith("Sigma:"):
            ra[d["type"][6:]] = ra.get(d["type"][6:], 0) + d["count"]
except (OSError, ValueError, KeyError):
    ra = None
names = sorted(set(rs["per_rule"]) | set(dk["per_rule"]) | set(ra or {}))
print(f"{title:42} {'rampart':>8} {'rsigma':>8} {'duckdb':>8}")
for n in names:
    row = ["-" if ra is None else ra.get(n, 0), rs["per_rule"].get(n, 0), dk["per_rule"].get(n, 0)]
    print(f"  {n[:40]:40} {row[0]:>8} {row[1]:>8} {row[2]:>8}" + ("" if len(set(row)) == 1 else "  <- differs"))
PY
}
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
conv = json.load(open(f"{out}/duckdb-convert.json"))
rs = json.load(open(f"{out}/rsigma-eval-1.out"))
print(f"rules: rsigma-eval loaded {rs['rules_loaded']} ({rs['rules_failed']} failed to parse or compile);"
      f" pySigma/DuckDB converted {conv['queries']} queries from {conv['rule_files']} files ({conv['failed']} failed)")
for f in ("rsigma-eval-1.err", "duckdb-convert.err"):
    for l in open(f"{out}/{f}"):
        print("  " + l.rstrip())
PY
per_rule_table "matches per rule (1-core runs above)" "$OUT/$RAMPART_NAME-1.out" "$OUT/rsigma-eval-1.out" "$OUT/duckdb-1.out"

# Semantics, untimed: the same three over the Stratus Red Team detonation logs
# (real CloudTrail from attack techniques), where the rules do fire; this is
# where SQL's semantics part from Sigma's.
STRATUS_SRC=$ROOT/../shared/corpora/aws/stratus-red-team-detonation-logs
if [ -d "$STRATUS_SRC" ] && [ -x "$RAMPART" ]; then
    STRATUS=$BENCH_DIR/stratus
    rm -rf "$STRATUS" && mkdir -p "$STRATUS/AWSLogs"
    python3 -c "
import gzip, json, pathlib, sys
for p in sorted(pathlib.Path(sys.argv[1]).glob('*.json')):
    recs = json.loads(p.read_text())
    with gzip.open(pathlib.Path(sys.argv[2]) / (p.stem + '.json.gz'), 'wt') as f:
        json.dump({'Records': recs if isinstance(recs, list) else recs.get('Records', [recs])}, f)
" "$STRATUS_SRC" "$STRATUS/AWSLogs"
    "$RAMPART" detect --format json --sigma "$SIGMA" "$STRATUS" > "$OUT/stratus-rampart.out" 2> "$OUT/stratus-rampart.err"
    "$RSIGMA" "$SIGMA" "$STRATUS" 1 > "$OUT/stratus-rsigma.out" 2> /dev/null
    python3 bench/detect_duckdb.py run "$DUCK_RULES" "$STRATUS" 1 > "$OUT/stratus-duckdb.out"
    echo
    per_rule_table "Stratus Red Team logs, $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['events'])" "$OUT/stratus-rsigma.out") events (untimed)" \
        "$OUT/stratus-rampart.out" "$OUT/stratus-rsigma.out" "$OUT/stratus-duckdb.out"
fi
echo "notes: rampart's matches are the summed counts of its Sigma findings (each aggregates the events of"
echo "  one rule per principal, account and region); the peers count (event, rule) pairs. rampart also runs"
echo "  its built-in detections, the peers only the Sigma rules. DuckDB's SQL semantics differ from Sigma's: '=' is"
echo "  case-sensitive, NOT over a missing field is NULL (not a match), paths do not reach into arrays."
echo "  duckdb's wall time includes Python start-up and import (~0.3 s); rule conversion is not timed."
