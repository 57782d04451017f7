/**
 * Graticule on a PostgreSQL/PostGIS connection, each figure beside its raw-PostgreSQL baseline
 * measured in the same run on this machine (absolute figures move between machines; ratios
 * much less):
 *
 * 1. SQL API rows/s for a 100k- and a 1M-row SELECT against `psql --csv` to /dev/null (median
 *    of a few repetitions), as JSON (the SQL API's answer) and as CSV (`Accept: text/csv`,
 *    written by PostgreSQL's COPY), and the server's RSS growth while it streams the 1M rows.
 * 2. MVT tiles at z8 and z12, 8 clients for a fixed time, uncached (tile cache off), against
 *    `pgbench -c 8 -j 2` running Graticule's own tile SQL on the same weighted tile list, and
 *    the floor's plain ST_AsMVT SQL as a second reference.
 * 3. The pool: a burst of slow statements on a 10-session connection: answers, 503s, sessions
 *    seen in pg_stat_activity, the longest wait and /health latency meanwhile.
 *
 * It starts its own throwaway cluster (initdb into a temp directory, fsync off, password auth
 * on a free loopback port), loads the floor's points table, starts `node dist/main.js` (run
 * `npm run build` first) and removes everything at the end, also on failure. It prints; it does
 * not fail on targets, only on failed requests and wrong answers (row counts, empty tiles,
 * sessions over the pool size). JSON goes to bench/out/postgres-<time>.json.
 *
 * Run: node bench/postgres.mjs   (or npm run bench:postgres)
 * Settings (environment):
 *   BENCH_PG_POINTS (1000000)     rows in the points table; the 1M query returns at most this
 *   BENCH_PG_REPS (3)             repetitions of each SQL size, per side
 *   BENCH_PG_TILE_SECONDS (10)    length of each tile load run, per side and zoom
 *   BENCH_PG_TILES (50)           points drawn per zoom; the tiles around them are the list
 *   BENCH_PG_ZOOMS ("8,12")       zooms to load
 *   BENCH_PG_BURST (200)          concurrent statements in the pool burst
 *   BENCH_PG_SEED (20240601)      seed of the tile draw and of the load's tile choice
 *   BENCH_PG_BIN_DIR (/usr/lib/postgresql/15/bin)  initdb, pg_ctl, postgres, psql, pgbench
 *   BENCH_PG_SERVER_NODE_ARGS ("")  extra node flags for the server, e.g. "--cpu-prof"
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';
import { connectAs, loadPoints, startCluster } from './lib/pg-cluster.mjs';
import { StreamingClient, bearer, issueToken } from './lib/pg-http.mjs';
import {
  measurePool,
  measureSqlRows,
  measureTiles,
  samplePoints,
  sqlPathFor,
} from './lib/pg-phases.mjs';
import { printReport } from './lib/pg-report.mjs';
import {
  createConnection,
  killGraticule,
  startGraticule,
  stopGraticule,
  tileTemplate,
} from './lib/pg-server.mjs';
import { CLIENT_ID, CLIENT_SECRET, MAIN_JS, scanServerLog } from './lib/server.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const CONNECTION = 'pg_bench';
const MAX_FEATURES = 10_000;
const POOL_SIZE = 10;
const CONCURRENCY = 8;
// pgbench threads: one per core of the 2-core machine the floor was measured on.
const PGBENCH_THREADS = 2;
const SLEEP_SECONDS = 0.2;

const settings = {
  points: Number(process.env.BENCH_PG_POINTS ?? 1_000_000),
  reps: Number(process.env.BENCH_PG_REPS ?? 3),
  tileSeconds: Number(process.env.BENCH_PG_TILE_SECONDS ?? 10),
  tilesPerZoom: Number(process.env.BENCH_PG_TILES ?? 50),
  zooms: (process.env.BENCH_PG_ZOOMS ?? '8,12').split(',').map(Number),
  burst: Number(process.env.BENCH_PG_BURST ?? 200),
  seed: Number(process.env.BENCH_PG_SEED ?? 20240601),
};

const progress = (message) => process.stderr.write(`[bench:postgres] ${message}\n`);
let tempRoot;
let cluster;
let logPath;

/** Synchronous, so it also runs from the exit handler after a failure or a signal. */
function cleanUp() {
  killGraticule();
  cluster?.destroySync();
  cluster = undefined;
  if (tempRoot) rmSync(tempRoot, { recursive: true, force: true });
  tempRoot = undefined;
}

function printServerLogTail() {
  if (!logPath || !existsSync(logPath)) return;
  const lines = readFileSync(logPath, 'utf8').trimEnd().split('\n');
  console.error(`last server output:\n${lines.slice(-30).join('\n')}`);
}

/**
 * The points table's columns as Graticule's inspection describes them, so its own tile SQL
 * builder (compiled in dist/) writes the statement the server sends.
 */
const POINT_FIELDS = [
  { name: 'cartodb_id', nativeType: 'int8', cartoType: 'bigint' },
  { name: 'the_geom', nativeType: 'geometry', cartoType: 'geometry' },
  { name: 'name', nativeType: 'text', cartoType: 'string' },
  { name: 'category', nativeType: 'int4', cartoType: 'number' },
  { name: 'value', nativeType: 'float8', cartoType: 'number' },
];

/**
 * Graticule's native MVT tile query for the points table as a function of the tile, or null
 * when the compiled builder is missing or its shape changed (then only the floor SQL runs).
 */
async function loadTileSqlBuilder(tileResolution) {
  const module = (name) => pathToFileURL(path.join(path.dirname(MAIN_JS), 'maps/tiles', name));
  try {
    const { buildMvtTileQuery } = await import(module('tile-mvt-sql.js'));
    const { MVT_LAYER_NAME } = await import(module('mvt-encoder.js'));
    // As the server draws tiles: every feature carries `_carto_feature_id`, its geometry's hash.
    const source = {
      fromSql:
        '(SELECT *, md5(ST_AsBinary("the_geom")) AS "_carto_feature_id" FROM "points") ' +
        'AS "_features"',
      params: [],
      geomColumn: 'the_geom',
      properties: [
        ...POINT_FIELDS,
        { name: '_carto_feature_id', nativeType: 'text', cartoType: 'string' },
      ],
      srid: 4326,
    };
    const build = (tile) =>
      buildMvtTileQuery(source, {
        ...tile,
        format: 'mvt',
        tileResolution,
        maxFeatures: MAX_FEATURES,
      });
    build({ z: 0, x: 0, y: 0 });
    return { build, layer: MVT_LAYER_NAME };
  } catch (error) {
    progress(`Graticule's tile SQL builder is not usable (${error.message}); floor SQL only`);
    return { build: null, layer: 'default' };
  }
}

async function databaseVersion(info) {
  const client = await connectAs(info);
  try {
    const { rows } = await client.query(
      `SELECT split_part(version(), ' on ', 1) || ', PostGIS ' || postgis_lib_version() AS v`,
    );
    return rows[0].v;
  } finally {
    await client.end();
  }
}

/** The two SQL sizes, capped by the table: a 1M-row LIMIT on 200k points returns 200k. */
function sqlSizes(points) {
  const sizes = [100_000, 1_000_000].map((limit) => ({ limit, rows: Math.min(limit, points) }));
  return sizes.filter((size, i) => i === 0 || size.rows !== sizes[i - 1].rows);
}

async function prepareDatabase() {
  progress('starting a throwaway PostgreSQL cluster...');
  cluster = await startCluster();
  progress(`loading ${settings.points.toLocaleString('en-US')} points...`);
  const startedAt = Date.now();
  const points = await loadPoints(cluster.info, settings.points);
  if (points !== settings.points) throw new Error(`loaded ${points} points`);
  progress(`loaded in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  return { points, version: await databaseVersion(cluster.info), loadMs: Date.now() - startedAt };
}

/** Starts the server, creates the connection and the tile source: what every phase needs. */
async function prepareServer(info) {
  const server = await startGraticule({
    dataDir: path.join(tempRoot, 'data'),
    logPath,
    settings: {
      GRATICULE_DEMO_DATA: 'false',
      GRATICULE_SQL_MAX_ROWS: String(Math.max(1_000_000, settings.points)),
      GRATICULE_TILE_CACHE_MB: '0',
      GRATICULE_TILE_MAX_FEATURES: String(MAX_FEATURES),
      GRATICULE_POOL_MAX_CONNECTIONS: String(POOL_SIZE),
    },
  });
  const client = new StreamingClient(server.baseUrl);
  const token = await issueToken(client, CLIENT_ID, CLIENT_SECRET);
  await createConnection(client, token, info, { name: CONNECTION, maxConnections: POOL_SIZE });
  const report = await client.json(`/v3/connections/${CONNECTION}/test`, {
    method: 'POST',
    headers: bearer(token),
  });
  if (!report.capabilities?.nativeMvt) throw new Error('the connection reports no native MVT');
  const { template } = await tileTemplate(client, token, CONNECTION, 'points', 'the_geom');
  const tileResolution = Number(new URL(template).searchParams.get('tileResolution') ?? 0.5);
  return { server, client, token, template, tileResolution };
}

async function main() {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
  const startedAt = new Date();
  const loadAtStart = os.loadavg();
  tempRoot = mkdtempSync(path.join(os.tmpdir(), 'graticule-bench-postgres-'));
  logPath = path.join(tempRoot, 'server.log');
  const workDir = path.join(tempRoot, 'pgbench');
  mkdirSync(workDir);

  const database = await prepareDatabase();
  const { info } = cluster;
  progress('starting Graticule...');
  const { server, client, token, template, tileResolution } = await prepareServer(info);
  const tileSql = await loadTileSqlBuilder(tileResolution);
  const ctx = {
    info,
    client,
    token,
    template,
    serverPid: server.pid,
    sqlPath: sqlPathFor(CONNECTION),
    tileSql: tileSql.build,
    layer: tileSql.layer,
    extent: Math.round(1024 * tileResolution),
    maxFeatures: MAX_FEATURES,
    seed: settings.seed,
    workDir,
    progress,
  };

  const sql = await measureSqlRows(ctx, { sizes: sqlSizes(database.points), reps: settings.reps });
  const points = await samplePoints(info, database.points, settings.tilesPerZoom, settings.seed);
  const tiles = await measureTiles(ctx, {
    points,
    zooms: settings.zooms,
    concurrency: CONCURRENCY,
    threads: PGBENCH_THREADS,
    seconds: settings.tileSeconds,
  });
  progress(`pool burst: ${settings.burst} x pg_sleep(${SLEEP_SECONDS})...`);
  const pool = await measurePool(ctx, {
    requests: settings.burst,
    sleepSeconds: SLEEP_SECONDS,
    maxConnections: POOL_SIZE,
  });

  client.close();
  const serverStop = await stopGraticule(server);
  const serverLog = scanServerLog(logPath);
  await cluster.destroy();
  cluster = undefined;

  const results = {
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    machine: {
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      totalMemMb: os.totalmem() / 2 ** 20,
      // Other work on a shared machine moves every figure; the load average says how much.
      loadAverage1m: { start: loadAtStart[0], end: os.loadavg()[0] },
    },
    settings: { ...settings, concurrency: CONCURRENCY, pgbenchThreads: PGBENCH_THREADS },
    database,
    server: { readyMs: server.readyMs, tileResolution, stop: serverStop },
    tileSqlSource: tileSql.build
      ? "Graticule's own ST_AsMVT query (dist/maps/tiles/tile-mvt-sql.js), bind values inlined"
      : "the floor's plain ST_AsMVT query (Graticule's builder was not usable)",
    sql,
    tiles,
    pool,
    serverLog,
  };
  const outDir = path.join(BENCH_DIR, 'out');
  mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replaceAll(':', '-');
  const outPath = path.join(outDir, `postgres-${stamp}.json`);
  writeFileSync(outPath, `${JSON.stringify(results, null, 2)}\n`);
  printReport(results);
  console.log(`\nJSON: ${path.relative(process.cwd(), outPath)}`);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanUp();
    process.exit(130);
  });
}
process.on('exit', cleanUp);

main()
  .catch((error) => {
    console.error(`bench:postgres failed: ${error.stack ?? error}`);
    printServerLogTail();
    process.exitCode = 1;
  })
  .finally(cleanUp);
