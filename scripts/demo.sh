#!/usr/bin/env bash
# The main job, from a fresh machine: installs what is missing, builds, generates data
# (1 GiB by default, 1 % of records matching), and prints how sluice's backends compare
# with each other and with grep, ripgrep, mawk and dd, measured side by side in one run
# (interleaved repetitions, medians; every tool's match count checked).
#
#   SLUICE_DEMO_SIZE=256M ./scripts/demo.sh     # a smaller data set
#   SLUICE_DEMO_REPS=5 ./scripts/demo.sh        # more repetitions
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
./scripts/build.sh

size=${SLUICE_DEMO_SIZE:-1G}
reps=${SLUICE_DEMO_REPS:-3}
out=build/demo
backends=read,uring,mmap
if build/sluice probe --json | python3 -c 'import json,sys; sys.exit(0 if any(c["name"]=="path.sockmap" and c["available"] for c in json.load(sys.stdin)["capabilities"]) else 1)'; then
  backends+=,sockmap
else
  echo "demo: the in-kernel sockmap path is not available here (see 'build/sluice probe'); user-space backends only" >&2
fi

echo "demo: $size of ~100-byte records, 1% matching, page cache warm, $reps interleaved repetitions" >&2
build/sluice-bench --out "$out" --file-sizes "$size" --selectivity 1% --filters literal,literal-common,column \
  --backends "$backends" --peers grep-F,rg-no-mmap,rg,mawk,dd --reps "$reps" --reference sluice:read \
  --keep-data --reuse-data

python3 scripts/summarize.py "$out/summary.csv"
echo
echo "demo: full results (CSV/JSON with metadata) in $out; figures: python3 scripts/plot.py $out" >&2
