#!/usr/bin/env bash
# A sanitizer pass (not part of CI, which keeps under 15 minutes): builds the library, the
# CLI and the C++ tests with AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer
# into build-sanitize/, then runs the unit and network tests and the CLI's differential
# shell tests with that build. About 5 minutes of build and 3 of tests on 2 cores; root for
# the kernel and network tests, as for scripts/test.sh. (The filters' native builds, compiled
# at run time, and the BPF programs are not instrumented.)
#
#   ./scripts/sanitize.sh            # everything below
#   ./scripts/sanitize.sh net_test   # one test program
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O1 $flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
programs=("$@")
if ((${#programs[@]} == 0)); then
  programs=(record_matcher_test scanner_test aggregate_unit_test expr_test ordered_streams_test net_test)
fi
cmake --build build-sanitize -j"$(nproc)" --target "${programs[@]}" sluice-cli sluice-gen
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
failures=0
for p in "${programs[@]}"; do
  echo "== $p" >&2
  # From the build directory: the tests keep their caches and scratch files in the cwd.
  (cd build-sanitize/tests && ./"$p" --gtest_brief=1) || failures=$((failures + 1))
done
if (($# == 0)); then
  for t in net_cli_test.sh expr_differential_test.sh; do
    echo "== $t" >&2
    bash tests/$t build-sanitize/sluice build-sanitize/sluice-gen || failures=$((failures + 1))
  done
  echo "== aggregate_test.sh" >&2
  bash tests/aggregate_test.sh build-sanitize/sluice "$PWD" || failures=$((failures + 1))
fi
echo "sanitize: $failures failing program(s)" >&2
exit $((failures > 0))
