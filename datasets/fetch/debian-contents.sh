#!/usr/bin/env bash
# Debian archive file lists ("Contents" indices: one line per file, `path  section/package`),
# a log-like text corpus of ~520 MB and ~5.7 M lines, fetched with apt-file.
# DOWNLOADS the Contents indices of the configured apt sources (apt-file update): never run by
# the tests or CI (see datasets/fetch/README.md). Needs root (apt-file update writes
# /var/lib/apt/lists) and the apt-file package (scripts/setup-deps.sh installs it).
#
# usage: datasets/fetch/debian-contents.sh OUT_DIR
# writes OUT_DIR/debian-contents.txt (all Contents files of this architecture, concatenated in
# sorted file-name order), OUT_DIR/debian-contents.manifest, and its SHA-256 into SHA256SUMS.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
command -v apt-file >/dev/null || { echo "debian-contents.sh: apt-file is not installed (apt-get install apt-file)" >&2; exit 2; }
apt-file update >&2
arch=$(dpkg --print-architecture)
mapfile -t files < <(find /var/lib/apt/lists -maxdepth 1 -name "*Contents-${arch}*" -o -maxdepth 1 -name "*Contents-all*" | sort)
((${#files[@]})) || { echo "debian-contents.sh: no Contents files after apt-file update" >&2; exit 1; }
: >"$OUT/debian-contents.txt"
for f in "${files[@]}"; do
  # apt-helper decompresses whatever compression apt used (lz4, gz, xz).
  /usr/lib/apt/apt-helper cat-file "$f" >>"$OUT/debian-contents.txt"
done
{
  echo "source: apt-file update ($(apt-file --version 2>/dev/null | head -n1)), architecture $arch"
  for f in "${files[@]}"; do echo "index: $(basename "$f") sha256 $(sha256sum "$f" | cut -d' ' -f1)"; done
  echo "fetched_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "lines: $(wc -l <"$OUT/debian-contents.txt")"
  echo "bytes: $(stat -c %s "$OUT/debian-contents.txt")"
} >"$OUT/debian-contents.manifest"
(cd "$OUT" && sha256sum debian-contents.txt) >>"$OUT/SHA256SUMS"
sort -u -k2 "$OUT/SHA256SUMS" -o "$OUT/SHA256SUMS"
cat "$OUT/debian-contents.manifest"
