/**
 * The three measurements of the PostgreSQL benchmark, each Graticule figure taken beside its
 * raw-PostgreSQL baseline: result rows (SQL API vs psql), tiles (MVT over HTTP vs pgbench on
 * the same SQL) and the session pool under a burst of slow statements.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { URLSearchParams } from 'node:url';
import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import { runForDuration } from './http-client.mjs';
import { floorTileSql, inlineParams, runPgbench, timePsql } from './pg-baseline.mjs';
import { connectAs } from './pg-cluster.mjs';
import { StreamingClient, bearer, createOccurrenceCounter } from './pg-http.mjs';
import { readMemory } from './server.mjs';
import { summarize } from './stats.mjs';
import { createRandom, tileKey, tileOf } from './tiles.mjs';

const RSS_INTERVAL_MS = 20;
const RSS_IDLE_MS = 300;
const POLL_INTERVAL_MS = 20;

const median = (values) => summarize(values).p50;
// Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks.
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU milliseconds (user + system) a process has used so far, from /proc (Linux). */
export function readCpuMs(pid) {
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Every failure that means the figures cannot be trusted ends the run. */
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// 1. SQL API rows/s against psql

/** Samples a process's RSS every ~20 ms until stopped; resolves with the samples in MB. */
function watchRss(pid) {
  const samples = [];
  const timer = setInterval(() => samples.push(readMemory(pid).rssMb), RSS_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    return samples.filter(Number.isFinite);
  };
}

/**
 * One SQL API request, its body counted row by row and dropped; checks the status and that
 * exactly `expectedRows` rows arrived. With `pid`, also the server's RSS growth over its idle
 * level just before the request.
 */
async function graticuleRows(ctx, sql, expectedRows, pid, { csv = false } = {}) {
  let idle;
  if (pid) {
    const stopIdle = watchRss(pid);
    await delay(RSS_IDLE_MS);
    idle = median(stopIdle());
  }
  const stopBusy = pid ? watchRss(pid) : () => [];
  // CSV: one line per row plus the header line (the columns hold no line breaks).
  const rows = createOccurrenceCounter(csv ? '\n' : '"cartodb_id":');
  const lines = csv ? expectedRows + 1 : expectedRows;
  const headers = csv ? { ...bearer(ctx.token), accept: 'text/csv' } : bearer(ctx.token);
  const cpuBefore = readCpuMs(ctx.serverPid);
  const response = await ctx.client.request(ctx.sqlPath(sql), {
    headers,
    onChunk: (chunk) => rows.push(chunk),
  });
  const busy = stopBusy();
  check(response.status === 200, `SQL API answered ${response.status}: ${response.errorText}`);
  check(rows.count === lines, `SQL API sent ${rows.count} rows/lines, expected ${lines}`);
  const peak = busy.length > 0 ? Math.max(...busy) : NaN;
  return {
    ms: response.ms,
    bytes: response.bytes,
    serverCpuMs: readCpuMs(ctx.serverPid) - cpuBefore,
    idleRssMb: idle,
    rssGrowthMb: peak - idle,
  };
}

/**
 * Each size `reps` times through the SQL API and through psql, alternating so drift on a shared
 * machine hits both; the server's RSS is watched during the largest result.
 */
export async function measureSqlRows(ctx, { sizes, reps }) {
  await graticuleRows(ctx, 'SELECT cartodb_id FROM points LIMIT 1000', 1000);
  const results = [];
  for (const size of sizes) {
    const sql = `SELECT cartodb_id, name, category, value FROM points LIMIT ${size.limit}`;
    const watchPid = size === sizes[sizes.length - 1] ? ctx.serverPid : undefined;
    const graticule = [];
    const csv = [];
    const psql = [];
    for (let i = 0; i < reps; i += 1) {
      ctx.progress(`SQL ${size.rows} rows, repetition ${i + 1}/${reps}...`);
      graticule.push(await graticuleRows(ctx, sql, size.rows, watchPid));
      csv.push(await graticuleRows(ctx, sql, size.rows, watchPid, { csv: true }));
      psql.push(await timePsql(ctx.info, sql));
    }
    const csvGrowth = csv.map((r) => r.rssGrowthMb).filter(Number.isFinite);
    const graticuleMs = median(graticule.map((r) => r.ms));
    const psqlMs = median(psql);
    const growth = graticule.map((r) => r.rssGrowthMb).filter(Number.isFinite);
    results.push({
      rows: size.rows,
      sql,
      graticuleMs: graticule.map((r) => r.ms),
      psqlMs: psql,
      graticuleRowsPerSecond: (size.rows * 1000) / graticuleMs,
      psqlRowsPerSecond: (size.rows * 1000) / psqlMs,
      bodyBytes: graticule[0].bytes,
      serverCpuMs: median(graticule.map((r) => r.serverCpuMs)),
      idleRssMb: growth.length > 0 ? graticule[0].idleRssMb : null,
      peakRssGrowthMb: growth.length > 0 ? Math.max(...growth) : null,
      csvMs: csv.map((r) => r.ms),
      csvRowsPerSecond: (size.rows * 1000) / median(csv.map((r) => r.ms)),
      csvServerCpuMs: median(csv.map((r) => r.serverCpuMs)),
      csvPeakRssGrowthMb: csvGrowth.length > 0 ? Math.max(...csvGrowth) : null,
    });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// 2. Tiles: Graticule MVT over HTTP against pgbench on the same SQL

/**
 * `count` points drawn by seeded cartodb_id, so every tile holds at least the point it was
 * drawn around, and busy places come up as often as they hold data, as on a real map.
 */
export async function samplePoints(info, pointCount, count, seed) {
  const random = createRandom(seed);
  const ids = Array.from({ length: count }, () => 1 + Math.floor(random() * pointCount));
  const client = await connectAs(info);
  try {
    const { rows } = await client.query(
      `SELECT cartodb_id::int AS id, ST_X(the_geom) AS lon, ST_Y(the_geom) AS lat
         FROM points WHERE cartodb_id = ANY($1::bigint[])`,
      [ids],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id));
  } finally {
    await client.end();
  }
}

export const tileUrl = (template, t) =>
  template.replace('{z}', t.z).replace('{x}', t.x).replace('{y}', t.y);

/** Distinct tiles of a list with how often each occurs, the weight pgbench draws them by. */
export function weighTiles(tiles) {
  const weights = new Map();
  for (const tile of tiles) {
    const key = tileKey(tile);
    weights.set(key, { tile, weight: (weights.get(key)?.weight ?? 0) + 1 });
  }
  return [...weights.values()];
}

function decodeFeatureCount(body) {
  const layers = Object.values(new VectorTile(new Pbf(body)).layers);
  return layers.reduce((total, layer) => total + layer.length, 0);
}

/**
 * Fetches every distinct tile once (also warming the source's inspection) and checks that it
 * decodes to at least one feature, as each tile was chosen around an existing point; where
 * Graticule's tile SQL is known, also that its feature count matches the SQL run directly.
 */
export async function checkTiles(ctx, weighted, tileSql) {
  const direct = await connectAs(ctx.info);
  const features = [];
  try {
    for (const { tile } of weighted) {
      const response = await ctx.client.request(tileUrl(ctx.template, tile), {
        headers: bearer(ctx.token),
        keepBody: true,
      });
      check(response.status === 200, `tile ${tileKey(tile)} answered ${response.status}`);
      const count = decodeFeatureCount(response.body);
      check(count > 0, `tile ${tileKey(tile)} decoded to no features`);
      if (tileSql) {
        // The inlined text pgbench runs, so this also checks the inlining.
        const query = tileSql(tile);
        const { rows } = await direct.query(inlineParams(query.sql, query.params));
        const expected = Math.min(Number(rows[0].feature_count), ctx.maxFeatures);
        check(count === expected, `tile ${tileKey(tile)}: ${count} features, SQL ${expected}`);
      }
      features.push(count);
    }
  } finally {
    await direct.end();
  }
  return summarize(features);
}

/**
 * `concurrency` keep-alive callers requesting random tiles of the list for `seconds`; `urlOf`
 * turns a tile into its URL (by default `ctx.template` with its z, x and y).
 */
export async function loadTiles(
  ctx,
  tiles,
  { concurrency, seconds, seed, urlOf = (tile) => tileUrl(ctx.template, tile) },
) {
  const random = createRandom(seed);
  const client = new StreamingClient(ctx.client.baseUrl, concurrency);
  const headers = bearer(ctx.token);
  try {
    const cpuBefore = readCpuMs(ctx.serverPid);
    const { results, wallMs } = await runForDuration(seconds * 1000, concurrency, () =>
      client.request(urlOf(tiles[Math.floor(random() * tiles.length)]), { headers }),
    );
    const failed = results.filter((r) => r.status !== 200);
    check(
      failed.length === 0,
      `${failed.length} tile requests failed, e.g. ${failed[0]?.status} ${failed[0]?.errorText}`,
    );
    const latency = summarize(results.map((r) => r.ms));
    return {
      tiles: results.length,
      tilesPerSecond: (results.length * 1000) / wallMs,
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      maxMs: latency.max,
      meanBytes: results.reduce((t, r) => t + r.bytes, 0) / results.length,
      // Node's own share of the two cores, which PostgreSQL then cannot use.
      serverCpuMsPerTile: (readCpuMs(ctx.serverPid) - cpuBefore) / results.length,
      serverCpuShare: (readCpuMs(ctx.serverPid) - cpuBefore) / wallMs,
    };
  } finally {
    client.close();
  }
}

/**
 * Per zoom: the correctness pass, Graticule under load, then pgbench on Graticule's own tile
 * SQL (the fair baseline: the same database work) and on the floor's plain SQL (what the
 * simplest query costs), all at the same concurrency over the same weighted tile list.
 */
export async function measureTiles(ctx, { points, zooms, concurrency, threads, seconds }) {
  const results = [];
  for (const z of zooms) {
    const tiles = points.map((p) => tileOf(p.lon, p.lat, z));
    const weighted = weighTiles(tiles);
    ctx.progress(`tiles z${z}: checking ${weighted.length} distinct tiles...`);
    const features = await checkTiles(ctx, weighted, ctx.tileSql);
    ctx.progress(`tiles z${z}: Graticule, ${concurrency} clients, ${seconds} s...`);
    const graticule = await loadTiles(ctx, tiles, { concurrency, seconds, seed: ctx.seed + z });
    const pgbench = { clients: concurrency, threads, seconds, workDir: ctx.workDir };
    const baselines = {};
    const variants = ctx.tileSql
      ? { graticuleSql: (t) => inlineParams(ctx.tileSql(t).sql, ctx.tileSql(t).params) }
      : {};
    variants.floorSql = (t) => floorTileSql(t, ctx.extent, ctx.layer);
    for (const [name, sqlOf] of Object.entries(variants)) {
      ctx.progress(`tiles z${z}: pgbench (${name}), ${concurrency} clients, ${seconds} s...`);
      const scripts = weighted.map(({ tile, weight }) => ({ sql: sqlOf(tile), weight }));
      baselines[name] = await runPgbench(ctx.info, scripts, { ...pgbench, tag: `z${z}-${name}` });
      check(baselines[name].failed === 0, `pgbench ${name} z${z} had failed transactions`);
    }
    results.push({ z, distinctTiles: weighted.length, features, graticule, baselines });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// 3. The pool under a burst of slow statements

/** Polls `sample` every ~20 ms until `stop` resolves; resolves with the samples. */
async function pollUntil(stop, sample) {
  const samples = [];
  let isStopped = false;
  const markStopped = () => (isStopped = true);
  stop.then(markStopped, markStopped);
  while (!isStopped) {
    samples.push(await sample());
    await delay(POLL_INTERVAL_MS);
  }
  return samples;
}

/** Graticule's sessions as PostgreSQL sees them: all of them, and those running a statement. */
async function countSessions(client) {
  const { rows } = await client.query(
    `SELECT count(*)::int AS sessions, count(*) FILTER (WHERE state = 'active')::int AS active
       FROM pg_stat_activity WHERE application_name = 'graticule'`,
  );
  return rows[0];
}

/**
 * `requests` concurrent `SELECT pg_sleep(sleep)` through the SQL API, each unique so nothing
 * could answer from a cache, while pg_stat_activity and /health are sampled.
 */
export async function measurePool(ctx, { requests, sleepSeconds, maxConnections }) {
  const burstClient = new StreamingClient(ctx.client.baseUrl, requests + 8);
  const healthClient = new StreamingClient(ctx.client.baseUrl, 2);
  const watcher = await connectAs(ctx.info, { superuser: true });
  try {
    const headers = bearer(ctx.token);
    const startedAt = performance.now();
    const burst = Promise.all(
      Array.from({ length: requests }, (_, i) =>
        burstClient.request(ctx.sqlPath(`SELECT pg_sleep(${sleepSeconds}) AS slept, ${i} AS i`), {
          headers,
        }),
      ),
    );
    const [responses, sessions, health] = await Promise.all([
      burst,
      pollUntil(burst, () => countSessions(watcher)),
      pollUntil(burst, () => healthClient.request('/health')),
    ]);
    const wallMs = performance.now() - startedAt;
    const ok = responses.filter((r) => r.status === 200);
    const busy = responses.filter((r) => r.status === 503);
    const other = responses.filter((r) => r.status !== 200 && r.status !== 503);
    check(
      other.length === 0,
      `${other.length} burst requests failed, e.g. ${other[0]?.status} ${other[0]?.errorText}`,
    );
    const maxSessions = Math.max(...sessions.map((s) => s.sessions));
    check(maxSessions <= maxConnections, `${maxSessions} sessions open, pool is ${maxConnections}`);
    check(
      health.every((h) => h.status === 200),
      '/health failed during the burst',
    );
    const latency = summarize(responses.map((r) => r.ms));
    const healthLatency = summarize(health.map((h) => h.ms));
    return {
      requests,
      maxConnections,
      sleepMs: sleepSeconds * 1000,
      wallMs,
      ok: ok.length,
      busy: busy.length,
      busySample: busy[0]?.errorText,
      maxSessions,
      maxActive: Math.max(...sessions.map((s) => s.active)),
      sessionSamples: sessions.length,
      latencyP50Ms: latency.p50,
      longestMs: latency.max,
      longestWaitMs: latency.max - sleepSeconds * 1000,
      healthSamples: health.length,
      healthP50Ms: healthLatency.p50,
      healthP99Ms: healthLatency.p99,
      healthMaxMs: healthLatency.max,
    };
  } finally {
    burstClient.close();
    healthClient.close();
    await watcher.end();
  }
}

export const sqlPathFor = (connection) => (sql) =>
  `/v3/sql/${connection}/query?${new URLSearchParams({ q: sql })}`;
