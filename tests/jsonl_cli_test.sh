#!/usr/bin/env bash
# sluice scan --format jsonl from the command line: every predicate of tests/jsonl_reference.py
# keeps what python3's json module keeps (read and sockmap; the library test covers uring and
# mmap), --select prints JSON values as they appear, and bad input exits 2 with a message.
# usage: jsonl_cli_test.sh SLUICE_BINARY TESTS_DIR
set -u
SLUICE=$1
REF="python3 $2/jsonl_reference.py"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-jsonl-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

$REF generate 7 "$WORK/data.jsonl" || { echo "FAIL generating data"; exit 1; }
$REF expressions >"$WORK/expressions"
$REF evaluate "$WORK/data.jsonl" >"$WORK/kept"
# the records by number, to print what python keeps
python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
data = open(work + "/data.jsonl", "rb").read()
records = data.split(b"\n")
with open(work + "/kept", "rb") as k:
    for i, line in enumerate(k):
        with open("%s/want.%d" % (work, i), "wb") as out:
            for n in line.split():
                out.write(records[int(n)] + b"\n")
PY
i=0
while IFS= read -r expression; do
  for backend in read sockmap; do
    "$SLUICE" scan --format jsonl -b "$backend" --where "$expression" "$WORK/data.jsonl" >"$WORK/got" 2>"$WORK/err"
    rc=$?
    if [[ $rc -gt 1 ]]; then
      fail "$backend: $expression: exit $rc: $(head -c 300 "$WORK/err")"
    elif cmp -s "$WORK/got" "$WORK/want.$i"; then
      pass "$backend: $expression ($(wc -l <"$WORK/got") records)"
    else
      fail "$backend: $expression: $(wc -l <"$WORK/got") records, python $(wc -l <"$WORK/want.$i")"
    fi
  done
  i=$((i + 1))
done <"$WORK/expressions"

# --select: JSON values as they appear in the record, joined by the delimiter; empty when
# missing or when the record is not valid JSON.
printf '%s\n' '{"id":1,"user":{"name":"b\u00e9","tags":[1, 2]},"a,b":true,"n":null}' \
  '{"id":2,"user":"x"}' 'not json' '{"id":3,"id":4.50}' >"$WORK/sel.jsonl"
"$SLUICE" scan --format jsonl -e '' --select '.id,.user.name,.user.tags,."a,b",.n' -d '\t' "$WORK/sel.jsonl" >"$WORK/got"
printf '1\t"b\\u00e9"\t[1, 2]\ttrue\tnull\n2\t\t\t\t\n\t\t\t\t\n4.50\t\t\t\t\n' >"$WORK/want"
cmp -s "$WORK/got" "$WORK/want" && pass "--select prints JSON values" || fail "--select: $(cat -A "$WORK/got")"
"$SLUICE" scan --format jsonl --where '.user.name == "bé"' --select '$0' "$WORK/sel.jsonl" >"$WORK/got"
[[ "$(cat "$WORK/got")" == "$(head -1 "$WORK/sel.jsonl")" ]] && pass "--select \$0 with a decoded match" || fail "--select \$0: $(cat "$WORK/got")"

# expect_exit NAME MESSAGE_SUBSTRING -- command...: exit 2 and the message
expect_error() {
  local name=$1 msg=$2
  shift 3
  "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if [[ $rc -ne 2 ]]; then fail "$name: exit $rc, wanted 2"; return; fi
  grep -qF -- "$msg" "$WORK/err" && pass "$name" || fail "$name: stderr lacks '$msg': $(head -c 300 "$WORK/err")"
}
expect_error "path without jsonl" "a JSON path needs --format jsonl" -- "$SLUICE" scan --where '.id == 1' "$WORK/sel.jsonl"
expect_error "\$N with jsonl" "fields are JSON paths" -- "$SLUICE" scan --format jsonl --where '$2 == 1' "$WORK/sel.jsonl"
expect_error "bad path" "expected a member name after '.'" -- "$SLUICE" scan --format jsonl --where '.a. == 1' "$WORK/sel.jsonl"
expect_error "select \$N with jsonl" "select JSON paths" -- "$SLUICE" scan --format jsonl -e '' --select '$2' "$WORK/sel.jsonl"
expect_error "select path without jsonl" "needs --format jsonl" -- "$SLUICE" scan -e '' --select '.id' "$WORK/sel.jsonl"
expect_error "aggregate over \$N with jsonl" "aggregate over JSON paths" -- "$SLUICE" scan --format jsonl --where 'true' --sum '$2' "$WORK/sel.jsonl"
expect_error "aggregate over a path without jsonl" "a JSON path needs --format jsonl" -- "$SLUICE" scan -e '' --sum '.id' "$WORK/sel.jsonl"
"$SLUICE" verify --format jsonl --where '.user.name == "bé" or contains(.user.tags, "1")' >"$WORK/out" 2>&1
[[ $? -eq 0 && $(grep -c " loads: " "$WORK/out") -eq 2 ]] && pass "verify: both hosts load a JSON filter" || fail "verify: $(cat "$WORK/out")"

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
