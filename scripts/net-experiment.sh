#!/usr/bin/env bash
# Network placement experiment (docs/network.md): `sluice serve` in one network namespace,
# `sluice scan --remote` in another, joined by a veth pair, optionally shaped with tc tbf.
# Every placement at every selectivity; one CSV row per run with end-to-end time, bytes on
# the wire, client and server CPU. Everything created here (namespaces, veth, qdiscs, the
# server, BPF programs) is removed on exit, error or interrupt.
#
# usage: scripts/net-experiment.sh [options]
#   --size S            file size (sluice-gen syntax, default 256M)
#   --rates LIST        link rates: none 100mbit 1gbit 10gbit (default: all four)
#   --selectivities L   default "0.1% 1% 10% 100%"
#   --placements L      default: server client client-udp xdp-drop xdp-trim tc-drop tc-trim
#                       sockfilter-drop sockfilter-trim; a TCP placement may name its
#                       data-connection count: server@1, server@2, client@2 (default: the
#                       server's choice; the CSV's streams column has what was granted).
#                       The client writes the records it gets to /dev/null; server+count
#                       instead counts them (-c), which the server's kernel does itself,
#                       sending back a count and only the records it could not judge
#   --repeat N          runs per cell, interleaved: each round runs every placement once
#                       (default 3; the CSV has every run)
#   --out FILE          CSV output (default net-experiment.csv)
#   --data-dir DIR      where the generated files are kept (default build/net-experiment-data)
#   --sluice PATH, --gen PATH   binaries (default build/sluice, build/sluice-gen)
#   --timeout S         per-run timeout (default 300)
#   --server-args "..." extra `sluice serve` options (e.g. --program-cache 0: every server
#                       placement run pays the verifier)
#   --summarize CSV     print the medians of a CSV as a Markdown table, and nothing else
set -euo pipefail
cd "$(dirname "$0")/.."

# Medians per (rate, selectivity, placement): what docs/network.md shows.
summarize() {
  python3 - "$1" <<'PY'
import csv, statistics as st, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cells = {}
for r in rows:
    cells.setdefault((r["rate"], r["selectivity"], r["placement"] + ("/" + r["mode"] if r["mode"] else "")), []).append(r)
print("| link | sel. | placement | streams | runs | exact | end-to-end s | wire, % of file | client socket MB | client CPU s | of it BPF load | server CPU s | of it verifier s | all CPUs busy s |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for (rate, sel, place), rs in cells.items():
    m = lambda f: st.median(float(r[f]) for r in rs)
    fb = float(rs[0]["file_bytes"])
    streams = "/".join(sorted({r.get("streams") or "-" for r in rs}))
    print(f"| {rate} | {sel} | {place} | {streams} | {len(rs)} | {'yes' if all(r['exact'] == '1' for r in rs) else 'NO'} | "
          f"{m('e2e_seconds'):.3f} | {100 * m('wire_bytes') / fb:.2f} | {m('payload_bytes') / 1e6:.1f} | "
          f"{m('client_cpu_s'):.3f} | {m('client_load_cpu_s'):.3f} | {m('server_cpu_s'):.3f} | "
          f"{m('server_load_s'):.3f} | {m('all_cpu_busy_s'):.2f} |")
PY
}

SIZE=256M
RATES="none 100mbit 1gbit 10gbit"
SELECTIVITIES="0.1% 1% 10% 100%"
PLACEMENTS="server client client-udp xdp-drop xdp-trim tc-drop tc-trim sockfilter-drop sockfilter-trim"
REPEAT=3
OUT=net-experiment.csv
DATA=build/net-experiment-data
SLUICE=build/sluice
GEN=build/sluice-gen
TIMEOUT=300
SERVER_ARGS=
while (($#)); do
  case $1 in
    --size) SIZE=$2; shift 2 ;;
    --rates) RATES=$2; shift 2 ;;
    --selectivities) SELECTIVITIES=$2; shift 2 ;;
    --placements) PLACEMENTS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --data-dir) DATA=$2; shift 2 ;;
    --sluice) SLUICE=$2; shift 2 ;;
    --gen) GEN=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --server-args) SERVER_ARGS=$2; shift 2 ;;
    --summarize) summarize "$2"; exit 0 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "net-experiment: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $EUID -eq 0 ]] || { echo "net-experiment: needs root (namespaces, BPF)" >&2; exit 2; }
SLUICE=$(realpath "$SLUICE")
GEN=$(realpath "$GEN")
mkdir -p "$DATA"
DATA=$(realpath "$DATA")

ID=$$
SRV=sluice-nx-s$ID
CLI=sluice-nx-c$ID
VS=slnxs$ID
VC=slnxc$ID
SADDR=10.213.0.1
CADDR=10.213.0.2
SERVER_PID=
CLIENT_PID=
LOG=$(mktemp /tmp/sluice-net-experiment.XXXXXX)
RUN=$(mktemp /tmp/sluice-net-run.XXXXXX)

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $CLIENT_PID ]] && kill -TERM "$CLIENT_PID" 2>/dev/null
  if [[ -n $SERVER_PID ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  # Deleting the namespaces removes the veth pair and its qdiscs; BPF programs go with
  # the processes that held them (XDP and tcx are links, socket filters die with sockets).
  ip netns del "$SRV" 2>/dev/null || true
  ip netns del "$CLI" 2>/dev/null || true
  rm -f "$LOG" "$RUN"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$SRV"
ip netns add "$CLI"
ip link add "$VS" netns "$SRV" type veth peer name "$VC" netns "$CLI"
ip -n "$SRV" addr add $SADDR/24 dev "$VS"
ip -n "$CLI" addr add $CADDR/24 dev "$VC"
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" link set "$VS" up
ip -n "$CLI" link set "$VC" up

# shape RATE: tbf on both ends' egress (data one way, acknowledgements the other).
shape() {
  local rate=$1 dev ns
  for pair in "$SRV:$VS" "$CLI:$VC"; do
    ns=${pair%%:*}
    dev=${pair#*:}
    tc -n "$ns" qdisc del dev "$dev" root 2>/dev/null || true
    [[ $rate == none ]] && continue
    local bps
    case $rate in
      *gbit) bps=$(( ${rate%gbit} * 1000000000 / 8 )) ;;
      *mbit) bps=$(( ${rate%mbit} * 1000000 / 8 )) ;;
      *) echo "net-experiment: rate $rate: use NNmbit or NNgbit" >&2; exit 2 ;;
    esac
    # burst: 10 ms at the rate (at least 64 KiB, so a TSO burst passes); queue: 50 ms
    local burst=$(( bps / 100 > 65536 ? bps / 100 : 65536 ))
    tc -n "$ns" qdisc add dev "$dev" root tbf rate "$rate" burst "$burst" latency 50ms
  done
}

counter() { ip netns exec "$SRV" cat "/sys/class/net/$VS/statistics/$1"; }
# All CPUs' busy time (user+nice+system+irq+softirq) in seconds: softirq work on veth is
# charged to no process, so per-process CPU alone would flatter the kernel placements.
busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu /{print ($2+$3+$4+$7+$8)/hz; exit}' /proc/stat
}

# shellcheck disable=SC2086
ip netns exec "$SRV" "$SLUICE" serve --root "$DATA" --listen $SADDR:0 --quiet $SERVER_ARGS 2>"$LOG" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$LOG" && break; sleep 0.05; done
ADDR=$(sed -n 's/^sluice serve: listening on //p' "$LOG")
[[ -n $ADDR ]] || { echo "net-experiment: the server did not start: $(cat "$LOG")" >&2; exit 1; }

declare -A EXPECT
for sel in $SELECTIVITIES; do
  f="net-$SIZE-${sel%\%}.csv"
  if [[ ! -s $DATA/$f || ! -s $DATA/$f.count ]]; then
    echo "net-experiment: generating $f" >&2
    "$GEN" --quiet --size "$SIZE" --selectivity "$sel" --seed 42 --output "$DATA/$f" --print-count >"$DATA/$f.count"
  fi
  EXPECT[$sel]=$(cat "$DATA/$f.count")
done

echo "rate,selectivity,placement,mode,run,file_bytes,matches,exact,e2e_seconds,scan_seconds,wire_bytes,wire_tx_bytes,wire_rx_bytes,payload_bytes,client_user_s,client_sys_s,client_cpu_s,client_load_s,client_load_cpu_s,server_user_s,server_sys_s,server_cpu_s,server_load_s,all_cpu_busy_s,datagrams,datagrams_received,filter_dropped,rerequested,retransmitted,attach,streams" >"$OUT"

for rate in $RATES; do
  shape "$rate"
  for sel in $SELECTIVITIES; do
    f="net-$SIZE-${sel%\%}.csv"
    cat "$DATA/$f" >/dev/null  # in the page cache, like every run after it
    for run in $(seq "$REPEAT"); do
      for placement in $PLACEMENTS; do
        streams=() count=()
        if [[ $placement == *@* ]]; then streams=(--streams "${placement#*@}"); fi
        if [[ $placement == *+count* ]]; then count=(-c); fi
        case ${placement%@*} in
          server+count) args=(--place server "${streams[@]}"); mode= ;;
          server) args=(--place server "${streams[@]}"); mode= ;;
          client) args=(--place client "${streams[@]}"); mode= ;;
          client-udp) args=(--place client --transport udp); mode= ;;
          xdp-*|tc-*|sockfilter-*) mode=${placement##*-}; args=(--place "${placement%-*}" --mode "$mode") ;;
          *) echo "net-experiment: unknown placement $placement" >&2; exit 2 ;;
        esac
        tx0=$(counter tx_bytes); rx0=$(counter rx_bytes); cpu0=$(busy_seconds)
        t0=$(date +%s%N)
        # In the background and waited for, so an interrupt is handled at once.
        # Records go to /dev/null and the JSON report to stderr; with -c the report is stdout.
        if ((${#count[@]})); then sink=$RUN; else sink=/dev/null; fi
        ip netns exec "$CLI" timeout "$TIMEOUT" "$SLUICE" scan --remote "$ADDR" "${args[@]}" "${count[@]}" \
          --timeout 60 --json --stats -e XQZSLUICE "$f" >"$sink" 2>>"$RUN" &
        CLIENT_PID=$!
        rc=0
        wait "$CLIENT_PID" || rc=$?
        CLIENT_PID=
        t1=$(date +%s%N)
        json=$(tail -n 1 "$RUN")
        : >"$RUN"
        if ((rc != 0)); then
          echo "net-experiment: $rate $sel $placement run $run failed: $json" >&2
          continue
        fi
        cpu1=$(busy_seconds); tx1=$(counter tx_bytes); rx1=$(counter rx_bytes)
        python3 - "$json" <<PY >>"$OUT"
import json, sys
d = json.loads(sys.argv[1])["files"][0]
s, r = d["stats"], d["remote"]
cu, cs = s["user_cpu_seconds"], s["system_cpu_seconds"]
su, ss = r["server_user_cpu_seconds"], r["server_system_cpu_seconds"]
tx, rx = $tx1 - $tx0, $rx1 - $rx0
row = ["$rate", "$sel", "${placement%-*}" if "$mode" else "$placement", "$mode", $run, r["file_bytes"], d["matches"],
       int(d["matches"] == ${EXPECT[$sel]}), ($t1 - $t0) / 1e9, s["wall_seconds"], tx + rx, tx, rx,
       s["bytes_delivered"], cu, cs, cu + cs, r["client_load_seconds"], r["client_load_cpu_seconds"], su, ss, su + ss,
       r["server_load_seconds"],
       round($cpu1 - $cpu0, 3), r["datagrams"], r["datagrams_received"], r["filter_dropped"], r["lost"],
       r["retransmitted"], r["attach"], r["streams"] if r["placement"] in ("server", "client", "client/tcp") else ""]
print(",".join(str(round(v, 6)) if isinstance(v, float) else str(v) for v in row))
PY
        tail -1 "$OUT" | cut -d, -f1-9 >&2
      done
    done
  done
done
shape none
echo "net-experiment: wrote $OUT" >&2
summarize "$OUT"
