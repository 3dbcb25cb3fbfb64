# Sourced by the shell tests of the sockmap path (after setting SLUICE): a scratch directory
# $WORK (removed on exit), pass/fail with a failure count, and the sockmap probe, which skips
# the test when the path is missing, or fails it when SLUICE_REQUIRE_KERNEL=1.
# usage: source sockmap_support.sh TAG
WORK=$(mktemp -d "$PWD/sluice-$1.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

if ! "$SLUICE" probe --json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if any(c["name"]=="path.sockmap" and c["available"] for c in d["capabilities"]) else 1)'; then
  if [[ ${SLUICE_REQUIRE_KERNEL:-0} == 1 ]]; then echo "FAIL the sockmap path is not available here"; exit 1; fi
  echo "skipped: the sockmap path is not available here"; exit 0
fi
