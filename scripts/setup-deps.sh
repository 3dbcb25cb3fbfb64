#!/usr/bin/env bash
# Installs every Debian package that sluice's build, tests, demo and benchmarks need.
# Idempotent: packages already present are skipped, so a second run costs one dpkg query.
# Must run as root (or with sudo available) on Debian 12 (bookworm) or newer.
set -euo pipefail

# Why each package is here (README.md "Dependencies" says the same for users):
packages=(
  build-essential cmake pkg-config     # C++20 toolchain and the one CMake build
  clang-19 llvm-19                     # BPF target (-target bpf -mcpu=v3); llvm-strip for BPF objects;
                                       # also what compiles --where / user C filters at run time
  libclang-rt-19-dev                   # libFuzzer + sanitizer runtimes for clang-19 (tests/fuzz)
  libbpf-dev bpftool                   # loading BPF objects; skeletons and vmlinux.h from the kernel's BTF
  libelf-dev zlib1g-dev                # libbpf's own link dependencies
  liburing-dev                         # the io_uring backend
  libboost-program-options-dev         # the CLI's argument parsing
  libgtest-dev libbenchmark-dev        # unit/differential tests and micro-benchmarks
  fio                                  # storage baselines
  ripgrep gawk mawk grep coreutils     # reference tools for differential tests and peer benchmarks
  python3 python3-matplotlib           # figures (scripts/plot.py)
  iproute2                             # network namespaces, veth and tc for the network tests
  util-linux-extra                     # fincore: the bench test's independent check that cold runs start cold
)

# Node.js and npm: the real-data fetchers (datasets/fetch: the US flights data, which a test
# uses) and the DuckDB peer. A machine's own Node.js (e.g. NodeSource's, which bundles npm)
# is used as it is; Debian's packages only where there is none.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup-deps: all ${#packages[@]} packages present" >&2
  exit 0
fi

sudo_cmd=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "setup-deps: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  sudo_cmd=(sudo)
fi

echo "setup-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
echo "setup-deps: done" >&2
