/** The measurements taken over HTTP against one running server. */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { URLSearchParams } from 'node:url';
import {
  issueToken,
  pollLatency,
  runForDuration,
  runList,
  tokenRequestBody,
} from './http-client.mjs';
import { CLIENT_ID, CLIENT_SECRET } from './server.mjs';
import { summarize, summarizeTiles } from './stats.mjs';
import { ZOOM_BANDS, drawRowNumbers, tilesInBand } from './tiles.mjs';

const HEALTH_POLL_MS = 100;
// Browsers send this; tiles come back compressed only if the server chooses to.
const ACCEPT_ENCODING = 'gzip, deflate, br';

export async function measureTokenRate(client, durationMs, concurrency) {
  const body = tokenRequestBody(CLIENT_ID, CLIENT_SECRET);
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const { results, wallMs } = await runForDuration(durationMs, concurrency, () =>
    client.request('/oauth/token', { method: 'POST', headers, body }),
  );
  const latency = summarize(results.map((r) => r.ms));
  return {
    concurrency,
    count: results.length,
    tokensPerSecond: (results.length * 1000) / wallMs,
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    errors: results.filter((r) => r.status !== 200).length,
  };
}

export const authorized = (token) => ({ authorization: `Bearer ${token}` });

/**
 * CARTO's two-step instantiation: the source answer names the TileJSON, whose `tiles[0]` is
 * the URL template. The first call for a source inspects it (schema, bounds, tilestats).
 */
export async function instantiateSource(client, token, table, format) {
  const params = new URLSearchParams({ name: table, formatTiles: format });
  const source = await client.json(`/v3/maps/carto_dw/table?${params}`, {
    headers: authorized(token),
  });
  const tilejsonUrl = source.json.tilejson.url[0];
  const tilejson = await client.json(sameOrigin(client, tilejsonUrl), {
    headers: authorized(token),
  });
  return {
    table,
    format,
    instantiateMs: source.ms,
    tilejsonMs: tilejson.ms,
    rowCount: source.json.nrows,
    template: sameOrigin(client, tilejson.json.tiles[0]),
    fields: Object.keys(tilejson.json.vector_layers?.[0]?.fields ?? {}),
    fractionDropped: tilejson.json.fraction_dropped_per_zoom?.slice(0, 11),
  };
}

/**
 * Aims a URL the server handed out at our own server only. Plain string work: the URL parser
 * would percent-encode the template's {z}/{x}/{y}.
 */
function sameOrigin(client, url) {
  return url.replace(/^[a-z]+:\/\/[^/]+/i, client.baseUrl);
}

/** Draws the places behind the tile list with the server's SQL API, by seeded row numbers. */
export async function samplePlaces(client, token, random, count) {
  const sql = (q) =>
    client.json(`/v3/sql/carto_dw/query?${new URLSearchParams({ q })}`, {
      headers: authorized(token),
    });
  const counted = await sql('SELECT count(*)::int4 AS "n" FROM "demo"."populated_places"');
  const rowNumbers = drawRowNumbers(random, counted.json.rows[0].n, count);
  const picked = await sql(`
    SELECT "rn", ST_X("geom") AS "lon", ST_Y("geom") AS "lat"
      FROM (SELECT "geom", row_number() OVER (ORDER BY "id", "name") AS "rn"
              FROM "demo"."populated_places") AS "_numbered"
     WHERE "rn" = ANY(ARRAY[${[...new Set(rowNumbers)].join(',')}]::int8[])`);
  const byRow = new Map(picked.json.rows.map((row) => [Number(row.rn), row]));
  return rowNumbers.map((rn) => byRow.get(rn));
}

export function tileUrl(template, tile) {
  return template.replace('{z}', tile.z).replace('{x}', tile.x).replace('{y}', tile.y);
}

function fetchTile(client, token, template, tile) {
  const headers = { ...authorized(token), 'accept-encoding': ACCEPT_ENCODING };
  return client
    .request(tileUrl(template, tile), { headers })
    .then((response) => ({ ...tile, ...response }))
    .catch((error) => ({ ...tile, status: 0, ms: NaN, bytes: 0, errorText: String(error) }));
}

/**
 * Requests every band's tiles at `concurrency`, one band after another, so tiles/s is per band.
 * /health is polled meanwhile: any encoding left on the server's HTTP thread would show there.
 */
export async function measureTiles(client, token, template, tiles, concurrency) {
  const bands = [];
  // Our own event-loop lag: if it stays low, slow /health answers are the server's doing.
  const clientLag = monitorEventLoopDelay({ resolution: 10 });
  clientLag.enable();
  for (const band of ZOOM_BANDS) {
    const bandTiles = tilesInBand(tiles, band);
    let finish;
    const done = new Promise((resolve) => (finish = resolve));
    const health = pollLatency(client, '/health', HEALTH_POLL_MS * 2, done);
    const run = await runList(bandTiles, concurrency, (tile) =>
      fetchTile(client, token, template, tile),
    );
    finish();
    bands.push({ band: band.name, ...run, health: await health });
  }
  clientLag.disable();
  const lowZoom = bands.filter((b) => b.band !== 'z7-z10');
  const lowResults = lowZoom.flatMap((b) => b.results);
  const lowWallMs = lowZoom.reduce((total, b) => total + b.wallMs, 0);
  return {
    concurrency,
    bands: bands.map((b) => ({ band: b.band, ...summarizeTiles(b.results, b.wallMs) })),
    lowZoom: summarizeTiles(lowResults, lowWallMs),
    encodings: [...new Set(bands.flatMap((b) => b.results.map((r) => r.encoding)))],
    health: summarize(bands.flatMap((b) => b.health.map((s) => s.ms))),
    clientLagMaxMs: clientLag.max / 1e6,
    samples: bands.flatMap((b) =>
      b.results.map(({ z, x, y, status, ms, bytes }) => ({ z, x, y, status, ms, bytes })),
    ),
  };
}

/**
 * One long statement holds the single warehouse worker; meanwhile /health must stay fast and
 * tiles wait in the warehouse queue. Fires `tiles` half a second into the sleep.
 */
export async function measureBlocking(client, token, template, tiles, sleepSeconds) {
  const q = `SELECT pg_sleep(${sleepSeconds})`;
  const startedAt = performance.now();
  const sleeping = client.request(`/v3/sql/carto_dw/query?${new URLSearchParams({ q })}`, {
    headers: authorized(token),
  });
  await delay(200);
  const health = pollLatency(client, '/health', HEALTH_POLL_MS, sleeping);
  await delay(300);
  const firedAtMs = performance.now() - startedAt;
  const blocked = await Promise.all(tiles.map((t) => fetchTile(client, token, template, t)));
  const sleep = await sleeping;
  const healthSamples = await health;
  const unblocked = [];
  for (const tile of tiles) unblocked.push(await fetchTile(client, token, template, tile));
  return {
    sleepSeconds,
    sleepStatus: sleep.status,
    sleepMs: sleep.ms,
    tilesFiredAtMs: firedAtMs,
    expectedWaitMs: sleepSeconds * 1000 - firedAtMs,
    blockedTiles: blocked.map(({ z, x, y, status, ms }) => ({ z, x, y, status, ms })),
    unblockedTiles: unblocked.map(({ z, x, y, status, ms }) => ({ z, x, y, status, ms })),
    health: summarize(healthSamples.map((s) => s.ms)),
    healthFailures: healthSamples.filter((s) => s.status !== 200).length,
  };
}

/**
 * Per-request fixed cost, one request at a time: HTTP alone, then with token verification and
 * a warehouse round trip, then a whole (empty) tile request. Small tiles cost about this much.
 */
export async function measureFixedCosts(client, token, emptyTileUrl, count) {
  const probes = [
    { name: 'GET /health (HTTP only)', url: '/health', headers: {} },
    {
      name: 'SQL API SELECT 1 (+ token check, worker round trip)',
      url: `/v3/sql/carto_dw/query?${new URLSearchParams({ q: 'SELECT 1' })}`,
      headers: authorized(token),
    },
    { name: 'empty countries tile 10/0/0 (204)', url: emptyTileUrl, headers: authorized(token) },
  ];
  const results = [];
  for (const probe of probes) {
    const { results: responses } = await runList(new Array(count).fill(probe), 1, (p) =>
      client.request(p.url, { headers: p.headers }),
    );
    const statuses = [...new Set(responses.map((r) => r.status))];
    results.push({ name: probe.name, statuses, ...summarize(responses.map((r) => r.ms)) });
  }
  return results;
}

/** Tiles served from the in-memory cache: one pass to fill it, then the measured pass. */
export async function measureCachedTiles(client, token, template, tiles, concurrency) {
  await runList(tiles, concurrency, (tile) => fetchTile(client, token, template, tile));
  return measureTiles(client, token, template, tiles, concurrency);
}

export { issueToken };
