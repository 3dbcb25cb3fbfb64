#!/usr/bin/env bash
# The Linux 6.1 source tree from Debian's linux-source-6.1 package (~1.3 GiB unpacked, ~80k
# files): a many-files corpus for multi-file scans.
# DOWNLOADS the package (apt-get download, ~140 MB; not installed): never run by the tests or
# CI (see datasets/fetch/README.md).
#
# usage: datasets/fetch/linux-source.sh OUT_DIR
# writes OUT_DIR/linux-source-6.1/ (the unpacked tree), OUT_DIR/linux-source.manifest (package
# version, .deb and tarball SHA-256, file count, a digest of the whole tree) and SHA256SUMS lines.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
PKG=${LINUX_SOURCE_PACKAGE:-linux-source-6.1}
TMP=$(mktemp -d "$OUT/.fetch.XXXXXX")
chmod 755 "$TMP"  # apt-get download runs as _apt, which must be able to write here
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && apt-get download "$PKG" >&2)
deb=$(ls "$TMP"/*.deb)
dpkg-deb -x "$deb" "$TMP/x"
tarball=$(ls "$TMP"/x/usr/src/linux-source-*.tar.xz)
rm -rf "$OUT/linux-source-6.1"
mkdir -p "$OUT/linux-source-6.1"
tar -xJf "$tarball" -C "$OUT/linux-source-6.1" --strip-components=1
# One digest for the whole tree: SHA-256 of the sorted list of per-file SHA-256 lines.
tree_digest=$(cd "$OUT/linux-source-6.1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
{
  echo "source: Debian package $PKG $(dpkg-deb -f "$deb" Version)"
  echo "deb_sha256: $(sha256sum "$deb" | cut -d' ' -f1)"
  echo "tarball: $(basename "$tarball") sha256 $(sha256sum "$tarball" | cut -d' ' -f1)"
  echo "files: $(find "$OUT/linux-source-6.1" -type f | wc -l)"
  echo "bytes: $(du -sb "$OUT/linux-source-6.1" | cut -f1)"
  echo "tree_sha256 (sha256 of sorted per-file sha256sum lines): $tree_digest"
  echo "fetched_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$OUT/linux-source.manifest"
echo "$tree_digest  linux-source-6.1/ (tree digest, see linux-source.manifest)" >>"$OUT/SHA256SUMS"
sort -u -k2 "$OUT/SHA256SUMS" -o "$OUT/SHA256SUMS"
cat "$OUT/linux-source.manifest"
