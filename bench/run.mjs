/**
 * Graticule benchmark: start-up, token issue, uncached tiles z0–z10 over two demo tables in
 * both tile formats, a blocking check, memory, and the raw warehouse cost of the same tiles,
 * all in one run on this machine. Prints a report and writes JSON to bench/out/.
 *
 * Settings (environment): BENCH_TILES_PER_ZOOM (12), BENCH_SEED (20240601),
 * BENCH_TOKEN_SECONDS (5), BENCH_CONCURRENCY ("1,8"), BENCH_SLEEP_SECONDS (5),
 * BENCH_CACHED (1: also time a cached tile pass; 0 skips it).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import {
  instantiateSource,
  issueToken,
  measureBlocking,
  measureCachedTiles,
  measureFixedCosts,
  measureTiles,
  measureTokenRate,
  samplePlaces,
  tileUrl,
} from './lib/api-phases.mjs';
import { BenchClient } from './lib/http-client.mjs';
import { printReport } from './lib/print-report.mjs';
import { describeTileSource, openRawWarehouse, timeRawTiles } from './lib/raw-warehouse.mjs';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  MAIN_JS,
  killAllServers,
  readMemory,
  scanServerLog,
  startServer,
  stopServer,
} from './lib/server.mjs';
import { MAX_ZOOM, buildTileList, createRandom } from './lib/tiles.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const TABLES = ['demo.populated_places', 'demo.countries'];
const FORMATS = ['mvt', 'binary'];
// The server's default tileMaxFeatures, passed explicitly so the raw baseline uses the same cap.
const MAX_FEATURES = 10_000;
const CACHE_MB = 128;
const FIXED_COST_REQUESTS = 200;
const FLOOR_SUMMARY = '/work/shared/bench-floor/embedded/results/summary.txt';

const settings = {
  tilesPerZoom: Number(process.env.BENCH_TILES_PER_ZOOM ?? 12),
  seed: Number(process.env.BENCH_SEED ?? 20240601),
  tokenSeconds: Number(process.env.BENCH_TOKEN_SECONDS ?? 5),
  concurrency: (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number),
  sleepSeconds: Number(process.env.BENCH_SLEEP_SECONDS ?? 5),
  cachedRun: process.env.BENCH_CACHED !== '0',
  maxFeatures: MAX_FEATURES,
};

const progress = (message) => process.stderr.write(`[bench] ${message}\n`);
let tempRoot;
let serverLogPath;
let rawDb;

/** The end of the server's output, for a failed run whose temp directory is about to go. */
function printServerLogTail() {
  if (!serverLogPath || !existsSync(serverLogPath)) return;
  const lines = readFileSync(serverLogPath, 'utf8').trimEnd().split('\n');
  console.error(`last server output (${serverLogPath}):\n${lines.slice(-30).join('\n')}`);
}

function cleanUp() {
  killAllServers();
  if (tempRoot) rmSync(tempRoot, { recursive: true, force: true });
  tempRoot = undefined;
}

/** Samples a process's RSS until stopped; the peak shows growth between milestones. */
function watchMemory(pid) {
  let peakRssMb = 0;
  const timer = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, readMemory(pid).rssMb || 0);
  }, 250);
  // A failed run must still be able to exit while this is running.
  timer.unref();
  return () => {
    clearInterval(timer);
    return peakRssMb;
  };
}

async function measureStartUp(dataDir, logPath) {
  progress('first start (fresh data directory, demo data load)...');
  const first = await startServer({
    dataDir,
    tileCacheMb: 0,
    tileMaxFeatures: MAX_FEATURES,
    logPath,
  });
  const firstMemory = readMemory(first.pid);
  const firstStop = await stopServer(first);
  progress(`first start ${(first.readyMs / 1000).toFixed(1)} s; warm start...`);
  return { firstStartMs: first.readyMs, firstMemory, firstStop };
}

async function instantiateAll(client, token) {
  const sources = [];
  for (const table of TABLES) {
    for (const format of FORMATS) {
      sources.push(await instantiateSource(client, token, table, format));
    }
  }
  return sources;
}

async function measureAllTiles(client, token, sources, tiles, pid, memory) {
  const runs = [];
  for (const source of sources) {
    for (const concurrency of settings.concurrency) {
      progress(`tiles ${source.table} ${source.format} c=${concurrency}...`);
      const run = await measureTiles(client, token, source.template, tiles, concurrency);
      runs.push({ table: source.table, format: source.format, ...run });
      memory.push({
        after: `${source.table} ${source.format} c=${concurrency}`,
        ...readMemory(pid),
      });
    }
  }
  return runs;
}

/** Everything measured over HTTP, on a warm-started, uncached server. */
async function measureServer(dataDir, logPath) {
  const server = await startServer({
    dataDir,
    tileCacheMb: 0,
    tileMaxFeatures: MAX_FEATURES,
    logPath,
  });
  const stopWatching = watchMemory(server.pid);
  const client = new BenchClient(server.baseUrl);
  const memory = [{ after: 'warm start', ...readMemory(server.pid) }];
  const token = await issueToken(client, CLIENT_ID, CLIENT_SECRET);

  progress('token issue rate...');
  const tokenRuns = [];
  for (const c of settings.concurrency) {
    tokenRuns.push(await measureTokenRate(client, settings.tokenSeconds * 1000, c));
  }

  progress('instantiating sources (first request inspects each table)...');
  const sources = await instantiateAll(client, token);
  const random = createRandom(settings.seed);
  const places = await samplePlaces(client, token, random, settings.tilesPerZoom * (MAX_ZOOM + 1));
  const tiles = buildTileList(places, settings.tilesPerZoom);
  memory.push({ after: 'instantiation', ...readMemory(server.pid) });

  const tileRuns = await measureAllTiles(client, token, sources, tiles, server.pid, memory);

  progress('fixed per-request costs...');
  const countriesMvt = sources.find((s) => s.table === TABLES[1] && s.format === 'mvt');
  const emptyTile = tileUrl(countriesMvt.template, { z: 10, x: 0, y: 0 });
  const fixedCosts = await measureFixedCosts(client, token, emptyTile, FIXED_COST_REQUESTS);

  progress('blocking check...');
  const pointsMvt = sources.find((s) => s.table === TABLES[0] && s.format === 'mvt');
  const blockTiles = tiles.filter((t) => t.z === 8).slice(0, 4);
  const blocking = await measureBlocking(
    client,
    token,
    pointsMvt.template,
    blockTiles,
    settings.sleepSeconds,
  );
  memory.push({ after: 'blocking check', ...readMemory(server.pid) });

  const peakSampledRssMb = stopWatching();
  client.close();
  const stop = await stopServer(server);
  return {
    warmStartMs: server.readyMs,
    tokenRuns,
    sources,
    tiles,
    tileRuns,
    fixedCosts,
    blocking,
    memory,
    peakSampledRssMb,
    stop,
  };
}

/** The same tiles served from the in-memory tile cache (second pass), points as MVT only. */
async function measureCachedServer(dataDir, logPath, tiles) {
  progress('cached tile pass...');
  const server = await startServer({
    dataDir,
    tileCacheMb: CACHE_MB,
    tileMaxFeatures: MAX_FEATURES,
    logPath,
  });
  const client = new BenchClient(server.baseUrl);
  const token = await issueToken(client, CLIENT_ID, CLIENT_SECRET);
  const source = await instantiateSource(client, token, TABLES[0], 'mvt');
  const concurrency = Math.max(...settings.concurrency);
  const run = await measureCachedTiles(client, token, source.template, tiles, concurrency);
  const memory = readMemory(server.pid);
  client.close();
  await stopServer(server);
  return { startMs: server.readyMs, table: TABLES[0], format: 'mvt', ...run, memory };
}

async function measureRawWarehouse(dataDir, tiles) {
  progress('raw warehouse baseline (in-process PGlite)...');
  const { db, openMs } = await openRawWarehouse(path.join(dataDir, 'warehouse'));
  rawDb = db;
  const runs = [];
  for (const table of TABLES) {
    const [schema, name] = table.split('.');
    const source = await describeTileSource(db, schema, name);
    for (const format of FORMATS) {
      const results = await timeRawTiles(db, source, tiles, format, settings.maxFeatures);
      runs.push({ table, format, properties: source.properties.map((p) => p.name), results });
    }
  }
  await db.close();
  rawDb = undefined;
  return { openMs, runs };
}

async function main() {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
  tempRoot = mkdtempSync(path.join(os.tmpdir(), 'graticule-bench-'));
  const dataDir = path.join(tempRoot, 'data');
  const logPath = path.join(tempRoot, 'server.log');
  serverLogPath = logPath;
  const startedAt = new Date();
  const loadAtStart = os.loadavg();

  const startUp = await measureStartUp(dataDir, logPath);
  const server = await measureServer(dataDir, logPath);
  const cached = settings.cachedRun
    ? await measureCachedServer(dataDir, logPath, server.tiles)
    : null;
  const raw = await measureRawWarehouse(dataDir, server.tiles);
  const serverLog = scanServerLog(logPath);

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
    startUp,
    server,
    cached,
    raw,
    serverLog,
    floorSummaryPath: FLOOR_SUMMARY,
  };
  const outDir = path.join(BENCH_DIR, 'out');
  mkdirSync(outDir, { recursive: true });
  const outPath = path.join(outDir, `bench-${startedAt.toISOString().replaceAll(':', '-')}.json`);
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
    console.error(`bench failed: ${error.stack ?? error}`);
    printServerLogTail();
    process.exitCode = 1;
  })
  .finally(async () => {
    await rawDb?.close().catch(() => undefined);
    cleanUp();
  });
