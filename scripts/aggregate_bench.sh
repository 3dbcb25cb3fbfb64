#!/usr/bin/env bash
# Aggregates in the kernel (sockmap) vs in user space (read): wall time, CPU and bytes
# delivered to user space for `--sum` over the records a filter keeps, at 1 %, 10 % and 100 %
# selectivity, best of N runs each, interleaved. Also the sockmap scan that delivers the
# records (-c is not used: it aggregates too) for comparison. The result column is a hash of
# the printed table: equal hashes, equal answers. docs/performance.md has a run.
# usage: scripts/aggregate_bench.sh [SIZE (default 256M)] [RUNS (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-256M}
RUNS=${2:-3}
SLUICE=build/sluice
GEN=$(find build -name sluice-gen -type f -perm -u+x | head -1)
WORK=$(mktemp -d "$PWD/sluice-aggbench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

field() { python3 -c 'import json,sys; t=json.load(sys.stdin)["total"]; print(" ".join(str(t[k]) for k in sys.argv[1:]))' "$@"; }

printf '%-11s %-34s %8s %8s %8s %14s %s\n' selectivity run wall_s user_s sys_s delivered_B result
for sel in 1% 10% 100%; do
  "$GEN" --quiet --size "$SIZE" --selectivity "$sel" --seed 11 --output "$WORK/data.csv"
  cat "$WORK/data.csv" >/dev/null  # page cache
  declare -A best=() line=()  # per configuration: the best wall time, its row
  for _ in $(seq 1 "$RUNS"); do
    for cfg in "user space (read) --sum" "kernel (sockmap) --sum" "sockmap records, no aggregate"; do
      case $cfg in
        "user space (read) --sum") args=(-b read -e XQZSLUICE --sum '$3') ;;
        "kernel (sockmap) --sum") args=(-b sockmap -e XQZSLUICE --sum '$3') ;;
        "sockmap records, no aggregate") args=(-b sockmap -e XQZSLUICE) ;;
      esac
      out=$("$SLUICE" scan "${args[@]}" --no-record-count --stats --json "$WORK/data.csv" 2>"$WORK/stats.json" | tail -2 | md5sum | cut -c1-8)
      read -r wall user sys delivered < <(field wall_seconds user_cpu_seconds system_cpu_seconds bytes_delivered <"$WORK/stats.json")
      if [[ -z ${best[$cfg]:-} ]] || python3 -c "import sys; sys.exit(0 if $wall < ${best[$cfg]} else 1)"; then
        best[$cfg]=$wall
        line[$cfg]=$(printf '%-11s %-34s %8.3f %8.3f %8.3f %14s %s' "$sel" "$cfg" "$wall" "$user" "$sys" "$delivered" "$out")
      fi
    done
  done
  for cfg in "user space (read) --sum" "kernel (sockmap) --sum" "sockmap records, no aggregate"; do
    echo "${line[$cfg]}"
  done
  unset best line
done
