/**
 * The Maps API on a PostgreSQL/PostGIS connection against its speed targets, each figure beside
 * a baseline measured in the same run on this machine (absolute figures move between machines;
 * ratios much less):
 *
 * 1. MVT tiles at z8 and z12 of a 1M-point table, tile cache off, at 1, 8 and 32 concurrent
 *    clients for a fixed time, against `pgbench` with as many clients running the server's own
 *    ST_AsMVT SQL (its compiled builder in dist/) on the same weighted tile list. Targets:
 *    throughput >= 0.8x, p99 <= 1.3x.
 * 2. A cached tile: a few z8 tiles of median size requested over and over with the tile cache
 *    on, by autocannon at 8 and 32 connections, against an empty Fastify route (its own
 *    process, a fixed 200 body of the tiles' mean size for any path) sent the very same
 *    requests. Target: >= 0.7x the route's requests/s. Each side's CPU time per request is
 *    shown too: on 2 cores the load generator takes a core of its own.
 * 3. Binary against MVT tiles per feature, on the densest z8 tiles: request time with the cache
 *    off, the statements alone (ST_AsMVT for MVT; the JSON tile query for binary) and the
 *    server's encoders run in this process on the JSON answers, in µs per feature.
 * 4. H3 and quadbin tiles (aggregationExp sum(value), the default aggregationResLevel) of 1M-row
 *    cell tables: quadbin tiles z4 and z8, and H3 tiles of resolutions 0 and 3, the ones
 *    deck.gl's H3 layer asks for at zoom 4 and 8 (floor(2/3 zoom - 2) with 512-pixel tiles), at
 *    8 clients, against pgbench running the server's own GROUP BY (captured from its compiled
 *    `buildSpatialTile`).
 * 5. Instantiation of each 1M-row table (source request + TileJSON): cold, the first on a fresh
 *    server (target < 2 s), and warm, the median of repeats (target < 10 ms), beside
 *    `SELECT count(*)` (+ `ST_Extent` for the points) in psql for scale.
 *
 * Every tile set is checked before it is timed: each tile answers 200 with as many features or
 * cells as the server's SQL returns run directly, spatial cells at the aggregation resolution
 * and under their tile. The run fails on failed requests and wrong answers, never on targets.
 *
 * It starts its own throwaway cluster (initdb into a temp directory, fsync off, password auth
 * on a free loopback port), loads the points table (40% uniform, 60% around 200 seeded
 * "cities") and, from its points, an H3 table (text cells, resolution 8) and a quadbin table
 * (bigint cells, zoom 14), each with a btree index on the cell (cells repeat, so no primary
 * key). Then `node dist/main.js` (run `npm run build` first) twice: with the tile cache off for
 * 5, 1, 3 and 4, and fresh with the cache on for 2. Everything is removed at the end, also on
 * failure. JSON goes to bench/out/maps-<time>.json. About 6 minutes on 2 cores by default.
 *
 * Run: npm run build && node bench/maps.mjs   (or npm run bench:maps)
 * Settings (environment):
 *   BENCH_MAPS_POINTS (1000000)      rows in the points, H3 and quadbin tables
 *   BENCH_MAPS_SECONDS (10)          length of each load run, per side
 *   BENCH_MAPS_TILES (50)            points drawn per zoom; the tiles around them are the list
 *   BENCH_MAPS_ZOOMS ("8,12")        MVT zooms (figure 1); figure 3 uses z8, or the first
 *   BENCH_MAPS_CONCURRENCY ("1,8,32")  clients for figure 1
 *   BENCH_MAPS_CACHE_CONCURRENCY ("8,32")  autocannon connections for figure 2
 *   BENCH_MAPS_CACHE_TILES (4)       distinct tiles cycled in figure 2 (median-sized z8 ones)
 *   BENCH_MAPS_ENCODE_TILES (8)      densest tiles of figure 3
 *   BENCH_MAPS_REPS (5)              rounds of figure 3, and psql runs of figure 5
 *   BENCH_MAPS_WARM_REPS (9)         warm instantiations per table (figure 5)
 *   BENCH_MAPS_QUADBIN_ZOOMS ("4,8") quadbin tile zooms (figure 4)
 *   BENCH_MAPS_H3_RESOLUTIONS ("0,3")  H3 tile resolutions (figure 4)
 *   BENCH_MAPS_SPATIAL_CONCURRENCY (8)  clients for figure 4
 *   BENCH_MAPS_SEED (20240601)       seed of the tile draws
 *   BENCH_PG_BIN_DIR (/usr/lib/postgresql/15/bin)  initdb, pg_ctl, postgres, psql, pgbench
 *   BENCH_PG_SERVER_NODE_ARGS ("")   extra node flags for the server, e.g. "--cpu-prof"
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { URL, fileURLToPath } from 'node:url';
import { cellToParent, latLngToCell } from 'h3-js';
import { bigIntToHex, tileToCell } from 'quadbin';
import { H3_TABLE, QUADBIN_TABLE, loadCellTables } from './lib/maps-data.mjs';
import { killEmptyRoutes } from './lib/maps-empty-route.mjs';
import {
  instantiate,
  measureCacheHits,
  measureEncodeCost,
  measureInstantiation,
  measureSpatialTiles,
  measureTileConcurrency,
} from './lib/maps-phases.mjs';
import { printReport } from './lib/maps-report.mjs';
import { loadPointTileBuilders, loadSpatialTileBuilder } from './lib/maps-tile-sql.mjs';
import { connectAs, loadPoints, startCluster } from './lib/pg-cluster.mjs';
import { StreamingClient, bearer, issueToken } from './lib/pg-http.mjs';
import { samplePoints, tileUrl } from './lib/pg-phases.mjs';
import {
  createConnection,
  killGraticule,
  startGraticule,
  stopGraticule,
} from './lib/pg-server.mjs';
import { CLIENT_ID, CLIENT_SECRET, MAIN_JS, scanServerLog } from './lib/server.mjs';
import { tileOf } from './lib/tiles.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const CONNECTION = 'pg_maps';
const MAX_FEATURES = 10_000;
const POOL_SIZE = 10;
// pgbench threads: one per core of the 2-core machine the targets were set on.
const PGBENCH_THREADS = 2;
const CACHE_MB = 256;
const AGGREGATION_EXP = 'sum(value) AS value';
const MVT_CONTENT_TYPE = 'application/vnd.mapbox-vector-tile';

const list = (name, fallback) => (process.env[name] ?? fallback).split(',').map(Number);
const settings = {
  points: Number(process.env.BENCH_MAPS_POINTS ?? 1_000_000),
  seconds: Number(process.env.BENCH_MAPS_SECONDS ?? 10),
  tilesPerZoom: Number(process.env.BENCH_MAPS_TILES ?? 50),
  zooms: list('BENCH_MAPS_ZOOMS', '8,12'),
  concurrencies: list('BENCH_MAPS_CONCURRENCY', '1,8,32'),
  cacheConcurrencies: list('BENCH_MAPS_CACHE_CONCURRENCY', '8,32'),
  cacheTiles: Number(process.env.BENCH_MAPS_CACHE_TILES ?? 4),
  encodeTiles: Number(process.env.BENCH_MAPS_ENCODE_TILES ?? 8),
  reps: Number(process.env.BENCH_MAPS_REPS ?? 5),
  warmReps: Number(process.env.BENCH_MAPS_WARM_REPS ?? 9),
  quadbinZooms: list('BENCH_MAPS_QUADBIN_ZOOMS', '4,8'),
  h3Resolutions: list('BENCH_MAPS_H3_RESOLUTIONS', '0,3'),
  spatialConcurrency: Number(process.env.BENCH_MAPS_SPATIAL_CONCURRENCY ?? 8),
  seed: Number(process.env.BENCH_MAPS_SEED ?? 20240601),
  maxFeatures: MAX_FEATURES,
  poolSize: POOL_SIZE,
  pgbenchThreads: PGBENCH_THREADS,
};

const progress = (message) => process.stderr.write(`[bench:maps] ${message}\n`);
let tempRoot;
let cluster;
let logPath;

/** Synchronous, so it also runs from the exit handler after a failure or a signal. */
function cleanUp() {
  killGraticule();
  killEmptyRoutes();
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

async function prepareDatabase() {
  progress('starting a throwaway PostgreSQL cluster...');
  cluster = await startCluster();
  const startedAt = Date.now();
  progress(`loading ${settings.points.toLocaleString('en-US')} points...`);
  const points = await loadPoints(cluster.info, settings.points);
  if (points !== settings.points) throw new Error(`loaded ${points} points`);
  progress('loading the H3 and quadbin tables from the points...');
  const cells = await loadCellTables(cluster.info);
  for (const [name, table] of Object.entries(cells)) {
    if (table.rows !== points) throw new Error(`loaded ${table.rows} ${name} rows`);
  }
  progress(`loaded in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  return {
    points,
    ...cells,
    version: await databaseVersion(cluster.info),
    loadMs: Date.now() - startedAt,
  };
}

/** Starts a server with its own data directory and log, and creates the connection on it. */
async function prepareServer(info, { name, tileCacheMb }) {
  logPath = path.join(tempRoot, `server-${name}.log`);
  const server = await startGraticule({
    dataDir: path.join(tempRoot, `data-${name}`),
    logPath,
    settings: {
      GRATICULE_DEMO_DATA: 'false',
      // A key of its own, so the server does not write (and warn about) a development one.
      GRATICULE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      GRATICULE_TILE_CACHE_MB: String(tileCacheMb),
      GRATICULE_TILE_MAX_FEATURES: String(MAX_FEATURES),
      GRATICULE_POOL_MAX_CONNECTIONS: String(POOL_SIZE),
    },
  });
  const client = new StreamingClient(server.baseUrl, 64);
  const token = await issueToken(client, CLIENT_ID, CLIENT_SECRET);
  await createConnection(client, token, info, { name: CONNECTION, maxConnections: POOL_SIZE });
  const ctx = {
    info,
    client,
    token,
    serverPid: server.pid,
    connection: CONNECTION,
    maxFeatures: MAX_FEATURES,
    seed: settings.seed,
    pgbenchThreads: PGBENCH_THREADS,
    workDir: path.join(tempRoot, 'pgbench'),
    progress,
  };
  return { server, ctx, logPath };
}

const pointParams = (formatTiles) => ({
  name: 'points',
  spatialDataColumn: 'the_geom',
  spatialDataType: 'geo',
  tileResolution: '0.5',
  formatTiles,
});

const cellParams = (table, type) => ({
  name: table.name,
  spatialDataColumn: table.column,
  spatialDataType: type,
  aggregationExp: AGGREGATION_EXP,
});

function instantiationSources(database) {
  return [
    {
      label: 'points (geometry)',
      params: pointParams('mvt'),
      rows: database.points,
      baselineSql: 'SELECT count(*), ST_Extent(the_geom) FROM points',
      baselineLabel: 'psql count + ST_Extent',
    },
    {
      label: 'H3 cells',
      params: cellParams(H3_TABLE, 'h3'),
      rows: database.h3.rows,
      baselineSql: `SELECT count(*) FROM ${H3_TABLE.name}`,
      baselineLabel: 'psql count(*)',
    },
    {
      label: 'quadbin cells',
      params: cellParams(QUADBIN_TABLE, 'quadbin'),
      rows: database.quadbin.rows,
      baselineSql: `SELECT count(*) FROM ${QUADBIN_TABLE.name}`,
      baselineLabel: 'psql count(*)',
    },
  ];
}

/** The spatial-index tiles around the drawn points, per scheme and tile resolution. */
function spatialTileLists(points) {
  const quadbin = settings.quadbinZooms.map((z) =>
    points.map((p) => {
      const cell = tileToCell(tileOf(p.lon, p.lat, z));
      return { id: bigIntToHex(cell), cell, z };
    }),
  );
  // The parent of the point's own cell: H3 nests only roughly, so the cell of resolution z
  // holding the point may not be an ancestor of the cell the table holds for it.
  const h3 = settings.h3Resolutions.map((z) =>
    points.map((p) => {
      const id = cellToParent(latLngToCell(p.lat, p.lon, H3_TABLE.resolution), z);
      return { id, cell: BigInt(`0x${id}`), z };
    }),
  );
  return { quadbin, h3 };
}

async function measureSpatial(ctx, points, instantiation) {
  const lists = spatialTileLists(points);
  const results = [];
  for (const [scheme, table] of [
    ['quadbin', QUADBIN_TABLE],
    ['h3', H3_TABLE],
  ]) {
    const source = instantiation.find((s) => s.table === table.name);
    const resLevel = source.aggregationResLevel;
    const builder = await loadSpatialTileBuilder({
      type: scheme,
      table,
      aggregationExp: AGGREGATION_EXP,
      resLevel,
      maxCells: MAX_FEATURES,
    });
    for (const tiles of lists[scheme]) {
      const resolution = Math.min(table.resolution, tiles[0].z + resLevel);
      results.push(
        await measureSpatialTiles(ctx, {
          scheme,
          template: source.template,
          builder,
          tiles,
          resolution,
          concurrency: settings.spatialConcurrency,
          seconds: settings.seconds,
        }),
      );
    }
  }
  return results;
}

/** `count` tiles of typical size: those around the median feature count of `counted`. */
function typicalTiles(counted, count) {
  const sorted = [...counted].sort((a, b) => a.features - b.features);
  const first = Math.max(0, Math.floor((sorted.length - count) / 2));
  return sorted.slice(first, first + count).map(({ tile }) => tile);
}

/** Figures 5, 1, 3 and 4 on a server with the tile cache off. */
async function measureUncached(database) {
  progress('starting Graticule (tile cache off)...');
  const {
    server,
    ctx,
    logPath: log,
  } = await prepareServer(cluster.info, {
    name: 'uncached',
    tileCacheMb: 0,
  });
  const instantiation = await measureInstantiation(ctx, {
    sources: instantiationSources(database),
    reps: settings.warmReps,
  });
  const report = await ctx.client.json(`/v3/connections/${CONNECTION}/test`, {
    method: 'POST',
    headers: bearer(ctx.token),
  });
  if (!report.capabilities?.nativeMvt) throw new Error('the connection reports no native MVT');

  const mvtTemplate = instantiation[0].template;
  const tileResolution = Number(new URL(mvtTemplate).searchParams.get('tileResolution') ?? 0.5);
  ctx.sql = await loadPointTileBuilders({ tileResolution, maxFeatures: MAX_FEATURES });
  const binary = await instantiate(ctx, pointParams('binary'));
  ctx.template = mvtTemplate;
  ctx.templates = { mvt: mvtTemplate, binary: binary.template };

  const points = await samplePoints(
    ctx.info,
    database.points,
    settings.tilesPerZoom,
    settings.seed,
  );
  const zoomRuns = await measureTileConcurrency(ctx, {
    points,
    zooms: settings.zooms,
    concurrencies: settings.concurrencies,
    seconds: settings.seconds,
  });
  const encodeZoom = settings.zooms.includes(8) ? 8 : settings.zooms[0];
  const encodeCandidates = zoomRuns.find((r) => r.z === encodeZoom).weighted;
  const encode = await measureEncodeCost(ctx, {
    candidates: encodeCandidates.map((w) => w.tile),
    count: settings.encodeTiles,
    reps: settings.reps,
  });
  const spatial = await measureSpatial(ctx, points, instantiation);

  ctx.client.close();
  const stop = await stopGraticule(server);
  return {
    server: { readyMs: server.readyMs, tileResolution, stop },
    instantiation,
    // The tile lists stay out of the JSON.
    tiles: zoomRuns.map((run) => ({ ...run, weighted: undefined })),
    encode: { zoom: encodeZoom, ...encode, candidates: undefined },
    spatial,
    cacheTiles: typicalTiles(encode.candidates, settings.cacheTiles),
    serverLog: scanServerLog(log),
  };
}

/** Figure 2 on a fresh server with the tile cache on. */
async function measureCached(database, tiles) {
  progress('starting Graticule (tile cache on)...');
  const {
    server,
    ctx,
    logPath: log,
  } = await prepareServer(cluster.info, {
    name: 'cached',
    tileCacheMb: CACHE_MB,
  });
  const cold = await instantiate(ctx, pointParams('mvt'));
  if (cold.nrows !== database.points) throw new Error(`points nrows ${cold.nrows}`);
  const paths = tiles.map((tile) => {
    const url = new URL(tileUrl(cold.template, tile));
    return `${url.pathname}${url.search}`;
  });
  const cache = await measureCacheHits(ctx, {
    paths,
    concurrencies: settings.cacheConcurrencies,
    seconds: settings.seconds,
    contentType: MVT_CONTENT_TYPE,
  });
  ctx.client.close();
  const stop = await stopGraticule(server);
  return {
    server: { readyMs: server.readyMs, stop, coldInstantiationMs: cold.ms },
    cache,
    serverLog: scanServerLog(log),
  };
}

/** The commit checked out (the working tree may differ), or null outside a repository. */
function gitCommit() {
  try {
    const args = ['rev-parse', '--short', 'HEAD'];
    return execFileSync('git', args, { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** When dist/ was last built: a build during the run means the servers may run other code. */
const distBuiltAt = () => statSync(MAIN_JS).mtime.toISOString();

async function main() {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
  const startedAt = new Date();
  const builtAtStart = distBuiltAt();
  const commit = gitCommit();
  const loadAtStart = os.loadavg();
  tempRoot = mkdtempSync(path.join(os.tmpdir(), 'graticule-bench-maps-'));
  mkdirSync(path.join(tempRoot, 'pgbench'));

  const database = await prepareDatabase();
  const uncached = await measureUncached(database);
  const cached = await measureCached(database, uncached.cacheTiles);
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
    settings,
    code: {
      commit,
      distBuiltAt: builtAtStart,
      distRebuiltAt: distBuiltAt() === builtAtStart ? null : distBuiltAt(),
    },
    database,
    servers: { uncached: uncached.server, cached: cached.server },
    tileSqlSource:
      "Graticule's own statements (dist/maps/tiles/tile-mvt-sql.js, tile-query.js and " +
      'spatial-index/spatial-source.js), bind values inlined',
    tiles: uncached.tiles,
    cache: cached.cache,
    encode: uncached.encode,
    spatial: uncached.spatial,
    instantiation: uncached.instantiation,
    serverLog: [...uncached.serverLog, ...cached.serverLog],
  };
  const outDir = path.join(BENCH_DIR, 'out');
  mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replaceAll(':', '-');
  const outPath = path.join(outDir, `maps-${stamp}.json`);
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
    console.error(`bench:maps failed: ${error.stack ?? error}`);
    printServerLogTail();
    process.exitCode = 1;
  })
  .finally(cleanUp);
