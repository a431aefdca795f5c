#!/usr/bin/env bash
# Detection throughput: `rampart detect` (release) over >= 1 GB of generated,
# gzipped CloudTrail with every built-in rule and every SigmaHQ CloudTrail
# rule loaded, side by side with the parse-only floor (flate2 + serde_json
# into a typed struct with borrowed fields, nothing else), on one core and on
# two, in one run. Prints events/s, MB/s, CPU seconds, peak memory and ratios.
#
# usage: bench/detect.sh            (data in $BENCH_DIR, default ~/.cache/rampart-detect-bench)
# needs: target/release/rampart (cargo build --release -p rampart-cli), python3, GNU time, taskset
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH_DIR=${BENCH_DIR:-$HOME/.cache/rampart-detect-bench}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
RAMPART=${RAMPART:-$TARGET/release/rampart}
SIGMA=$ROOT/../shared/corpora/sigma-aws/rules
DATA=$BENCH_DIR/data

if [ ! -d "$DATA" ]; then
    mkdir -p "$BENCH_DIR"
    python3 bench/detect_gen.py "$DATA" --gb 1.05 > "$BENCH_DIR/gen.json"
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
JSON_BYTES=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['json_bytes'])" "$BENCH_DIR/gen.json")
EVENTS=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['events'])" "$BENCH_DIR/gen.json")
GZ_BYTES=$(du -sb "$DATA" | cut -f1)
echo "input: $EVENTS events, $((JSON_BYTES / 1000000)) MB JSON, $((GZ_BYTES / 1000000)) MB gzipped, $(find "$DATA" -type f | wc -l) files; $(find "$SIGMA" -name '*.yml' | wc -l) Sigma rules"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

measure() { # name cores cmd...: prints "name cores wall cpu rss_mb"
    local name=$1 cores=$2; shift 2
    local t; t=$(mktemp)
    /usr/bin/time -f "%e %U %S %M" -o "$t" taskset -c "$cores" "$@" > /dev/null 2> "$t.err" || { cat "$t.err" >&2; exit 1; }
    read -r wall user sys rss < "$t"
    echo "$name $cores $wall $(echo "$user + $sys" | bc) $((rss / 1024))"
    rm -f "$t" "$t.err"
}

results=()
for cores in 0 0,1; do
    n=$(( $(echo "$cores" | tr ',' '\n' | wc -l) ))
    results+=("$(measure parse-floor "$cores" "$FLOOR" "$DATA" "$n")")
    if [ "$RAMPART_NAME" = engine ]; then RUN_RAMPART[2]=$n; fi
    results+=("$(measure "$RAMPART_NAME" "$cores" "${RUN_RAMPART[@]}")")
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
printf "\n%-12s %5s %8s %8s %12s %9s %12s %8s\n" tool cores wall_s cpu_s events/s MB/s events/cpu-s rss_MB
for r in "${results[@]}"; do
    read -r name cores wall cpu rss <<< "$r"
    n=$(( $(echo "$cores" | tr ',' '\n' | wc -l) ))
    printf "%-12s %5s %8.2f %8.2f %12.0f %9.1f %12.0f %8s\n" "$name" "$n" "$wall" "$cpu" \
        "$(echo "$EVENTS / $wall" | bc -l)" "$(echo "$JSON_BYTES / $wall / 1000000" | bc -l)" "$(echo "$EVENTS / $cpu" | bc -l)" "$rss"
done
echo
for n in 1 2; do
    f=$(printf "%s\n" "${results[@]}" | awk -v n=$n '$1=="parse-floor" && split($2,a,",")==n {print $3}')
    r=$(printf "%s\n" "${results[@]}" | awk -v n=$n -v t="$RAMPART_NAME" '$1==t && split($2,a,",")==n {print $3}')
    printf "%d core(s): %s takes %.2fx the parse-only floor's time\n" "$n" "$RAMPART_NAME" "$(echo "$r / $f" | bc -l)"
done
echo "peers not run by this script yet: rsigma-eval 0.23, pySigma DuckDB backend (see docs/detect.md)"
