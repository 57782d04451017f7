/**
 * The measurements of the Maps API benchmark, each Graticule figure taken beside a baseline run
 * in the same process on the same machine: instantiation (against count and extent in psql),
 * tiles at several concurrencies (against pgbench on the server's own tile SQL), the cost per
 * feature of binary and MVT tiles, spatial-index tiles (against pgbench on the server's own
 * GROUP BY) and cached tiles (against an empty Fastify route, both loaded by autocannon).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { URLSearchParams } from 'node:url';
import autocannon from 'autocannon';
import { cellToParent, getResolution as h3Resolution } from 'h3-js';
import Pbf from 'pbf';
import { cellToTile } from 'quadbin';
import { inlineParams, runPgbench, timePsql } from './pg-baseline.mjs';
import { connectAs } from './pg-cluster.mjs';
import { bearer } from './pg-http.mjs';
import { checkTiles, loadTiles, readCpuMs, tileUrl, weighTiles } from './pg-phases.mjs';
import { EMPTY_ROUTE_PATH, startEmptyRoute } from './maps-empty-route.mjs';
import { summarize } from './stats.mjs';
import { tileOf } from './tiles.mjs';

const median = (values) => summarize(values).p50;
/** Rounds of a timing that is cheap enough to repeat more often than HTTP requests. */
const MIN_ENCODE_REPS = 15;
/** pg_stat_database is flushed by backends about once a second. */
const STATS_FLUSH_MS = 1200;

/** Every failure that means the figures cannot be trusted ends the run. */
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

const relocate = (client, url) => url.replace(/^[a-z]+:\/\/[^/]+/i, client.baseUrl);

async function getJson(client, url, headers) {
  const response = await client.request(url, { headers, keepBody: true });
  check(response.status === 200, `${url} answered ${response.status}: ${response.errorText}`);
  return { ms: response.ms, json: JSON.parse(response.body.toString('utf8')) };
}

/**
 * CARTO's two-step instantiation, timed: the source request, then the TileJSON it names.
 * Resolves with both times, the row count and the tile URL template aimed at our server.
 */
export async function instantiate(ctx, params) {
  const headers = bearer(ctx.token);
  const query = new URLSearchParams(params);
  const first = await getJson(ctx.client, `/v3/maps/${ctx.connection}/table?${query}`, headers);
  const tilejsonUrl = relocate(ctx.client, first.json.tilejson.url[0]);
  const second = await getJson(ctx.client, tilejsonUrl, headers);
  const template = second.json.tiles?.[0];
  check(typeof template === 'string', `no tile template in the TileJSON of ${params.name}`);
  return {
    sourceMs: first.ms,
    tilejsonMs: second.ms,
    ms: first.ms + second.ms,
    nrows: first.json.nrows,
    template: relocate(ctx.client, template),
    tilejson: second.json,
  };
}

// ---------------------------------------------------------------------------------------------
// Instantiation

/**
 * Per source: the first instantiation on this server (cold: nothing about the source cached),
 * then `reps` more (warm), then `reps` runs of `baselineSql` in psql. Checks the row count.
 */
export async function measureInstantiation(ctx, { sources, reps }) {
  const results = [];
  for (const source of sources) {
    ctx.progress(`instantiation: ${source.label}, cold...`);
    const cold = await instantiate(ctx, source.params);
    check(cold.nrows === source.rows, `${source.label}: nrows ${cold.nrows}, ${source.rows} rows`);
    const warm = [];
    for (let i = 0; i < reps; i += 1) warm.push((await instantiate(ctx, source.params)).ms);
    const baseline = [];
    for (let i = 0; i < reps; i += 1) baseline.push(await timePsql(ctx.info, source.baselineSql));
    results.push({
      label: source.label,
      table: source.params.name,
      rows: source.rows,
      cold: { sourceMs: cold.sourceMs, tilejsonMs: cold.tilejsonMs, ms: cold.ms },
      warmMs: warm,
      warmMedianMs: median(warm),
      baselineSql: source.baselineSql,
      baselineLabel: source.baselineLabel,
      baselineMs: baseline,
      baselineMedianMs: median(baseline),
      template: cold.template,
      aggregationResLevel: cold.tilejson.aggregationResLevel,
    });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Tiles at several concurrencies

/**
 * Per zoom: the correctness pass of the PostgreSQL benchmark (every tile decodes to the
 * feature count of the server's SQL run directly), then per concurrency Graticule under load
 * and pgbench with as many clients on the same SQL over the same weighted tile list.
 */
export async function measureTileConcurrency(ctx, { points, zooms, concurrencies, seconds }) {
  const results = [];
  for (const z of zooms) {
    const tiles = points.map((p) => tileOf(p.lon, p.lat, z));
    const weighted = weighTiles(tiles);
    ctx.progress(`tiles z${z}: checking ${weighted.length} distinct tiles...`);
    const features = await checkTiles(ctx, weighted, ctx.sql.mvt);
    const scripts = weighted.map(({ tile, weight }) => {
      const query = ctx.sql.mvt(tile);
      return { sql: inlineParams(query.sql, query.params), weight };
    });
    const runs = [];
    for (const concurrency of concurrencies) {
      ctx.progress(`tiles z${z}: Graticule, ${concurrency} clients, ${seconds} s...`);
      const seed = ctx.seed + z * 100 + concurrency;
      const graticule = await loadTiles(ctx, tiles, { concurrency, seconds, seed });
      ctx.progress(`tiles z${z}: pgbench, ${concurrency} clients, ${seconds} s...`);
      const pgbench = await runPgbench(ctx.info, scripts, {
        clients: concurrency,
        threads: Math.min(ctx.pgbenchThreads, concurrency),
        seconds,
        workDir: ctx.workDir,
        tag: `z${z}-c${concurrency}`,
      });
      check(pgbench.failed === 0, `pgbench z${z} c${concurrency} had failed transactions`);
      runs.push({ concurrency, graticule, pgbench });
    }
    results.push({ z, distinctTiles: weighted.length, features, runs, weighted });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Binary against MVT, per feature

async function timeQuery(client, query) {
  const startedAt = performance.now();
  const { rows } = await client.query(query.sql, query.params);
  return { ms: performance.now() - startedAt, row: rows[0] };
}

function timeEncode(encode, reps) {
  encode();
  const times = [];
  let result;
  for (let i = 0; i < Math.max(reps, MIN_ENCODE_REPS); i += 1) {
    const startedAt = performance.now();
    result = encode();
    times.push(performance.now() - startedAt);
  }
  return { ms: median(times), result };
}

/** Microseconds per feature: the summed per-tile medians over the summed feature counts. */
const perFeature = (tiles, pick, features) =>
  (tiles.reduce((total, tile) => total + pick(tile), 0) * 1000) / features;

/**
 * The `count` densest of `candidates` (tiles of one zoom), each built `reps` times per format
 * over HTTP with the tile cache off, alternating formats; then the same statements run
 * directly (node-postgres, as the server sends them) and the server's encoders run on the JSON
 * answers in this process. MVT on PostgreSQL is built by ST_AsMVT in the database; binary tiles
 * by the JSON tile query plus Graticule's encoder.
 */
export async function measureEncodeCost(ctx, { candidates, count, reps }) {
  const direct = await connectAs(ctx.info);
  try {
    ctx.progress(`encode cost: choosing the ${count} densest of ${candidates.length} tiles...`);
    const counted = [];
    for (const tile of candidates) {
      const { row } = await timeQuery(direct, ctx.sql.mvt(tile));
      counted.push({ tile, features: Math.min(Number(row.feature_count), ctx.maxFeatures) });
    }
    counted.sort((a, b) => b.features - a.features);
    const chosen = counted.slice(0, count);
    const headers = bearer(ctx.token);

    ctx.progress(`encode cost: ${chosen.length} tiles x ${reps} per format over HTTP...`);
    const http = chosen.map(() => ({ mvt: [], binary: [], bytes: {} }));
    for (let round = 0; round < reps; round += 1) {
      for (const [i, { tile }] of chosen.entries()) {
        for (const [format, template] of Object.entries(ctx.templates)) {
          const response = await ctx.client.request(tileUrl(template, tile), { headers });
          check(response.status === 200, `${format} tile answered ${response.status}`);
          http[i][format].push(response.ms);
          http[i].bytes[format] = response.bytes;
        }
      }
    }

    ctx.progress('encode cost: the same statements directly, and the encoders in-process...');
    const tiles = [];
    for (const [i, { tile, features }] of chosen.entries()) {
      const queries = {
        mvt: ctx.sql.mvt(tile),
        jsonBinary: ctx.sql.json(tile, 'binary'),
        jsonMvt: ctx.sql.json(tile, 'mvt'),
      };
      const db = { mvt: [], jsonBinary: [], jsonMvt: [] };
      const answers = {};
      for (let round = 0; round < reps; round += 1) {
        for (const [name, query] of Object.entries(queries)) {
          const { ms, row } = await timeQuery(direct, query);
          db[name].push(ms);
          answers[name] = row;
        }
      }
      const encoded = {};
      for (const format of ['binary', 'mvt']) {
        const query = format === 'binary' ? queries.jsonBinary : queries.jsonMvt;
        const json = answers[format === 'binary' ? 'jsonBinary' : 'jsonMvt'].features;
        encoded[format] = timeEncode(() => ctx.sql.encode(json, query, format), reps);
        const got = encoded[format].result.featureCount;
        check(got === features, `${format} encoder: ${got} features, the MVT SQL ${features}`);
      }
      tiles.push({
        tile: `${tile.z}/${tile.x}/${tile.y}`,
        features,
        httpMs: { mvt: median(http[i].mvt), binary: median(http[i].binary) },
        bytes: http[i].bytes,
        dbMs: {
          mvt: median(db.mvt),
          jsonBinary: median(db.jsonBinary),
          jsonMvt: median(db.jsonMvt),
        },
        encodeMs: { binary: encoded.binary.ms, mvt: encoded.mvt.ms },
      });
    }
    const features = tiles.reduce((total, t) => total + t.features, 0);
    return {
      // Every candidate with its feature count, densest first.
      candidates: counted,
      tiles,
      features,
      reps,
      usPerFeature: {
        httpMvt: perFeature(tiles, (t) => t.httpMs.mvt, features),
        httpBinary: perFeature(tiles, (t) => t.httpMs.binary, features),
        dbMvt: perFeature(tiles, (t) => t.dbMs.mvt, features),
        dbJsonBinary: perFeature(tiles, (t) => t.dbMs.jsonBinary, features),
        dbJsonMvt: perFeature(tiles, (t) => t.dbMs.jsonMvt, features),
        encodeBinary: perFeature(tiles, (t) => t.encodeMs.binary, features),
        encodeMvt: perFeature(tiles, (t) => t.encodeMs.mvt, features),
      },
    };
  } finally {
    await direct.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Spatial-index tiles

/** The cell ids of a spatial-index tile (section 5.5 of the client contract). */
function readSpatialTileIds(body) {
  const ids = [];
  const readIndices = (tag, _, pbf) => {
    if (tag !== 1) return;
    const bytes = Uint8Array.from(pbf.readBytes());
    ids.push(...new BigUint64Array(bytes.buffer, 0, bytes.length / 8));
  };
  const readCells = (tag, _, pbf) => {
    if (tag === 1) pbf.readMessage(readIndices, null);
  };
  new Pbf(body).readFields((tag, _, pbf) => {
    if (tag === 2) pbf.readMessage(readCells, null);
  }, null);
  return ids;
}

/** True when `id` is a cell of resolution `resolution` under `tile`. */
function isChildOf(scheme, id, tile, resolution) {
  if (scheme === 'h3') {
    const hex = id.toString(16);
    return h3Resolution(hex) === resolution && cellToParent(hex, tile.z) === tile.id;
  }
  const child = cellToTile(id);
  const shift = child.z - tile.z;
  const parent = cellToTile(tile.cell);
  return child.z === resolution && child.x >> shift === parent.x && child.y >> shift === parent.y;
}

/**
 * Tiles of a spatial-index source (`tiles`: {id, cell, z}, repeats kept as weights): every
 * distinct tile is checked (cells of the aggregation resolution, under the tile, as many as the
 * server's SQL returns run directly), then Graticule and pgbench run the same weighted list.
 */
export async function measureSpatialTiles(ctx, spec) {
  const { scheme, template, builder, tiles, resolution, concurrency, seconds } = spec;
  const weights = new Map();
  for (const tile of tiles) {
    weights.set(tile.id, { tile, weight: (weights.get(tile.id)?.weight ?? 0) + 1 });
  }
  const weighted = [...weights.values()];
  const z = tiles[0].z;
  const label = `${scheme} ${scheme === 'h3' ? 'res' : 'z'}${z}`;
  const urlOf = (tile) => template.replace('{i}', tile.id);
  const headers = bearer(ctx.token);
  const direct = await connectAs(ctx.info);
  const scripts = [];
  const cells = [];
  try {
    ctx.progress(`${label}: checking ${weighted.length} distinct tiles...`);
    for (const { tile, weight } of weighted) {
      const response = await ctx.client.request(urlOf(tile), { headers, keepBody: true });
      check(response.status === 200, `${label} tile ${tile.id} answered ${response.status}`);
      const ids = readSpatialTileIds(response.body);
      const query = await builder.sql(tile.cell, tile.z);
      const sql = inlineParams(query.sql, query.params);
      const { rows } = await direct.query(sql);
      const expected = Math.min(rows.length, ctx.maxFeatures);
      check(ids.length > 0, `${label} tile ${tile.id} has no cells`);
      check(
        ids.length === expected,
        `${label} tile ${tile.id}: ${ids.length} cells, SQL ${expected}`,
      );
      check(
        ids.every((id) => isChildOf(scheme, id, tile, resolution)),
        `${label} tile ${tile.id} has cells that are not its children at resolution ${resolution}`,
      );
      cells.push(ids.length);
      scripts.push({ sql, weight });
    }
  } finally {
    await direct.end();
  }
  ctx.progress(`${label}: Graticule, ${concurrency} clients, ${seconds} s...`);
  const graticule = await loadTiles(ctx, tiles, { concurrency, seconds, seed: ctx.seed, urlOf });
  ctx.progress(`${label}: pgbench, ${concurrency} clients, ${seconds} s...`);
  const pgbench = await runPgbench(ctx.info, scripts, {
    clients: concurrency,
    threads: Math.min(ctx.pgbenchThreads, concurrency),
    seconds,
    workDir: ctx.workDir,
    tag: `${scheme}-${z}`,
  });
  check(pgbench.failed === 0, `pgbench ${label} had failed transactions`);
  return {
    scheme,
    tileResolution: z,
    cellResolution: resolution,
    distinctTiles: weighted.length,
    cells: summarize(cells),
    concurrency,
    graticule,
    pgbench,
    sampleSql: scripts[0]?.sql,
  };
}

// ---------------------------------------------------------------------------------------------
// Cached tiles against an empty Fastify route

async function committedTransactions(info) {
  const client = await connectAs(info, { superuser: true });
  try {
    const { rows } = await client.query(
      'SELECT xact_commit::float8 AS n FROM pg_stat_database WHERE datname = $1',
      [info.database],
    );
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

/** One autocannon run; with `pid`, also that process's CPU time per request. */
async function cannon(options, pid) {
  const cpuBefore = readCpuMs(pid);
  const result = await autocannon({ ...options, method: 'GET' });
  const cpuMs = readCpuMs(pid) - cpuBefore;
  const failed = result.errors + result.timeouts + result.non2xx;
  check(failed === 0, `${options.url}: ${failed} failed requests under autocannon`);
  return {
    cpuMicrosecondsPerRequest: (cpuMs * 1000) / Math.max(1, result.requests.total),
    connections: options.connections,
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    meanBytes: result.throughput.total / Math.max(1, result.requests.total),
  };
}

/**
 * `paths` (tile URLs on a server with the tile cache on) requested once to fill the cache,
 * then cycled by autocannon for `seconds` at each concurrency, and an empty Fastify route with
 * a body of their mean size sent the very same requests (paths, query strings, bearer header),
 * so the load generator, which shares the machine, does the same work for both. The
 * warehouse's committed transactions over each Graticule run show whether the tiles really
 * came from the cache; each side's CPU time per request is read from /proc.
 */
export async function measureCacheHits(ctx, { paths, concurrencies, seconds, contentType }) {
  const headers = bearer(ctx.token);
  const sizes = [];
  for (const path of paths) {
    for (let i = 0; i < 2; i += 1) {
      const response = await ctx.client.request(path, { headers });
      check(response.status === 200, `cached tile ${path} answered ${response.status}`);
      sizes.push(response.bytes);
    }
  }
  const bytes = Math.round(sizes.reduce((t, s) => t + s, 0) / sizes.length);
  const route = await startEmptyRoute({ bytes, contentType });
  try {
    const runs = [];
    for (const connections of concurrencies) {
      ctx.progress(`cached tiles: Graticule, ${connections} connections, ${seconds} s...`);
      const before = await committedTransactions(ctx.info);
      const requests = paths.map((path) => ({ path }));
      const graticule = await cannon(
        { url: ctx.client.baseUrl, connections, duration: seconds, headers, requests },
        ctx.serverPid,
      );
      await delay(STATS_FLUSH_MS);
      // Less the one transaction of the `before` reading itself.
      const after = await committedTransactions(ctx.info);
      graticule.warehouseTransactions = Math.max(0, after - before - 1);
      ctx.progress(`cached tiles: empty Fastify route, ${connections} connections...`);
      const floor = await cannon(
        { url: route.baseUrl, connections, duration: seconds, headers, requests },
        route.pid,
      );
      runs.push({ connections, graticule, floor });
    }
    return { tiles: paths.length, bodyBytes: bytes, route: EMPTY_ROUTE_PATH, runs };
  } finally {
    await route.stop();
  }
}
