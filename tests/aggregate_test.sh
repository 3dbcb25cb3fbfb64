#!/usr/bin/env bash
# Aggregates (--sum/--min/--max/--avg/--group-by, -c) computed in the kernel (sockmap) equal
# those computed in user space (read) and python's exact decimal reference, on data made to
# hit every fallback of the kernel path (docs/where.md, "Aggregates"), and gawk -M on integers.
# usage: aggregate_test.sh SLUICE SOURCE_DIR
set -u
SLUICE=$1
REF="python3 $2/tests/aggregate_reference.py"
source "$(dirname "$0")/sockmap_support.sh" aggregate

# A field of the --json statistics (stderr of a run with --stats --json), from the total.
stat() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"].get(sys.argv[2], ""))' "$1" "$2"; }

# check NAME FILE DELIM GROUP(-|N) REF_OPS -- SLUICE_ARGS...
# Runs read, sockmap (sendfile, write, uring drivers): all equal the reference; the sockmap
# runs aggregated in the kernel (some records, unless the file is empty). Leaves the sendfile
# run's statistics in $WORK/stats. REF_OPS in the table's order: sums, mins, maxes, means.
check() {
  local name=$1 file=$2 delim=$3 group=$4 ops=$5
  shift 6
  $REF agg "$file" "$delim" "$group" $ops >"$WORK/ref" || { fail "$name: reference failed"; return; }
  "$SLUICE" scan -b read "$@" "$file" >"$WORK/read" 2>"$WORK/read.err"
  if cmp -s "$WORK/ref" "$WORK/read"; then pass "$name: read equals the python reference"; else
    fail "$name: read differs from the python reference"; diff "$WORK/ref" "$WORK/read" | head -5; fi
  for driver in sendfile write uring; do
    "$SLUICE" scan -b sockmap --driver "$driver" --stats --json "$@" "$file" >"$WORK/kernel" 2>"$WORK/kernel.json"
    if ! cmp -s "$WORK/read" "$WORK/kernel"; then
      fail "$name: sockmap/$driver differs from read"; diff "$WORK/read" "$WORK/kernel" | head -5; cat "$WORK/kernel.json" | head -3
    elif [[ $(stat "$WORK/kernel.json" aggregation) != kernel ]]; then
      fail "$name: sockmap/$driver did not aggregate in the kernel"
    elif [[ -s $file ]] && (( $(stat "$WORK/kernel.json" kernel_aggregated_records) == 0 )); then
      fail "$name: sockmap/$driver aggregated nothing in the kernel"
    else
      pass "$name: sockmap/$driver equals read ($(stat "$WORK/kernel.json" kernel_aggregated_records) records in the kernel, $(stat "$WORK/kernel.json" kernel_aggregate_fallbacks) delivered)"
    fi
    [[ $driver == sendfile ]] && cp "$WORK/kernel.json" "$WORK/stats"
  done
}

$REF gen mixed 1 "$WORK/mixed.csv"
check "mixed, grouped, --where" "$WORK/mixed.csv" , 1 "sum:2 min:3 max:2 avg:3 eq:4:ok" -- \
  --where '$4 == "ok"' --group-by '$1' --sum '$2' --min '$3' --max '$2' --avg '$3'
# More value columns than the kernel's partial holds: all in user space, said so.
"$SLUICE" scan -b sockmap --stats --json --filter keep-all --sum '$2' --sum '$3' --min '$3' --max '$2' --avg '$3' \
  "$WORK/mixed.csv" >"$WORK/five" 2>"$WORK/five.json"
"$SLUICE" scan -b read --filter keep-all --sum '$2' --sum '$3' --min '$3' --max '$2' --avg '$3' "$WORK/mixed.csv" >"$WORK/five.read"
if cmp -s "$WORK/five" "$WORK/five.read" && [[ $(stat "$WORK/five.json" aggregation) == "user space" ]]; then
  pass "5 value columns (kernel: 4): sockmap aggregates in user space, says so, equals read"
else fail "5 value columns: aggregation '$(stat "$WORK/five.json" aggregation)', outputs $(cmp "$WORK/five" "$WORK/five.read")"; fi
check "mixed, one group, every record" "$WORK/mixed.csv" , - "sum:2 min:2 max:3 avg:2" -- \
  --filter keep-all --sum '$2' --avg '$2' --min '$2' --max '$3'
# Everything aggregated in the kernel: only the window-boundary records reach user space.
delivered=$(stat "$WORK/stats" bytes_delivered) size=$(stat "$WORK/stats" bytes_read)
if (( delivered * 100 < size )); then pass "keep-all aggregates deliver $delivered of $size bytes (< 1 %)"; else
  fail "keep-all aggregates delivered $delivered of $size bytes"; fi
if [[ $(stat "$WORK/stats" kernel_aggregate_fallbacks) == 0 ]]; then pass "mixed: no record needed user space"; else
  fail "mixed: $(stat "$WORK/stats" kernel_aggregate_fallbacks) records fell back"; fi

$REF gen fallback 2 "$WORK/fallback.csv"
check "inexact values and 64-bit overflow" "$WORK/fallback.csv" , 1 "sum:2 min:2 max:2 avg:2" -- \
  --filter keep-all --group-by '$1' --sum '$2' --min '$2' --max '$2' --avg '$2'
if (( $(stat "$WORK/stats" kernel_aggregate_fallbacks) > 4000 )); then
  pass "fallback: $(stat "$WORK/stats" kernel_aggregate_fallbacks) records delivered to user space instead"
else fail "fallback: only $(stat "$WORK/stats" kernel_aggregate_fallbacks) records fell back"; fi

$REF gen groups 3 "$WORK/groups.csv"
check "8000 groups (kernel map: 4096), keys around 64 bytes" "$WORK/groups.csv" ';' 1 "sum:2 max:2" -- \
  -d ';' --filter keep-all --group-by '$1' --sum '$2' --max '$2'
$REF gen long 4 "$WORK/long.csv"
check "records longer than a window" "$WORK/long.csv" , 1 "sum:2 min:2" -- \
  --filter keep-all --group-by '$1' --sum '$2' --min '$2'

# Edge files: empty, no trailing newline, CRLF, NUL bytes, whole record as the value.
: >"$WORK/empty.csv"
check "empty file" "$WORK/empty.csv" , - "sum:1" -- --filter keep-all --sum '$1'
printf '1,a\n2,b\r\n3.5,a\r\n\0,b\n-4\0,a\n5,\0\n7' >"$WORK/edges.csv"
check "CRLF, NUL, no trailing newline" "$WORK/edges.csv" , 2 "sum:1 min:0 avg:1" -- \
  --filter keep-all --group-by '$2' --sum '$1' --avg '$1' --min '$0'

# Against awk: gawk -M (arbitrary precision) on integers, many beyond 2^53 and sums beyond
# 2^64 (the kernel's 64-bit partials fall back there), non-numbers left out of the numbers.
python3 - "$WORK/ints.csv" <<'PY'
import random, sys
r = random.Random(11)
with open(sys.argv[1], "w") as f:
    for i in range(60000):
        k = "g%d" % r.randrange(40)
        v = r.choice([str(r.randrange(-10**6, 10**6)), str(r.randrange(-2**62, 2**62)), "x", ""])
        f.write("%s,%s,%d\n" % (k, v, i))
PY
gawk -M -F, '{ c[$1]++ } $2 ~ /^-?[0-9]+$/ { v = $2 + 0; s[$1] += v; n[$1]++
    if (!($1 in lo) || v < lo[$1]) lo[$1] = v; if (!($1 in hi) || v > hi[$1]) hi[$1] = v }
  END { for (k in c) print k "," c[k] "," (k in n ? s[k] "," lo[k] "," hi[k] : ",,") }' "$WORK/ints.csv" |
  LC_ALL=C sort >"$WORK/ints.awk"
for b in read sockmap; do
  "$SLUICE" scan -b "$b" --filter keep-all --group-by '$1' --sum '$2' --min '$2' --max '$2' "$WORK/ints.csv" | tail -n +2 >"$WORK/ints.$b"
  cmp -s "$WORK/ints.awk" "$WORK/ints.$b" && pass "$b: grouped count/sum/min/max of integers equal gawk -M" \
    || { fail "$b: integer aggregates differ from gawk -M"; diff "$WORK/ints.awk" "$WORK/ints.$b" | head -5; }
done

# -c counts in the kernel too.
for b in read sockmap; do "$SLUICE" scan -c -b "$b" -e ',ok' "$WORK/mixed.csv" >"$WORK/count.$b"; done
if [[ $(cat "$WORK/count.sockmap") == $(grep -c ',ok' "$WORK/mixed.csv") ]] && cmp -s "$WORK/count.read" "$WORK/count.sockmap"; then
  pass "-c in the kernel equals grep -c"; else fail "-c: sockmap $(cat "$WORK/count.sockmap"), read $(cat "$WORK/count.read")"; fi

# Other record formats: a count needs no field, so the kernel counts for every framing (fixed
# records whose windows begin on a record boundary once popped whole: recv() EFAULT); sums
# over CSV fields are cut in user space (the kernel cannot unquote), with the same table.
python3 -c 'import struct, sys; sys.stdout.buffer.write(b"".join(struct.pack("<Iq", i, i % 7 - 3) for i in range(300000)))' \
  >"$WORK/fixed.bin"
want=$(python3 -c 'print(sum(1 for i in range(300000) if i % 7 - 3 >= 0))')
for b in read sockmap; do
  got=$("$SLUICE" scan -b "$b" --format binary --schema 'u32 id, i64 v' --where 'col("v") >= 0' -c "$WORK/fixed.bin" 2>&1)
  [[ $got == "$want" ]] && pass "binary -c on $b: $got" || fail "binary -c on $b: '$(head -c 300 <<<"$got")', want $want"
done
"$SLUICE" scan -b sockmap --format binary --schema 'u32 id, i64 v' --where 'col("v") >= 0' -c --stats --json \
  "$WORK/fixed.bin" >"$WORK/fixed.json" 2>&1
[[ $(stat "$WORK/fixed.json" aggregation) == kernel && $(stat "$WORK/fixed.json" kernel_aggregated_records) -gt 0 ]] && pass "binary -c counted in the kernel" || fail "binary -c was not counted in the kernel"
printf 'k,v\n"a,1",5\n"a,1","6"\nb,"7"\n"b\nc",x\n"b",-1.5\n' >"$WORK/quoted.csv"
for b in read sockmap; do
  "$SLUICE" scan -b "$b" --format csv --header --where 'true' --group-by '$1' --sum '$2' "$WORK/quoted.csv" >"$WORK/quoted.$b" 2>&1
done
printf '$1,count,sum($2)\n"a,1",2,11\nb,2,5.5\n"b\nc",1,\n' >"$WORK/quoted.want"
cmp -s "$WORK/quoted.read" "$WORK/quoted.want" && cmp -s "$WORK/quoted.sockmap" "$WORK/quoted.want" \
  && pass "CSV --group-by/--sum over quoted fields: read and sockmap give the unquoted table" \
  || { fail "CSV aggregates over quoted fields"; diff "$WORK/quoted.want" "$WORK/quoted.sockmap" | head -5; }

# JSON lines: paths by the rules of --where (a string is never a number but groups by its
# decoded text; an exponent is not a number; null, missing and invalid lines: empty key).
printf '%s\n' '{"u":{"id":1},"b":10}' '{"u":{"id":1},"b":2.5}' '{"u":{"id":"\u0032"},"b":"7"}' \
  '{"u":{"id":2},"b":1e3}' 'not json' '{"u":{"id":null},"b":-1}' '{"u":{"id":1},"b":-0.25}' >"$WORK/agg.jsonl"
printf '.u.id,count,sum(.b),max(.b)\n,2,-1,-1\n1,3,12.25,10\n2,2,,\n' >"$WORK/jsonl.want"
for b in read sockmap; do
  "$SLUICE" scan -b "$b" --format jsonl --where 'true' --group-by .u.id --sum .b --max .b "$WORK/agg.jsonl" >"$WORK/jsonl.$b" 2>&1
  cmp -s "$WORK/jsonl.$b" "$WORK/jsonl.want" && pass "JSON lines --group-by/--sum/--max on $b" \
    || { fail "JSON lines aggregates on $b"; diff "$WORK/jsonl.want" "$WORK/jsonl.$b" | head -5; }
done

# The group bound: a clear error and exit 2 on both paths.
$REF gen bound 5 "$WORK/bound.csv"
for b in read sockmap; do
  "$SLUICE" scan -b "$b" --filter keep-all --group-by '$1' --sum '$2' "$WORK/bound.csv" >/dev/null 2>"$WORK/bound.err"
  rc=$?
  if [[ $rc == 2 ]] && grep -q 'more than 100000 groups' "$WORK/bound.err"; then pass "$b: the group bound exits 2 with a clear error"
  else fail "$b: group bound: exit $rc, '$(cat "$WORK/bound.err")'"; fi
done

# A number past 38 digits early in a large file: exit 2 and no table, on every driver, while
# the sender is still feeding the kernel (its abort path once deadlocked on its own mutex).
{ echo "k,1${RANDOM}$(printf '9%.0s' {1..40})"; yes "k,1" | head -c 24M; } >"$WORK/digits.csv"
for driver in sendfile write uring; do
  timeout 60 "$SLUICE" scan -b sockmap --driver "$driver" --filter keep-all --sum '$2' "$WORK/digits.csv" \
    >"$WORK/digits.out" 2>"$WORK/digits.err"
  rc=$?
  if [[ $rc == 2 && ! -s $WORK/digits.out ]] && grep -q 'exceeds 38 significant digits' "$WORK/digits.err"; then
    pass "sockmap/$driver: a 41-digit number stops the scan with exit 2 and no table"
  else fail "sockmap/$driver: 41-digit number: exit $rc (124: hung), '$(head -c 200 "$WORK/digits.err")'"; fi
done

echo "aggregate_test: $failures failure(s)"
[[ $failures == 0 ]]
