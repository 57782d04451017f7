/**
 * Raw PostgreSQL baselines for the PostgreSQL benchmark: `psql --csv` for result rows, and
 * `pgbench` for tile SQL, both as the same login role Graticule uses, over TCP.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PG_BIN_DIR } from './pg-cluster.mjs';
import { summarize } from './stats.mjs';

const OUTPUT_LIMIT = 2000;

/** A client program from the cluster's own install, or the PATH's. */
function clientProgram(name) {
  const local = path.join(PG_BIN_DIR, name);
  return existsSync(local) ? local : name;
}

function connectionArgs(info) {
  return ['-h', info.host, '-p', String(info.port), '-U', info.username];
}

/** Runs a program to completion; resolves with its exit code, stderr and milliseconds. */
function run(file, args, { env, stdout }) {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(file, args, { env, stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-OUTPUT_LIMIT)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, ms: performance.now() - startedAt }));
  });
}

const clientEnv = (info) => ({ ...process.env, PGPASSWORD: info.password, PGAPPNAME: 'bench' });

/**
 * Milliseconds for `psql --csv -c sql > /dev/null`: the server's work plus libpq reading and
 * psql printing every row, which is what any client does with a result.
 */
export async function timePsql(info, sql) {
  const devNull = openSync('/dev/null', 'w');
  try {
    const args = ['-X', '-q', '--csv', ...connectionArgs(info), '-d', info.database, '-c', sql];
    const result = await run(clientProgram('psql'), args, {
      env: clientEnv(info),
      stdout: devNull,
    });
    if (result.code !== 0) throw new Error(`psql exited ${result.code}: ${result.stderr}`);
    return result.ms;
  } finally {
    closeSync(devNull);
  }
}

/** pgbench's per-transaction log lines: `client xact latency_us script epoch us`. */
function readLatencies(dir, prefix) {
  const files = readdirSync(dir).filter((name) => name.startsWith(`${prefix}.`));
  const latencies = [];
  for (const name of files) {
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      const fields = line.split(' ');
      if (fields.length >= 3) latencies.push(Number(fields[2]) / 1000);
    }
  }
  return latencies;
}

function numberAfter(text, pattern) {
  const match = pattern.exec(text);
  return match ? Number(match[1]) : NaN;
}

/**
 * Runs `pgbench -c clients -j threads -T seconds` over `scripts` ({sql, weight}), each chosen
 * at random in proportion to its weight, with the extended protocol (unnamed statements, as
 * Graticule's driver sends them). Resolves with tps, latency percentiles and the SQL errors.
 */
export async function runPgbench(info, scripts, { clients, threads, seconds, workDir, tag }) {
  const fileArgs = scripts.flatMap((script, i) => {
    const file = path.join(workDir, `${tag}-${i}.sql`);
    writeFileSync(file, `${script.sql.trim()};\n`);
    return ['-f', `${file}@${script.weight}`];
  });
  const logPrefix = path.join(workDir, tag);
  const outPath = path.join(workDir, `${tag}-report.txt`);
  const out = openSync(outPath, 'w');
  const args = [
    ...['-n', '-M', 'extended', '-c', String(clients), '-j', String(threads)],
    ...['-T', String(seconds), '-l', `--log-prefix=${logPrefix}`],
    ...fileArgs,
    ...connectionArgs(info),
    info.database,
  ];
  let result;
  try {
    result = await run(clientProgram('pgbench'), args, { env: clientEnv(info), stdout: out });
  } finally {
    closeSync(out);
  }
  const report = readFileSync(outPath, 'utf8');
  if (result.code !== 0) {
    throw new Error(`pgbench exited ${result.code}:\n${report}\n${result.stderr}`);
  }
  const latency = summarize(readLatencies(workDir, tag));
  return {
    transactions: numberAfter(report, /actually processed: (\d+)/),
    failed: numberAfter(report, /number of failed transactions: (\d+)/) || 0,
    tps: numberAfter(report, /tps = ([\d.]+) \(without initial connection time\)/),
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    maxMs: latency.max,
  };
}

/** A SQL literal for one bind value, so a bound statement can run as a pgbench script. */
function literal(value) {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot inline ${value}`);
    return `(${String(value)})`;
  }
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  throw new Error(`cannot inline a ${typeof value} bind value`);
}

/** `sql` with `$n` replaced by the literal of `params[n - 1]`; every `$n` is a bind here. */
export function inlineParams(sql, params) {
  return sql.replace(/\$(\d+)/g, (_, n) => literal(params[Number(n) - 1]));
}

/**
 * The plain tile SQL of the floor (run_pgbench.sh), for a 4326 column: ST_AsMVT over
 * ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y)), index-filtered by the
 * buffered envelope in 4326. The reference for what the simplest possible query costs.
 */
export function floorTileSql(tile, extent, layer) {
  const { z, x, y } = tile;
  const buffer = Math.round(extent / 16);
  return `SELECT ST_AsMVT(q, '${layer}', ${extent}, 'mvtgeom') FROM (
  SELECT cartodb_id, name, category, value,
         ST_AsMVTGeom(ST_Transform(the_geom, 3857), ST_TileEnvelope(${z}, ${x}, ${y}),
                      ${extent}, ${buffer}, true) AS mvtgeom
  FROM points
  WHERE the_geom && ST_Transform(
    ST_TileEnvelope(${z}, ${x}, ${y}, margin => ${buffer}.0 / ${extent}), 4326)
) q`;
}
