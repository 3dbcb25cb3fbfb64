#!/usr/bin/env bash
# US flights, 3 million rows (npm package vega-datasets, data/flights-3m.parquet), converted with
# DuckDB (npm @duckdb/node-api) to CSV (with a header line) and JSON-lines.
# DOWNLOADS from the npm registry: never run by the tests or CI (see datasets/fetch/README.md).
#
# usage: datasets/fetch/flights.sh OUT_DIR
# writes OUT_DIR/flights-3m.csv, OUT_DIR/flights-3m.jsonl, OUT_DIR/flights.manifest (sources,
# versions, row counts) and adds their SHA-256 to OUT_DIR/SHA256SUMS.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
VEGA_VERSION=${VEGA_DATASETS_VERSION:-3.2.1}
command -v node >/dev/null && command -v npm >/dev/null || { echo "flights.sh: needs node and npm" >&2; exit 2; }
# Project-local npm prefix (never global): OUT_DIR/npm/node_modules.
npm install --prefix "$OUT/npm" --no-audit --no-fund "vega-datasets@$VEGA_VERSION" @duckdb/node-api >&2
SRC="$OUT/npm/node_modules/vega-datasets/data/flights-3m.parquet"
[[ -f $SRC ]] || { echo "flights.sh: $SRC not in vega-datasets@$VEGA_VERSION" >&2; exit 1; }
node "$HERE/parquet_convert.cjs" "$OUT/npm/node_modules" "$SRC" "$OUT/flights-3m.csv" "$OUT/flights-3m.jsonl" \
  >"$OUT/flights.counts"
{
  echo "source: npm vega-datasets@$VEGA_VERSION data/flights-3m.parquet"
  echo "source_sha256: $(sha256sum "$SRC" | cut -d' ' -f1)"
  echo "converter: @duckdb/node-api $(node -p "require('$OUT/npm/node_modules/@duckdb/node-api/package.json').version")"
  echo "fetched_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  cat "$OUT/flights.counts"
} >"$OUT/flights.manifest"
rm -f "$OUT/flights.counts"
(cd "$OUT" && sha256sum flights-3m.csv flights-3m.jsonl) >>"$OUT/SHA256SUMS"
sort -u -k2 "$OUT/SHA256SUMS" -o "$OUT/SHA256SUMS"
cat "$OUT/flights.manifest"
