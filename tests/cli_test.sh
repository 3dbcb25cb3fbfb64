#!/usr/bin/env bash
# sluice scan behaves like grep at the command line: output, counts, prefixes, exit codes,
# and a clear message with exit 2 for every kind of bad input.
# usage: cli_test.sh SLUICE_BINARY
set -u
SLUICE=$1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-cli-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

# expect_exit NAME CODE MESSAGE_SUBSTRING -- command...
expect_exit() {
  local name=$1 code=$2 msg=$3
  shift 4
  "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if [[ $rc -ne $code ]]; then fail "$name: exit $rc, wanted $code ($(head -c 300 "$WORK/err"))"; return; fi
  if [[ -n $msg ]] && ! grep -qF -- "$msg" "$WORK/err"; then fail "$name: stderr lacks '$msg': $(head -c 300 "$WORK/err")"; return; fi
  pass "$name"
}

printf 'alpha,1\nbeta,20\ngamma,300\nalphabet,4000\n' >"$WORK/a.csv"
printf 'nothing here\n' >"$WORK/b.csv"

# Output and exit codes follow grep.
expect_exit "match exits 0" 0 "" -- "$SLUICE" scan -F -e alpha "$WORK/a.csv"
[[ "$(cat "$WORK/out")" == $'alpha,1\nalphabet,4000' ]] && pass "matching records printed" || fail "matching records: $(cat "$WORK/out")"
expect_exit "no match exits 1" 1 "" -- "$SLUICE" scan -e zzz "$WORK/a.csv"
[[ ! -s "$WORK/out" ]] && pass "no output without a match" || fail "output without a match"
expect_exit "pattern as first operand" 0 "" -- "$SLUICE" scan beta "$WORK/a.csv"
[[ "$(cat "$WORK/out")" == "beta,20" ]] && pass "grep-style operand pattern" || fail "operand pattern: $(cat "$WORK/out")"
expect_exit "count" 0 "" -- "$SLUICE" scan -c -e alpha "$WORK/a.csv"
[[ "$(cat "$WORK/out")" == "2" ]] && pass "-c prints the count" || fail "-c: $(cat "$WORK/out")"
expect_exit "several files" 0 "" -- "$SLUICE" scan -e a "$WORK/a.csv" "$WORK/b.csv"
[[ "$(head -1 "$WORK/out")" == "$WORK/a.csv:alpha,1" ]] && pass "FILE: prefix with several files" || fail "prefix: $(head -1 "$WORK/out")"
"$SLUICE" scan -c -e alpha "$WORK/a.csv" "$WORK/b.csv" >"$WORK/out"
[[ "$(cat "$WORK/out")" == "$WORK/a.csv:2"$'\n'"$WORK/b.csv:0" ]] && pass "-c per file" || fail "-c per file: $(cat "$WORK/out")"
expect_exit "column compare" 0 "" -- "$SLUICE" scan --column 2 --op '>' --value 100 "$WORK/a.csv"
[[ "$(cat "$WORK/out")" == $'gamma,300\nalphabet,4000' ]] && pass "column compare output" || fail "column: $(cat "$WORK/out")"
expect_exit "invert + ignore case" 0 "" -- "$SLUICE" scan -v -i -e ALPHA "$WORK/a.csv"
[[ "$(cat "$WORK/out")" == $'beta,20\ngamma,300' ]] && pass "-v -i" || fail "-v -i: $(cat "$WORK/out")"
expect_exit "keep-none" 1 "" -- "$SLUICE" scan --filter keep-none "$WORK/a.csv"

# Statistics, for people and as JSON.
expect_exit "stats" 0 "records out" -- "$SLUICE" scan --stats -e alpha "$WORK/a.csv"
grep -q "records in                     4" "$WORK/err" && pass "stats count records in" || fail "stats: $(cat "$WORK/err")"
"$SLUICE" scan -c --json --stats -e alpha "$WORK/a.csv" >"$WORK/json" 2>"$WORK/err"
if python3 - "$WORK/json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["files"][0]
assert f["matches"] == 2, f
s = f["stats"]
for k in ("bytes_read", "bytes_delivered", "records_in", "records_out", "wall_seconds", "user_cpu_seconds", "system_cpu_seconds"):
    assert k in s, k
assert s["records_in"] == 4 and s["records_out"] == 2 and s["bytes_read"] == 40, s
PY
then pass "--json report"; else fail "--json report: $(cat "$WORK/json")"; fi

# Bad input: a clear message and exit 2, never a crash.
expect_exit "missing file" 2 "$WORK/missing.csv: No such file or directory" -- "$SLUICE" scan -e a "$WORK/missing.csv"
expect_exit "directory" 2 "is a directory" -- "$SLUICE" scan -e a "$WORK"
expect_exit "no pattern" 2 "no pattern given" -- "$SLUICE" scan
expect_exit "no file" 2 "no input file" -- "$SLUICE" scan -e a
expect_exit "bad column" 2 "column numbers start at 1" -- "$SLUICE" scan --column 0 --op '>' --value 1 "$WORK/a.csv"
expect_exit "non-numeric column" 2 "" -- "$SLUICE" scan --column abc --op '>' --value 1 "$WORK/a.csv"
expect_exit "bad op" 2 "unknown comparison" -- "$SLUICE" scan --column 2 --op '=>' --value 1 "$WORK/a.csv"
expect_exit "bad value" 2 "is not a 64-bit integer" -- "$SLUICE" scan --column 2 --op '>' --value 1x "$WORK/a.csv"
expect_exit "bad decimal" 2 "is not a decimal number" -- "$SLUICE" scan --column 2 --op '>' --type decimal --value 1..2 "$WORK/a.csv"
expect_exit "incomplete compare" 2 "needs --column N, --op OP and --value V" -- "$SLUICE" scan --column 2 "$WORK/a.csv"
expect_exit "bad backend" 2 "unknown backend" -- "$SLUICE" scan -b nope -e a "$WORK/a.csv"
expect_exit "direct needs uring" 2 "--direct needs --backend uring" -- "$SLUICE" scan --direct -e a "$WORK/a.csv"
expect_exit "unknown option" 2 "unrecognised option" -- "$SLUICE" scan --frobnicate -e a "$WORK/a.csv"
expect_exit "unknown command" 2 "unknown command" -- "$SLUICE" frobnicate
expect_exit "too many patterns" 2 "at most 8" -- "$SLUICE" scan -e 1 -e 2 -e 3 -e 4 -e 5 -e 6 -e 7 -e 8 -e 9 "$WORK/a.csv"
expect_exit "error in one file of two" 2 "No such file" -- "$SLUICE" scan -e alpha "$WORK/a.csv" "$WORK/missing.csv"
grep -q "alpha,1" "$WORK/out" && pass "other files still scanned after an error" || fail "output lost after an error"

# An unreadable file: as root every file is readable, so drop to an unprivileged user.
if command -v setpriv >/dev/null && [[ $EUID -eq 0 ]]; then
  cp "$WORK/a.csv" "$WORK/secret.csv"; chmod 600 "$WORK/secret.csv"; chmod 755 "$WORK"
  expect_exit "unreadable file" 2 "Permission denied" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$SLUICE" scan -e a "$WORK/secret.csv"
else
  chmod 000 "$WORK/b.csv"
  expect_exit "unreadable file" 2 "Permission denied" -- "$SLUICE" scan -e a "$WORK/b.csv"
fi

echo "cli_test: $failures failure(s)"
[[ $failures -eq 0 ]]
