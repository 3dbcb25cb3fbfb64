#!/usr/bin/env bash
# `sluice serve` and `sluice scan --remote` as processes, in two network namespaces joined by
# a veth pair (created here, deleted on exit):
#  - remote scans print exactly what local scans print, with grep's exit codes;
#  - refusals and usage errors exit 2 with the reason;
#  - a client killed mid-transfer (SIGKILL) leaves no XDP or tcx program attached;
#  - SIGTERM stops the server mid-transfer: it exits 0 promptly, the client fails (exit 2);
#  - over IPv6 the TCP placements and the UDP ones without header rewriting work the same;
#    xdp and tc (which zero the UDP checksum) refuse with the reason.
# usage: net_cli_test.sh SLUICE SLUICE_GEN
set -u
SLUICE=$1
GEN=$2
export LC_ALL=C
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

if [[ $EUID -ne 0 ]] || ! command -v ip >/dev/null; then
  if [[ ${SLUICE_REQUIRE_KERNEL:-0} == 1 ]]; then echo "FAIL needs root and iproute2"; exit 1; fi
  echo "skipped: needs root and iproute2"; exit 0
fi

ID=$$
SRV=sluice-nc-s$ID
CLI=sluice-nc-c$ID
VS=slncs$ID
VC=slncc$ID
SADDR=10.212.0.1
SADDR6=fd00:212::1
WORK=$(mktemp -d "$PWD/sluice-net-cli.XXXXXX")
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill -KILL "$SERVER_PID" 2>/dev/null
  ip netns del "$SRV" 2>/dev/null
  ip netns del "$CLI" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$SRV" && ip netns add "$CLI" &&
  ip link add "$VS" netns "$SRV" type veth peer name "$VC" netns "$CLI" &&
  ip -n "$SRV" addr add $SADDR/24 dev "$VS" && ip -n "$CLI" addr add 10.212.0.2/24 dev "$VC" &&
  ip -n "$SRV" link set lo up && ip -n "$CLI" link set lo up &&
  ip -n "$SRV" addr add $SADDR6/64 dev "$VS" nodad && ip -n "$CLI" addr add fd00:212::2/64 dev "$VC" nodad &&
  ip -n "$SRV" link set "$VS" up && ip -n "$CLI" link set "$VC" up || { echo "FAIL cannot create namespaces"; exit 1; }

mkdir -p "$WORK/root"
"$GEN" --quiet --size 4M --selectivity 1% --seed 8 --long-records 2 --long-length 70000 --output "$WORK/root/f.csv" || exit 1
"$GEN" --quiet --size 64M --selectivity 100% --seed 9 --output "$WORK/root/big.csv" || exit 1

# start_server [LISTEN]: sets SERVER_PID and ADDR (LISTEN: HOST:PORT, default $SADDR:0)
start_server() {
  rm -f "$WORK/serve.log"
  ip netns exec "$SRV" "$SLUICE" serve --root "$WORK/root" --listen "${1:-$SADDR:0}" 2>"$WORK/serve.log" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$WORK/serve.log" 2>/dev/null && break
    sleep 0.05
  done
  ADDR=$(sed -n 's/^sluice serve: listening on //p' "$WORK/serve.log")
  [[ -n $ADDR ]] || { echo "FAIL server did not start: $(cat "$WORK/serve.log")"; exit 1; }
}
remote() { ip netns exec "$CLI" "$SLUICE" scan --remote "$ADDR" "$@"; }

start_server
"$SLUICE" scan -e XQZSLUICE "$WORK/root/f.csv" >"$WORK/want"
for place in "server" "server --streams 3" "client --streams 2" "client" "client --transport udp" "xdp --mode trim" "xdp" "tc --mode trim" "sockfilter --mode trim"; do
  # shellcheck disable=SC2086
  remote --place $place -e XQZSLUICE f.csv >"$WORK/got" 2>"$WORK/err"
  rc=$?
  if [[ $rc -eq 0 ]] && cmp -s "$WORK/got" "$WORK/want"; then pass "--place $place prints what a local scan prints"
  else fail "--place $place: exit $rc, $(head -c 300 "$WORK/err")"; fi
done
[[ $(remote --place xdp -c -e XQZSLUICE f.csv) == $(wc -l <"$WORK/want") ]] && pass "-c counts" || fail "-c counts"
# Placement server: counts and aggregates computed in the server's kernel, the same result.
[[ $(remote --place server -c -e XQZSLUICE f.csv) == $(wc -l <"$WORK/want") ]] && pass "-c counts in the server's kernel" ||
  fail "-c at the server: $(remote --place server -c -e XQZSLUICE f.csv 2>&1 | head -c 300)"
in_kernel=$(remote --place server -c --json --stats -e XQZSLUICE f.csv |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["files"][0]["stats"]["kernel_aggregated_records"])')
((in_kernel > $(wc -l <"$WORK/want") / 2)) && pass "the server's kernel counted $in_kernel records" ||
  fail "the server's kernel counted only $in_kernel records"
"$SLUICE" scan --group-by '$2' --sum '$3' --max '$4' -e XQZSLUICE "$WORK/root/f.csv" >"$WORK/want.agg"
for place in "server" "server --streams 2" "client"; do
  # shellcheck disable=SC2086
  if remote --place $place --group-by '$2' --sum '$3' --max '$4' -e XQZSLUICE f.csv >"$WORK/got.agg" 2>"$WORK/err" &&
    cmp -s "$WORK/got.agg" "$WORK/want.agg"; then pass "--place $place: aggregates equal a local scan's"
  else fail "--place $place aggregates: $(head -c 300 "$WORK/err")"; fi
done
remote --place server -e NO_SUCH_TEXT f.csv >/dev/null 2>&1
[[ $? -eq 1 ]] && pass "no match exits 1" || fail "no match should exit 1"

# expect_error NAME MESSAGE -- remote scan args...
expect_error() {
  local name=$1 msg=$2
  shift 3
  "$@" >/dev/null 2>"$WORK/err"
  local rc=$?
  if [[ $rc -eq 2 ]] && grep -qF -- "$msg" "$WORK/err"; then pass "$name"
  else fail "$name: exit $rc, $(head -c 300 "$WORK/err")"; fi
}
expect_error "path traversal refused" "forbidden" -- remote -e x ../etc/passwd
expect_error "absolute path refused" "forbidden" -- remote -e x /etc/passwd
expect_error "missing file" "not_found" -- remote -e x nope.csv
expect_error "bad parameter refused locally" "at most 8" -- remote -e 1 -e 2 -e 3 -e 4 -e 5 -e 6 -e 7 -e 8 -e 9 f.csv
expect_error "no --where remotely" "--remote takes" -- remote --where '$1 > 1' f.csv
expect_error "unknown placement" "unknown placement" -- remote --place gpu -e x f.csv
expect_error "server placement is TCP" "--transport applies to --place client" -- remote --place server --transport udp -e x f.csv
expect_error "--place needs --remote" "needs --remote" -- "$SLUICE" scan --place xdp -e x "$WORK/root/f.csv"
expect_error "nobody listening" "connecting" -- ip netns exec "$CLI" "$SLUICE" scan --remote $SADDR:1 -e x f.csv
expect_error "serve needs a root" "--root DIR is required" -- "$SLUICE" serve --listen 127.0.0.1:0
expect_error "serve --max-streams bounded" "--max-streams must be 1..64" -- "$SLUICE" serve --root "$WORK/root" --max-streams 0
expect_error "scan --streams bounded" "--streams: at most 64" -- remote --streams 65 -e x f.csv

# A client killed mid-transfer leaves nothing attached (XDP and tcx are links: the kernel
# detaches them when the process dies).
for place in xdp tc; do
  mkfifo "$WORK/fifo"
  ip netns exec "$CLI" "$SLUICE" scan --remote "$ADDR" --place $place --filter keep-all big.csv >"$WORK/fifo" 2>/dev/null &
  pid=$!
  exec 3<"$WORK/fifo"
  head -c 100000 <&3 >/dev/null   # then stop reading: the transfer stalls with everything attached
  # The client's link (its fdinfo names the link type and the program).
  link_type=$(sed -n 's/^link_type:\s*//p' /proc/$pid/fdinfo/* 2>/dev/null | sort -u | tr '\n' ' ')
  prog_ids=$(sed -n 's/^prog_id:\s*//p' /proc/$pid/fdinfo/* 2>/dev/null | sort -u)
  want_type=$([[ $place == xdp ]] && echo xdp || echo tcx)
  [[ $link_type == *"$want_type"* && -n $prog_ids ]] && pass "$place: $want_type link attached during the scan" \
    || fail "$place: no $want_type link during the scan (links: $link_type)"
  [[ $place != xdp ]] || ip -n "$CLI" link show dev "$VC" | grep -q "prog/xdp" || fail "xdp: interface shows no program"
  kill -KILL $pid
  wait $pid 2>/dev/null
  exec 3<&-
  rm -f "$WORK/fifo"
  sleep 0.3  # programs are freed after an RCU grace period
  left=0
  for id in $prog_ids; do bpftool prog show id "$id" >/dev/null 2>&1 && left=$((left + 1)); done
  [[ $left -eq 0 ]] && pass "$place: program detached and freed after SIGKILL" || fail "$place: $left program(s) left after SIGKILL"
  [[ $place != xdp ]] || ! ip -n "$CLI" link show dev "$VC" | grep -q "prog/xdp" || fail "xdp: still on the interface"
done
kill -0 "$SERVER_PID" 2>/dev/null && pass "server survived the killed clients" || fail "server died"

# SIGTERM mid-transfer: the server unwinds every session and exits 0.
mkfifo "$WORK/fifo"
ip netns exec "$CLI" "$SLUICE" scan --remote "$ADDR" --place server --filter keep-all big.csv >"$WORK/fifo" 2>"$WORK/client.err" &
cpid=$!
exec 3<"$WORK/fifo"
head -c 100000 <&3 >/dev/null
t0=$(date +%s%N)
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
src=$?
t1=$(date +%s%N)
SERVER_PID=
cat <&3 >/dev/null
exec 3<&-
wait $cpid
crc=$?
[[ $src -eq 0 ]] && pass "SIGTERM: server exits 0" || fail "SIGTERM: server exit $src: $(tail -3 "$WORK/serve.log")"
(( (t1 - t0) / 1000000 < 3000 )) && pass "SIGTERM: stopped within 3 s" || fail "SIGTERM: took $(( (t1 - t0) / 1000000 )) ms"
grep -q "sluice serve: stopped" "$WORK/serve.log" && pass "SIGTERM: clean stop logged" || fail "no stop line in the log"
[[ $crc -eq 2 ]] && pass "the interrupted client fails (exit 2)" || fail "interrupted client exit $crc: $(cat "$WORK/client.err")"

# IPv6: the same records over TCP and over UDP without header rewriting; xdp/tc say why not.
start_server "[$SADDR6]:0"
[[ $ADDR == "[$SADDR6]:"* ]] && pass "IPv6: server listens on $ADDR" || fail "IPv6: server address $ADDR"
for place in "server" "client" "client --transport udp" "sockfilter --mode trim" "sockfilter"; do
  # shellcheck disable=SC2086
  remote --place $place -e XQZSLUICE f.csv >"$WORK/got" 2>"$WORK/err"
  rc=$?
  if [[ $rc -eq 0 ]] && cmp -s "$WORK/got" "$WORK/want"; then pass "IPv6: --place $place prints what a local scan prints"
  else fail "IPv6: --place $place: exit $rc, $(head -c 300 "$WORK/err")"; fi
done
delivered=$(remote --place sockfilter --mode trim --stats -c -e XQZSLUICE f.csv 2>&1 >/dev/null |
  sed -n 's/^bytes delivered to user space *//p')
size=$(stat -c %s "$WORK/root/f.csv")
[[ -n $delivered ]] && ((delivered * 5 < size)) && pass "IPv6: the socket filter judges in the kernel ($delivered of $size bytes delivered)" \
  || fail "IPv6: socket filter delivered '$delivered' of $size bytes"
for place in xdp tc; do
  expect_error "IPv6: --place $place refused with the reason" "need IPv4" -- remote --place $place -e XQZSLUICE f.csv
done
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=

# SIGINT works the same.
start_server
kill -INT "$SERVER_PID"
wait "$SERVER_PID"
[[ $? -eq 0 ]] && pass "SIGINT: server exits 0" || fail "SIGINT: nonzero exit"
SERVER_PID=

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
