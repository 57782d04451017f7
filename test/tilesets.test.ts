/**
 * Pre-generated tilesets end to end: created through the HTTP job and the command line, on the
 * embedded warehouse and on PostgreSQL, served to CARTO's own `vectorTilesetSource`, compared
 * tile by tile with the on-demand tiles of the same source, and exported to PMTiles.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  vectorQuerySource,
  vectorTableSource,
  vectorTilesetSource,
  type TilejsonResult,
  type VectorTilesetSourceResponse,
} from '@carto/api-client';
import { PMTiles, TileType } from 'pmtiles';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeCartoBinaryTile } from '../src/test-support/carto-binary-decoder.js';
import { tileRangesOf, tilesOf, type Bounds } from '../src/tilesets/tile-ranges.js';
import { fetchToken, sharedServer } from './support/api.js';
import { createPostgresConnection } from './support/postgres-demo.js';
import { describeWithPostgres, pollUntil, runAsSuperuser } from './support/postgres.js';
import { startServerProcess } from './support/server-process.js';
import { decodeMvt, tileUrl } from './support/tiles.js';
import { LocalFileSource } from '../src/test-support/pmtiles-file-source.js';

const shared = sharedServer();
const sharedDataDir = inject('dataDir');
const suffix = randomBytes(3).toString('hex');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'graticule-tilesets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * Runs the built `graticule` command on a data directory. Asynchronously: a synchronous run
 * would stall this process's HTTP client, whose idle sockets the server then closes unseen.
 */
function runCli(args: string[], options: { dataDir: string }) {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, GRATICULE_DATA_DIR: options.dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** 300 points on a grid over Iberia and France, and two squares, with numbers and text. */
const POINTS_QUERY = `
  SELECT i AS id, 'place ' || i AS name, (i % 7) * 1.5 AS value,
         ST_SetSRID(ST_MakePoint(-9 + (i % 20) * 0.9, 36 + (i / 20) * 0.8), 4326) AS geom
    FROM generate_series(1, 300) AS i
  UNION ALL
  SELECT 1000 + i, 'area ' || i, i * 10.0,
         ST_MakeEnvelope(-5 + i * 4, 38, -3 + i * 4, 40, 4326)
    FROM generate_series(1, 2) AS i`;

/** A client of one server: its token, and helpers for raw requests. */
function apiClient(server: () => { baseUrl: string; clientId: string; clientSecret: string }) {
  let token = '';
  const client = {
    get baseUrl() {
      return server().baseUrl;
    },
    get token() {
      return token;
    },
    async login() {
      const { baseUrl, clientId, clientSecret } = server();
      token = await fetchToken(baseUrl, clientId, clientSecret);
    },
    fetch(pathOrUrl: string, init: RequestInit = {}) {
      const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${server().baseUrl}${pathOrUrl}`;
      const headers = { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) };
      return fetch(url, { ...init, headers });
    },
    async json(pathOrUrl: string, init: RequestInit = {}) {
      const response = await client.fetch(pathOrUrl, init);
      return { status: response.status, body: (await response.json()) as any };
    },
    async sql(connection: string, q: string) {
      const { status, body } = await client.json(`/v3/sql/${connection}/query`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ q }),
      });
      if (status !== 200) throw new Error(`SQL failed (${status}): ${JSON.stringify(body)}`);
      return body.rows as Record<string, unknown>[];
    },
    createJob(connection: string, options: Record<string, unknown>) {
      return client.json(`/v3/maps/${connection}/tileset/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(options),
      });
    },
    /** Creates a job, expects 201, and answers the job once it has ended. */
    async runJob(connection: string, options: Record<string, unknown>) {
      const created = await client.createJob(connection, options);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body).toMatchObject({ id: expect.any(String), status: expect.any(String) });
      return client.waitForJob(connection, created.body.id);
    },
    async waitForJob(connection: string, id: string) {
      let job: any;
      const ended = await pollUntil(async () => {
        job = (await client.json(`/v3/maps/${connection}/tileset/jobs/${id}`)).body;
        return ['success', 'failure', 'cancelled'].includes(job.status);
      }, 90_000);
      expect(ended, JSON.stringify(job)).toBe(true);
      return job;
    },
    async tile(url: string, headers: Record<string, string> = {}) {
      const response = await client.fetch(url, { headers });
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        etag: response.headers.get('etag'),
        cacheControl: response.headers.get('cache-control'),
        body: new Uint8Array(await response.arrayBuffer()),
      };
    },
  };
  return client;
}

/** MVT features as sorted JSON, so tiles built in another order still compare equal. */
function mvtFeatures(body: Uint8Array, z: number, x: number, y: number): string[] {
  const { features } = decodeMvt(body.slice().buffer, z, x, y);
  return features
    .map((f) => JSON.stringify({ geometry: f.geometry, properties: f.properties }))
    .sort();
}

/** Every vertex of a CARTO binary tile with its feature's properties, as sorted JSON. */
function binaryVertices(body: Uint8Array): string[] {
  const tile = decodeCartoBinaryTile(body);
  const vertices: string[] = [];
  for (const kind of ['points', 'lines', 'polygons'] as const) {
    const decoded = tile[kind];
    const size = decoded.positionSize || 2;
    for (let i = 0; i < decoded.featureIds.length; i += 1) {
      const numeric = Object.entries(decoded.numericProps).map(([k, v]) => [k, v[i]]);
      vertices.push(
        JSON.stringify([
          kind,
          Array.from(decoded.positions.subarray(i * size, (i + 1) * size)),
          decoded.properties[decoded.featureIds[i]!],
          Object.fromEntries(numeric.sort()),
        ]),
      );
    }
  }
  return vertices.sort();
}

type Client = ReturnType<typeof apiClient>;

/**
 * Fetches every tile a tileset may hold from its template and from the on-demand template of
 * the same source, and expects the same answers: status, type and decoded features.
 */
async function expectSameTiles(
  client: Client,
  tileset: TilejsonResult,
  onDemandTemplate: string,
  format: 'mvt' | 'binary',
) {
  const ranges = tileRangesOf(tileset.bounds as Bounds, tileset.minzoom, tileset.maxzoom);
  let withFeatures = 0;
  for (const { z, x, y } of ranges.flatMap(tilesOf)) {
    const [stored, built] = await Promise.all([
      client.tile(tileUrl(tileset.tiles[0]!, z, x, y)),
      client.tile(tileUrl(onDemandTemplate, z, x, y)),
    ]);
    const where = `tile ${z}/${x}/${y}`;
    expect(stored.status, where).toBe(built.status);
    if (stored.status !== 200) continue;
    withFeatures += 1;
    expect(stored.type, where).toBe(built.type);
    if (format === 'mvt') {
      expect(mvtFeatures(stored.body, z, x, y), where).toEqual(mvtFeatures(built.body, z, x, y));
    } else {
      expect(binaryVertices(stored.body), where).toEqual(binaryVertices(built.body));
    }
  }
  expect(withFeatures).toBeGreaterThan(0);
}

describe('tilesets on the embedded warehouse, created through the HTTP job', () => {
  const client = apiClient(() => shared);
  const countries = `public.tileset_countries_${suffix}`;
  const points = `public.tileset_points_${suffix}`;
  let countriesTileset: VectorTilesetSourceResponse;

  beforeAll(async () => {
    await client.login();
  });

  afterAll(async () => {
    for (const name of [countries, points, `public.tileset_default_${suffix}`]) {
      await client.sql('carto_dw', `DROP TABLE IF EXISTS ${name}`);
    }
  });

  it('creates an MVT tileset of demo.countries and reports progress to the end', async () => {
    const job = await client.runJob('carto_dw', {
      name: countries,
      table: 'demo.countries',
      minZoom: 0,
      maxZoom: 2,
      format: 'mvt',
    });
    expect(job).toMatchObject({
      status: 'success',
      tileset: countries,
      format: 'mvt',
      minZoom: 0,
      maxZoom: 2,
      progress: { phase: 'done', fraction: 1, tilesDone: 21, tilesEstimated: 21 },
      result: { minzoom: 0, maxzoom: 2 },
    });
    expect(job.result.tileCount).toBeGreaterThan(10);
    expect(job.result.tileCount).toBeLessThanOrEqual(21);
  });

  it('serves it to vectorTilesetSource with the TileJSON of the on-demand source', async () => {
    const options = { apiBaseUrl: shared.baseUrl, accessToken: client.token };
    countriesTileset = await vectorTilesetSource({
      ...options,
      connectionName: 'carto_dw',
      tableName: countries,
    });
    const onDemand = await vectorTableSource({
      ...options,
      connectionName: 'carto_dw',
      tableName: 'demo.countries',
    });
    expect(countriesTileset).toMatchObject({
      tilejson: '3.0.0',
      scheme: 'xyz',
      minzoom: 0,
      maxzoom: 2,
      bounds: onDemand.bounds,
      tilestats: onDemand.tilestats,
    });
    expect(countriesTileset.vector_layers[0]).toMatchObject({ id: 'default', maxzoom: 2 });
    expect(countriesTileset.fraction_dropped_per_zoom).toEqual([0, 0, 0]);
    const template = new URL(countriesTileset.tiles[0]!);
    expect(template.pathname).toBe('/v3/maps/carto_dw/tileset/%7Bz%7D/%7Bx%7D/%7By%7D');
    expect(template.searchParams.get('formatTiles')).toBe('mvt');
    expect(Number(template.searchParams.get('cache'))).toBeGreaterThan(0);
    const widgets = countriesTileset.widgetSource as unknown as { props: Record<string, unknown> };
    expect(widgets.props).toMatchObject({ tileFormat: 'mvt', spatialDataBounds: onDemand.bounds });

    const mvt = onDemand.tiles[0]!.replace('formatTiles=binary', 'formatTiles=mvt');
    await expectSameTiles(client, countriesTileset, mvt, 'mvt');
  });

  it('answers tiles with a year-long Cache-Control, an ETag and 304 when unchanged', async () => {
    const url = tileUrl(countriesTileset.tiles[0]!, 1, 0, 0);
    const first = await client.tile(url);
    expect(first.status).toBe(200);
    expect(first.type).toBe('application/vnd.mapbox-vector-tile');
    expect(first.cacheControl).toBe('private, max-age=31536000');
    expect(first.etag).toMatch(/^".+"$/);
    const again = await client.tile(url, { 'If-None-Match': first.etag! });
    expect(again.status).toBe(304);
    expect(again.body.byteLength).toBe(0);
    // Deeper than the tileset's last zoom there are no tiles: clients overzoom that zoom.
    expect((await client.tile(tileUrl(countriesTileset.tiles[0]!, 5, 15, 12))).status).toBe(204);
  });

  it('creates a binary tileset of a query that matches its on-demand binary tiles', async () => {
    const job = await client.runJob('carto_dw', {
      name: points,
      query: POINTS_QUERY,
      maxZoom: 4,
      format: 'binary',
    });
    expect(job.status, JSON.stringify(job.error)).toBe('success');

    const options = { apiBaseUrl: shared.baseUrl, accessToken: client.token };
    const tileset = await vectorTilesetSource({
      ...options,
      connectionName: 'carto_dw',
      tableName: points,
    });
    expect(new URL(tileset.tiles[0]!).searchParams.get('formatTiles')).toBe('binary');
    expect(tileset.tilestats.layers[0]).toMatchObject({ count: 302, geometry: 'Unknown' });
    const name = tileset.tilestats.layers[0]!.attributes.find((a) => a.attribute === 'name');
    expect(name?.categories?.length).toBeGreaterThan(0);
    const onDemand = await vectorQuerySource({
      ...options,
      connectionName: 'carto_dw',
      sqlQuery: POINTS_QUERY,
    });
    await expectSameTiles(client, tileset, onDemand.tiles[0]!, 'binary');
    const tile = await client.tile(tileUrl(tileset.tiles[0]!, 4, 7, 6));
    expect(tile.type).toBe('application/vnd.carto-vector-tile');
  });

  it('replaces a tileset only when asked, and hands out a new cache value', async () => {
    const again = await client.createJob('carto_dw', { name: points, query: POINTS_QUERY });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ status: 409, code: 'tileset_exists' });

    const before = await client.json(`/v3/maps/carto_dw/tileset?name=${points}`);
    const job = await client.runJob('carto_dw', {
      name: points,
      query: POINTS_QUERY,
      maxZoom: 2,
      overwrite: true,
    });
    expect(job.status).toBe('success');
    const tilejsonUrl = new URL(before.body.tilejson.url[0]);
    const previousCache = tilejsonUrl.searchParams.get('cache');
    tilejsonUrl.searchParams.set('cache', '0');
    const tilejson = (await client.json(tilejsonUrl.toString())).body;
    expect(tilejson.maxzoom).toBe(2);
    expect(new URL(tilejson.tiles[0]).searchParams.get('formatTiles')).toBe('mvt');
    expect(new URL(tilejson.tiles[0]).searchParams.get('cache')).not.toBe(previousCache);
    // A tile URL of the version made over answers nothing, and nothing to keep.
    const stale = new URL(tileUrl(tilejson.tiles[0], 0, 0, 0));
    stale.searchParams.set('cache', previousCache!);
    const old = await client.tile(stale.toString());
    expect(old).toMatchObject({ status: 204, cacheControl: 'no-store' });
    expect((await client.tile(tileUrl(tilejson.tiles[0], 0, 0, 0))).status).toBe(200);
  });

  it('picks the deepest zoom within the tile limit when maxZoom is left out', async () => {
    const job = await client.runJob('carto_dw', {
      name: `public.tileset_default_${suffix}`,
      query: "SELECT 'Madrid' AS name, ST_SetSRID(ST_MakePoint(-3.7, 40.42), 4326) AS geom",
    });
    expect(job).toMatchObject({ status: 'success', minZoom: 0, maxZoom: 14 });
    expect(job.result.tileCount).toBeGreaterThanOrEqual(15);
  });

  it('cancels a job and leaves neither the tileset nor its temporary table', async () => {
    const name = `public.tileset_cancelled_${suffix}`;
    const created = await client.createJob('carto_dw', {
      name,
      table: 'demo.countries',
      maxZoom: 6,
    });
    expect(created.status).toBe(201);
    const cancelled = await client.json(`/v3/maps/carto_dw/tileset/jobs/${created.body.id}`, {
      method: 'DELETE',
    });
    expect(cancelled.status).toBe(200);
    const job = await client.waitForJob('carto_dw', created.body.id);
    expect(job.status).toBe('cancelled');
    const left = await client.sql(
      'carto_dw',
      `SELECT to_regclass('${name}') IS NOT NULL AS "tileset",
              count(*) FILTER (WHERE relname LIKE '\\_graticule\\_tileset\\_%' AND relkind = 'r')
                AS "temporary"
         FROM pg_class`,
    );
    expect(left[0]).toEqual({ tileset: false, temporary: 0 });
    const again = await client.json(`/v3/maps/carto_dw/tileset/jobs/${created.body.id}`, {
      method: 'DELETE',
    });
    expect(again.status).toBe(400);
  });

  it('answers missing tilesets, other tables and bad tiles with JSON errors', async () => {
    const missing = await client.json('/v3/maps/carto_dw/tileset?name=public.no_such_tileset');
    expect(missing).toEqual({
      status: 404,
      body: {
        status: 404,
        code: 'table_not_found',
        error: "Table 'public.no_such_tileset' not found",
      },
    });
    const notTileset = await client.json('/v3/maps/carto_dw/tileset?name=demo.countries');
    expect(notTileset.status).toBe(404);
    expect(notTileset.body).toMatchObject({ status: 404, code: 'not_a_tileset' });
    const tile = (x: number, params = `name=${countries}`) =>
      client.json(`/v3/maps/carto_dw/tileset/1/${x}/0?${params}`);
    expect((await tile(2)).body).toMatchObject({ status: 400, code: 'invalid_tile' });
    expect((await tile(0, `name=${countries}&formatTiles=binary`)).body).toMatchObject({
      status: 400,
      code: 'invalid_parameter',
    });
    expect((await tile(0, 'name=demo.countries')).body).toMatchObject({ code: 'not_a_tileset' });
    const format = await client.json(`/v3/maps/carto_dw/tileset?name=${countries}&format=csv`);
    expect(format.body).toMatchObject({ status: 400, code: 'invalid_parameter' });
    const job = await client.json('/v3/maps/carto_dw/tileset/jobs/tileset_job_unknown');
    expect(job.body).toMatchObject({ status: 404, code: 'tileset_job_not_found' });
  });

  it('refuses bad creation options with 400 before starting a job', async () => {
    const refusals: [Record<string, unknown>, string][] = [
      [{ table: 'demo.countries' }, 'missing_parameter'],
      [{ name: 'public.t', table: 'demo.countries', maxZoom: 17 }, 'invalid_parameter'],
      [{ name: 'public.t', table: 'demo.countries', minZoom: 3, maxZoom: 2 }, 'invalid_parameter'],
      [{ name: 'public.t', table: 'demo.countries', format: 'png' }, 'invalid_parameter'],
      [{ name: 'public.t', table: 'demo.countries', tileResolution: 3 }, 'invalid_parameter'],
      [{ name: 'public.t', table: 'demo.countries', maxzoom: 3 }, 'invalid_parameter'],
      [{ name: 'public.t', table: 'demo.countries', query: 'SELECT 1' }, 'bad_request'],
      [{ name: 'public.t' }, 'bad_request'],
      [{ name: 'public.t', table: 'demo.no_such_table' }, 'table_not_found'],
      [
        { name: 'public.t', table: 'demo.countries', geomColumn: 'name' },
        'geometry_column_not_found',
      ],
      [
        { name: 'public.t', query: 'SELECT ST_MakePoint(0, 0) AS geom WHERE false' },
        'tileset_source_empty',
      ],
      [
        { name: 'demo.countries', query: 'SELECT ST_MakePoint(0, 0) AS geom', overwrite: true },
        'tileset_overwrite_refused',
      ],
      [{ name: 'no_such_schema.t', table: 'demo.countries' }, 'invalid_parameter'],
      [{ name: 'pg_catalog.t', table: 'demo.countries' }, 'invalid_parameter'],
      [{ name: `public.${'x'.repeat(64)}`, table: 'demo.countries' }, 'invalid_parameter'],
    ];
    const statusOf: Record<string, number> = {
      table_not_found: 404,
      tileset_overwrite_refused: 409,
    };
    for (const [options, code] of refusals) {
      const answer = await client.createJob('carto_dw', options);
      const status = statusOf[code] ?? 400;
      expect(answer.body, JSON.stringify(options)).toMatchObject({ code, status });
      expect(answer.status, JSON.stringify(options)).toBe(status);
    }
  });

  it('refuses a tileset whose estimated tile count is over the limit', async () => {
    const answer = await client.createJob('carto_dw', {
      name: 'public.t',
      query: 'SELECT ST_MakeEnvelope(-100, -50, 100, 50, 4326) AS geom',
      maxZoom: 16,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: 400, code: 'tileset_too_large' });
    expect(answer.body.error).toMatch(/more than the limit of 100000/);
  });

  it('refuses to open the embedded warehouse from the command line while the server runs', async () => {
    const run = await runCli(
      ['tilesets', 'create', 'public.t', '--connection', 'carto_dw', '--table', 'demo.countries'],
      { dataDir: sharedDataDir },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/open in a running Graticule server/);
    const bad = await runCli(['tilesets', 'create', 'public.t', '--connection', 'carto_dw'], {
      dataDir: sharedDataDir,
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/with --table or --query/);
  });
});

describe('tilesets made with the command line on a stopped server', () => {
  const dataDir = path.join(scratch, 'stopped');
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined;
  const client = apiClient(() => server!);

  beforeAll(async () => {
    const first = await startServerProcess({ loadDemoData: false, dataDir, keepDataDir: true });
    await first.stop();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('creates a tileset with a progress bar, then the restarted server serves it', async () => {
    const run = await runCli(
      [
        'tilesets',
        'create',
        'public.cli_points',
        '--connection',
        'carto_dw',
        '--query',
        POINTS_QUERY,
        '--max-zoom',
        '3',
        '--json',
      ],
      { dataDir },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      tileset: 'public.cli_points',
      format: 'mvt',
      minzoom: 0,
      maxzoom: 3,
      tileCount: expect.any(Number),
    });
    expect(run.stderr).toMatch(/\[#+\] 100% zoom 3, (\d+)\/\1 tiles visited/);

    server = await startServerProcess({ loadDemoData: false, dataDir });
    await client.login();
    const options = { apiBaseUrl: server.baseUrl, accessToken: client.token };
    const tileset = await vectorTilesetSource({
      ...options,
      connectionName: 'carto_dw',
      tableName: 'public.cli_points',
    });
    expect(tileset).toMatchObject({ minzoom: 0, maxzoom: 3, scheme: 'xyz' });
    const onDemand = await vectorQuerySource({
      ...options,
      connectionName: 'carto_dw',
      sqlQuery: POINTS_QUERY,
    });
    const mvt = onDemand.tiles[0]!.replace('formatTiles=binary', 'formatTiles=mvt');
    await expectSameTiles(client, tileset, mvt, 'mvt');
  });
});

describeWithPostgres('tilesets on a PostgreSQL connection', (info) => {
  const client = apiClient(() => shared);
  const connection = `tileset_pg_${suffix}`;
  const fixture = `tileset_fixture_${suffix}`;
  const mvtTileset = `${info.schema}.places_mvt_${suffix}`;
  const binaryTileset = `${info.schema}.places_bin_${suffix}`;

  beforeAll(async () => {
    await runAsSuperuser(
      info,
      `CREATE SCHEMA ${fixture};
       CREATE TABLE ${fixture}.places AS ${POINTS_QUERY};
       GRANT USAGE ON SCHEMA ${fixture} TO ${info.username};
       GRANT SELECT ON ALL TABLES IN SCHEMA ${fixture} TO ${info.username};`,
    );
    await client.login();
    await createPostgresConnection(shared.baseUrl, client.token, info, connection);
  });

  afterAll(async () => {
    await client.fetch(`/v3/connections/${connection}`, { method: 'DELETE' });
    await runAsSuperuser(
      info,
      `DROP SCHEMA IF EXISTS ${fixture} CASCADE;
       DROP TABLE IF EXISTS ${mvtTileset}, ${binaryTileset};`,
    );
  });

  const sources = () => ({
    apiBaseUrl: shared.baseUrl,
    accessToken: client.token,
    connectionName: connection,
  });

  it('creates an MVT tileset through the HTTP job matching tiles built in PostGIS', async () => {
    const job = await client.runJob(connection, {
      name: mvtTileset,
      table: `${fixture}.places`,
      maxZoom: 4,
    });
    expect(job.status, JSON.stringify(job.error)).toBe('success');
    const tileset = await vectorTilesetSource({ ...sources(), tableName: mvtTileset });
    const onDemand = await vectorTableSource({ ...sources(), tableName: `${fixture}.places` });
    expect(tileset.tilestats).toEqual(onDemand.tilestats);
    const mvt = onDemand.tiles[0]!.replace('formatTiles=binary', 'formatTiles=mvt');
    await expectSameTiles(client, tileset, mvt, 'mvt');
  });

  it('creates a binary tileset with the command line while the server runs', async () => {
    const run = await runCli(
      [
        'tilesets',
        'create',
        binaryTileset,
        '--connection',
        connection,
        '--table',
        `${fixture}.places`,
        '--format',
        'binary',
        '--max-zoom',
        '3',
      ],
      { dataDir: sharedDataDir },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`Tileset ${binaryTileset} created: \\d+ binary tiles`));
    const tileset = await vectorTilesetSource({ ...sources(), tableName: binaryTileset });
    const onDemand = await vectorTableSource({ ...sources(), tableName: `${fixture}.places` });
    await expectSameTiles(client, tileset, onDemand.tiles[0]!, 'binary');
  });

  it('exports the MVT tileset to a PMTiles archive the pmtiles reader reads back', async () => {
    const output = path.join(scratch, 'places.pmtiles');
    const run = await runCli(
      ['tilesets', 'export', mvtTileset, '--connection', connection, '--output', output, '--json'],
      { dataDir: sharedDataDir },
    );
    expect(run.status, run.stderr).toBe(0);

    const stored = await client.sql(
      connection,
      `SELECT z, x, y, encode(data, 'base64') AS data FROM ${mvtTileset} WHERE z >= 0`,
    );
    expect(JSON.parse(run.stdout)).toMatchObject({ tileCount: stored.length, maxzoom: 4 });
    const archive = new PMTiles(new LocalFileSource(output));
    const header = await archive.getHeader();
    const tilejson = await vectorTilesetSource({ ...sources(), tableName: mvtTileset });
    const [west, south, east, north] = tilejson.bounds!;
    expect(header).toMatchObject({
      specVersion: 3,
      tileType: TileType.Mvt,
      minZoom: 0,
      maxZoom: 4,
      numAddressedTiles: stored.length,
    });
    expect([header.minLon, header.minLat, header.maxLon, header.maxLat]).toEqual(
      [west, south, east, north].map((v) => Math.round(v * 1e7) / 1e7),
    );
    const metadata = (await archive.getMetadata()) as { vector_layers: unknown[] };
    expect(metadata.vector_layers).toEqual(tilejson.vector_layers);
    for (const row of stored) {
      const tile = await archive.getZxy(Number(row.z), Number(row.x), Number(row.y));
      expect(Buffer.from(tile!.data), `${row.z}/${row.x}/${row.y}`).toEqual(
        Buffer.from(String(row.data), 'base64'),
      );
    }
  });

  it('says in one line, without a stack, when it cannot write the export', async () => {
    const output = path.join(scratch, 'no-such-directory', 'countries.pmtiles');
    const run = await runCli(
      ['tilesets', 'export', mvtTileset, '--connection', connection, '--output', output],
      { dataDir: sharedDataDir },
    );
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^error: .*ENOENT/);
  });

  it('refuses to export a binary tileset to PMTiles', async () => {
    const output = path.join(scratch, 'binary.pmtiles');
    const run = await runCli(
      ['tilesets', 'export', binaryTileset, '--connection', connection, '--output', output],
      { dataDir: sharedDataDir },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/holds CARTO binary tiles; PMTiles archives hold Mapbox Vector/);
  });

  it('answers 404 for tiles of a tileset dropped since its metadata was read', async () => {
    const doomed = `${info.schema}.doomed_tiles_${suffix}`;
    const job = await client.runJob(connection, {
      name: doomed,
      table: `${fixture}.places`,
      maxZoom: 1,
    });
    expect(job.status).toBe('success');
    const tilejson = await client.json(
      `/v3/maps/${connection}/tileset?name=${doomed}&format=tilejson`,
    );
    expect((await client.tile(tileUrl(tilejson.body.tiles[0], 0, 0, 0))).status).toBe(200);
    await runAsSuperuser(info, `DROP TABLE ${doomed}`);
    // A tile this server has not read yet (those it read stay in memory by tileset version).
    const gone = await client.json(tileUrl(tilejson.body.tiles[0], 1, 0, 0));
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ status: 404, code: 'table_not_found' });
    const again = await client.json(`/v3/maps/${connection}/tileset?name=${doomed}`);
    expect(again.status).toBe(404);
  });
});
