#!/usr/bin/env node
// DuckDB as a sluice-bench peer: counts the records of a headerless CSV file that contain a
// literal (the whole line, like grep -F) or whose column N is greater than a number, and
// prints the count alone on stdout.
//
//   node duckdb_count.cjs --modules DIR --file F --contains LITERAL [--threads N]
//   node duckdb_count.cjs --modules DIR --file F --column N --ncolumns K --greater-than T
//                         [--delimiter ,] [--threads N]
//
// --modules is the node_modules directory holding @duckdb/node-api (installed project-locally,
// see docs/benchmarking.md). Exit status 2 on bad arguments, 3 when DuckDB fails.
'use strict';
const path = require('path');

function parseArgs(argv) {
  const out = { threads: '1', delimiter: ',' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (!k.startsWith('--') || v === undefined) usage(`bad argument '${k}'`);
    out[k.slice(2).replace(/-/g, '_')] = v;
  }
  if (!out.modules || !out.file) usage('--modules and --file are required');
  if ((out.contains === undefined) === (out.column === undefined)) usage('give --contains or --column');
  return out;
}

function usage(msg) {
  process.stderr.write(`duckdb_count: ${msg}\n`);
  process.exit(2);
}

function sqlString(s) {
  return "'" + String(s).replace(/'/g, "''") + "'";
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const { DuckDBInstance } = require(path.join(path.resolve(a.modules), '@duckdb', 'node-api'));
  const threads = parseInt(a.threads, 10);
  if (!(threads >= 1)) usage('--threads must be >= 1');
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await instance.connect();
  let sql;
  if (a.contains !== undefined) {
    // One VARCHAR column per line: a delimiter byte that never occurs in text data, no quoting.
    sql = `SELECT count(*) AS n FROM read_csv(${sqlString(a.file)}, columns={'line': 'VARCHAR'}, ` +
      `header=false, delim=E'\\x1f', quote='', escape='', auto_detect=false, new_line='\\n') ` +
      `WHERE contains(line, ${sqlString(a.contains)})`;
  } else {
    const col = parseInt(a.column, 10);
    const ncol = parseInt(a.ncolumns, 10);
    const t = a.greater_than;
    if (!(col >= 1 && ncol >= col)) usage('--column must be in 1..--ncolumns');
    if (!/^-?[0-9]+$/.test(t)) usage('--greater-than must be an integer');
    const cols = [];
    for (let i = 1; i <= ncol; i++) cols.push(`'c${i}': '${i === col ? 'BIGINT' : 'VARCHAR'}'`);
    sql = `SELECT count(*) AS n FROM read_csv(${sqlString(a.file)}, columns={${cols.join(', ')}}, ` +
      `header=false, delim=${sqlString(a.delimiter)}, quote='', escape='', auto_detect=false) ` +
      `WHERE c${col} > ${t}`;
  }
  const reader = await con.runAndReadAll(sql);
  const rows = reader.getRows();
  process.stdout.write(`${rows[0][0]}\n`);
}

main().catch((e) => {
  process.stderr.write(`duckdb_count: ${e && e.message ? e.message : e}\n`);
  process.exit(3);
});
