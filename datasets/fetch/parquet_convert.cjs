#!/usr/bin/env node
// Parquet -> CSV (header line, comma, no quoting needed for this data) and JSON-lines, with
// DuckDB. Prints "rows: N" and the column list.
//   node parquet_convert.cjs NODE_MODULES IN.parquet OUT.csv OUT.jsonl
'use strict';
const path = require('path');
const [modules, input, csvOut, jsonOut] = process.argv.slice(2);
if (!jsonOut) {
  process.stderr.write('usage: parquet_convert.cjs NODE_MODULES IN.parquet OUT.csv OUT.jsonl\n');
  process.exit(2);
}
const q = (s) => "'" + String(s).replace(/'/g, "''") + "'";
(async () => {
  const { DuckDBInstance } = require(path.join(path.resolve(modules), '@duckdb', 'node-api'));
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run(`COPY (SELECT * FROM read_parquet(${q(input)})) TO ${q(csvOut)} (FORMAT CSV, HEADER true)`);
  await con.run(`COPY (SELECT * FROM read_parquet(${q(input)})) TO ${q(jsonOut)} (FORMAT JSON)`);
  const n = (await con.runAndReadAll(`SELECT count(*) FROM read_parquet(${q(input)})`)).getRows()[0][0];
  const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${q(input)})`)).getRows();
  process.stdout.write(`rows: ${n}\ncolumns: ${cols.map((c) => `${c[0]} ${c[1]}`).join(', ')}\n`);
})().catch((e) => {
  process.stderr.write(`parquet_convert: ${e.message || e}\n`);
  process.exit(3);
});
