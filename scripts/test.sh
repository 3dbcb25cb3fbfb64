#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, builds, runs ctest.
# Kernel tests need root; CI (.ci/run) sets SLUICE_REQUIRE_KERNEL=1 so that a missing
# capability fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
./scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
