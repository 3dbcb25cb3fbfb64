#!/usr/bin/env bash
# The sockmap backend across processes: four concurrent scans give grep's answers, and a
# scan killed with SIGINT (or SIGTERM) mid-stream leaves no BPF program or map behind.
# usage: sockmap_process_test.sh SLUICE SLUICE_GEN
set -u
SLUICE=$1
GEN=$2
source "$(dirname "$0")/sockmap_support.sh" sockmap-proc

# The BPF programs and maps a process holds, from its fds: "prog:<id>" and "map:<id>" lines.
held_objects() {
  local pid=$1 f
  for f in /proc/"$pid"/fdinfo/*; do
    awk '/^prog_id:/ { print "prog:" $2 } /^map_id:/ { print "map:" $2 }' "$f" 2>/dev/null
  done | sort -u
}

# Whether a BPF object still exists anywhere on the machine.
object_exists() {
  local kind=${1%%:*} id=${1##*:}
  bpftool "$kind" show id "$id" >/dev/null 2>&1
}

# Four scans at once, in four processes.
for i in 0 1 2 3; do
  "$GEN" --quiet --size 24M --selectivity "$((1 + 7 * i))%" --seed "$((40 + i))" --output "$WORK/f$i.csv" || exit 1
done
pids=()
for i in 0 1 2 3; do
  "$SLUICE" scan -b sockmap -e XQZSLUICE "$WORK/f$i.csv" >"$WORK/out$i" &
  pids+=($!)
done
for i in 0 1 2 3; do
  wait "${pids[$i]}"
  if cmp -s "$WORK/out$i" <(grep -F XQZSLUICE "$WORK/f$i.csv"); then pass "concurrent process scan $i"; else fail "concurrent process scan $i differs from grep"; fi
done

# Killed mid-stream: the reader stalls, so the scan is blocked with everything attached.
# The objects it holds (read from its fds) must all be gone once it is dead; other
# processes' BPF objects, which may come and go meanwhile, do not matter.
"$GEN" --quiet --size 256M --selectivity 100% --output "$WORK/big.csv" || exit 1
for sig in INT TERM; do
  mkfifo "$WORK/fifo"
  # bash starts background jobs with SIGINT ignored: restore the default as a terminal would
  env --default-signal=INT,TERM "$SLUICE" scan -b sockmap --filter keep-all "$WORK/big.csv" >"$WORK/fifo" &
  pid=$!
  exec 3<"$WORK/fifo"          # open the reader, read a little, then stop reading
  head -c 100000 <&3 >/dev/null
  held=$(held_objects "$pid")
  if grep -q '^prog:' <<<"$held" && grep -q '^map:' <<<"$held"; then
    pass "SIG$sig: the scan holds its BPF program and maps while it runs ($(wc -l <<<"$held") objects)"
  else
    fail "SIG$sig: no BPF program or map held by the scan: '$held'"
  fi
  kill -s "$sig" "$pid"
  wait "$pid" 2>/dev/null
  exec 3<&-
  rm -f "$WORK/fifo"
  left=""
  for _ in $(seq 1 50); do  # the kernel frees them once the last reference goes
    left=""
    for o in $held; do object_exists "$o" && left+="$o "; done
    [[ -z $left ]] && break
    sleep 0.1
  done
  [[ -z $left ]] && pass "SIG$sig: no BPF program or map of the scan left behind" \
                 || fail "SIG$sig: left behind: $left"
done

# An aggregating scan (partials in per-CPU kernel maps, nothing printed until the end) killed
# with SIGINT mid-scan: its aggregate maps go with it too.
env --default-signal=INT "$SLUICE" scan -b sockmap --filter keep-all --group-by '$2' --sum '$3' --max '$4' \
  "$WORK/big.csv" >/dev/null 2>&1 &
pid=$!
held="" aggregating=0
for _ in $(seq 1 400); do  # until it has loaded and attached (a few ms apart)
  held=$(held_objects "$pid")
  if grep -q '^prog:' <<<"$held"; then
    for o in $held; do
      if [[ $o == map:* ]] && bpftool map show id "${o#map:}" 2>/dev/null | grep -q 'name agg_groups'; then
        aggregating=1
        break 2
      fi
    done
  fi
  sleep 0.005
done
kill -s INT "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rc=$?
if (( rc == 130 && aggregating == 1 )); then
  pass "aggregating scan killed by SIGINT mid-scan (it held $(wc -l <<<"$held") BPF objects, agg_groups among them)"
else
  fail "aggregating scan: exit $rc (130: SIGINT) with objects '$held' (too fast to interrupt?)"
fi
left=""
for _ in $(seq 1 50); do
  left=""
  for o in $held; do object_exists "$o" && left+="$o "; done
  [[ -z $left ]] && break
  sleep 0.1
done
[[ -z $left ]] && pass "aggregating scan: no BPF program or map left behind" || fail "aggregating scan: left behind: $left"

echo "sockmap_process_test: $failures failure(s)"
[[ $failures -eq 0 ]]
