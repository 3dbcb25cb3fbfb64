#!/usr/bin/env bash
# libsluice is usable by an application once installed: installs the build into a temporary
# prefix, then builds runtime/examples/count_matches.cpp against it
#   (a) as a standalone CMake project through find_package(sluice),
#   (b) with g++ and pkg-config (static library: --static brings libbpf/liburing),
# and runs both builds, comparing their counts with grep -c -F; (c) checks the installed
# headers (present, and each public C++ header compiles on its own).
#
#   bash tests/install_test.sh BUILD_DIR SOURCE_DIR
#
# Prints one line per check; exits 1 if any check failed, 2 on bad usage or setup failure.
set -u
export LC_ALL=C

BUILD=${1:-}
SRC=${2:-}
if [[ -z $BUILD || -z $SRC || ! -f $BUILD/CMakeCache.txt || ! -f $SRC/runtime/examples/count_matches.cpp ]]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR (a configured and built build directory, the source tree)" >&2
  exit 2
fi
BUILD=$(cd "$BUILD" && pwd)
SRC=$(cd "$SRC" && pwd)
TMP=$(mktemp -d "$BUILD/install-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix
EXAMPLE=$SRC/runtime/examples

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
# run_logged LOG command...: runs quietly, shows the log tail on failure.
run_logged() {
  local log=$1
  shift
  if "$@" >"$log" 2>&1; then return 0; fi
  echo "    \$ $*" && tail -n 25 "$log" | sed 's/^/    | /'
  return 1
}

# Where the install puts things, as this build was configured (lib, or lib/<multiarch>
# for a /usr prefix on Debian).
cache_var() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
LIBDIR=$(cache_var CMAKE_INSTALL_LIBDIR)
INCLUDEDIR=$(cache_var CMAKE_INSTALL_INCLUDEDIR)
[[ $LIBDIR == /* ]] || LIBDIR=$PREFIX/${LIBDIR:-lib}
[[ $INCLUDEDIR == /* ]] || INCLUDEDIR=$PREFIX/${INCLUDEDIR:-include}

echo "# installing $BUILD into $PREFIX"
if ! run_logged "$TMP/install.log" cmake --install "$BUILD" --prefix "$PREFIX"; then
  bad "cmake --install"
  echo "# $passed passed, $failed failed"
  exit 1
fi
ok "cmake --install --prefix (libdir $LIBDIR)"
for f in "$LIBDIR/libsluice.a" "$LIBDIR/cmake/sluice/sluiceConfig.cmake" "$LIBDIR/cmake/sluice/sluiceConfigVersion.cmake" \
         "$LIBDIR/cmake/sluice/sluiceTargets.cmake" "$LIBDIR/pkgconfig/sluice.pc"; do
  [[ -f $f ]] && ok "installed ${f#"$PREFIX"/}" || bad "not installed: ${f#"$PREFIX"/}"
done

# (c) Headers: the C++ API and the filter ABI headers it builds on.
for h in sluice/scanner.hpp sluice/filter.hpp sluice/error.hpp sluice/stats.hpp sluice/report.hpp \
         sluice/bpf_program.hpp sluice/probe.hpp sluice/filter.h sluice/filters/fixed_string.h; do
  [[ -f $INCLUDEDIR/$h ]] && ok "header $h installed" || bad "header $h missing from $INCLUDEDIR"
done
# Each public C++ header compiles alone from the install (no dependence on the source tree).
for h in "$INCLUDEDIR"/sluice/*.hpp; do
  name=sluice/${h##*/}
  if echo "#include <$name>" | g++ -std=c++20 -fsyntax-only -x c++ -I"$INCLUDEDIR" - >"$TMP/header.log" 2>&1; then
    ok "header $name is self-contained"
  else
    bad "header $name does not compile alone: $(head -c 300 "$TMP/header.log")"
  fi
done

# Test data: matches at start, middle and end of records, a CR before '\n' (part of the
# record), empty records, a last record without '\n', a file without matches, and a file of
# several MiB so records straddle the 1 MiB read chunks.
PATTERN=needle
printf 'needle first\nmiddle needle here\n\nno match\nends with needle\r\nneedneedle\nneedl\n\nlast needle' >"$TMP/small.txt"
printf 'nothing\nto see\n' >"$TMP/none.txt"
awk 'BEGIN { for (i = 1; i <= 250000; i++) if (i % 7 == 0) print "row " i " has a needle in it"; else print "row " i " has nothing" }' \
  >"$TMP/large.txt"
FILES=("$TMP/small.txt" "$TMP/none.txt" "$TMP/large.txt")
expected=""
for f in "${FILES[@]}"; do expected+="$f:$(grep -c -F -- "$PATTERN" "$f")"$'\n'; done
total=0
for f in "${FILES[@]}"; do total=$((total + $(grep -c -F -- "$PATTERN" "$f"))); done

# check_program NAME BINARY: counts equal grep -c -F, statistics printed, exit codes, errors.
check_program() {
  local name=$1 bin=$2 rc
  "$bin" "$PATTERN" "${FILES[@]}" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [[ $rc -eq 0 ]] && ok "$name: exit 0 when records match" || bad "$name: exit $rc with matches: $(head -c 300 "$TMP/err")"
  if [[ "$(cat "$TMP/out")"$'\n' == "$expected" ]]; then
    ok "$name: per-file counts equal grep -c -F ($(tr '\n' ' ' <"$TMP/out" | sed "s|$TMP/||g"))"
  else
    bad "$name: counts differ from grep -c -F: got [$(tr '\n' ' ' <"$TMP/out")], expected [$(tr '\n' ' ' <<<"$expected")]"
  fi
  if grep -Eq "^records out +$total\$" "$TMP/err" && grep -q '^backend ' "$TMP/err"; then
    ok "$name: statistics printed (records out $total)"
  else
    bad "$name: statistics missing or wrong: $(head -c 400 "$TMP/err")"
  fi
  "$bin" "$PATTERN" "$TMP/none.txt" >/dev/null 2>&1
  rc=$?
  [[ $rc -eq 1 ]] && ok "$name: exit 1 without a match" || bad "$name: exit $rc without a match, wanted 1"
  "$bin" "$PATTERN" "$TMP/missing.txt" "$TMP/small.txt" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  if [[ $rc -eq 2 ]] && grep -qF "$TMP/missing.txt: No such file or directory" "$TMP/err" &&
     grep -qF "$TMP/small.txt:" "$TMP/out"; then
    ok "$name: a missing file is reported by name, exit 2, other files still counted"
  else
    bad "$name: missing file: exit $rc, stderr: $(head -c 300 "$TMP/err")"
  fi
}

# (a) find_package(sluice) from a standalone CMake project. The package registries are
# off so that only the temporary prefix can provide sluice.
echo "# (a) CMake: find_package(sluice) with CMAKE_PREFIX_PATH=$PREFIX"
if run_logged "$TMP/cmake-configure.log" cmake -S "$EXAMPLE" -B "$TMP/cmake-build" -DCMAKE_PREFIX_PATH="$PREFIX" \
     -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF; then
  found=$(sed -n 's/^sluice_DIR:PATH=//p' "$TMP/cmake-build/CMakeCache.txt")
  [[ $found == "$PREFIX"/* ]] && ok "find_package(sluice) found the installed package ($found)" \
                              || bad "find_package(sluice) found $found, not the temporary install"
  if run_logged "$TMP/cmake-build.log" cmake --build "$TMP/cmake-build" -j2; then
    ok "example builds with CMake"
    check_program "cmake build" "$TMP/cmake-build/count_matches"
  else
    bad "example does not build with CMake"
  fi
else
  bad "example project does not configure with find_package(sluice)"
fi

# (b) pkg-config. libsluice is static, so --static adds its private dependencies
# (Libs.private, and libbpf/liburing from Requires.private).
echo "# (b) pkg-config: PKG_CONFIG_PATH=$LIBDIR/pkgconfig pkg-config --cflags --libs --static sluice"
if flags=$(PKG_CONFIG_PATH="$LIBDIR/pkgconfig" pkg-config --cflags --libs --static sluice 2>"$TMP/pc.err"); then
  ok "pkg-config: $flags"
  pc_prefix=$(PKG_CONFIG_PATH="$LIBDIR/pkgconfig" pkg-config --variable=libdir sluice)
  [[ $(cd "$pc_prefix" 2>/dev/null && pwd) == "$(cd "$LIBDIR" && pwd)" ]] \
    && ok "sluice.pc points at the prefix it was installed to" \
    || bad "sluice.pc libdir is $pc_prefix, not $LIBDIR (not relocated with --prefix)"
  # shellcheck disable=SC2086  # the flags are words
  if run_logged "$TMP/pc-build.log" g++ -std=c++20 -O2 "$EXAMPLE/count_matches.cpp" -o "$TMP/count_matches_pc" $flags; then
    ok "example builds with g++ and pkg-config"
    check_program "pkg-config build" "$TMP/count_matches_pc"
  else
    bad "example does not build with g++ and pkg-config"
  fi
else
  bad "pkg-config does not know sluice: $(cat "$TMP/pc.err")"
fi

echo "# $passed passed, $failed failed"
[[ $failed -eq 0 ]]
