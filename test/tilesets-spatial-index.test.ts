/**
 * Spatial-index tilesets end to end: H3 and quadbin tilesets created through the HTTP job and
 * the command line, on the embedded warehouse and on PostgreSQL, read by CARTO's own
 * `h3TilesetSource` and `quadbinTilesetSource`, their tiles decoded with deck.gl's loader and
 * compared, cell by cell, with sums computed here from the source rows with h3-js and quadbin.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  h3TableSource,
  h3TilesetSource,
  quadbinTableSource,
  quadbinTilesetSource,
  type TilejsonResult,
} from '@carto/api-client';
import { parse, type LoaderWithParser } from '@loaders.gl/core';
import {
  cellToParent as h3Parent,
  getRes0Cells,
  getResolution as h3Resolution,
  latLngToCell,
} from 'h3-js';
import {
  bigIntToHex,
  cellToParent as quadbinParentOnce,
  cellToTile,
  getResolution as quadbinResolution,
  tileToCell,
} from 'quadbin';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { createPostgresConnection } from './support/postgres-demo.js';
import { describeWithPostgres, pollUntil, runAsSuperuser } from './support/postgres.js';

const shared = sharedServer();
const sharedDataDir = inject('dataDir');
const suffix = randomBytes(3).toString('hex');
const ROOT = path.resolve(import.meta.dirname, '..');

type Scheme = 'h3' | 'quadbin';
type Sums = Map<string, Record<string, number | string>>;

let token = '';
beforeAll(async () => {
  token = await fetchToken(shared.baseUrl, shared.clientId, shared.clientSecret);
});

function call(pathOrUrl: string, init: RequestInit = {}) {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${shared.baseUrl}${pathOrUrl}`;
  const headers = { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) };
  return fetch(url, { ...init, headers });
}

async function sql(connection: string, q: string): Promise<Record<string, unknown>[]> {
  const response = await call(`/v3/sql/${connection}/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ q }),
  });
  const body = (await response.json()) as { rows: Record<string, unknown>[] };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.rows;
}

async function createJob(connection: string, options: Record<string, unknown>) {
  const response = await call(`/v3/maps/${connection}/tileset/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(options),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** Creates a tileset through the HTTP job and answers the job once it has ended. */
async function runJob(connection: string, options: Record<string, unknown>) {
  const created = await createJob(connection, options);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  let job: Record<string, any> = created.body;
  const ended = await pollUntil(async () => {
    job = (await (await call(`/v3/maps/${connection}/tileset/jobs/${job.id}`)).json()) as any;
    return ['success', 'failure', 'cancelled'].includes(job.status);
  }, 90_000);
  expect(ended && job.status, JSON.stringify(job)).toBe('success');
  return job;
}

/** Runs the built `graticule` command on the shared server's data directory. */
function runCli(args: string[]) {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, GRATICULE_DATA_DIR: sharedDataDir },
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

/** deck.gl's own decoder of CARTO spatial-index tiles (not exported by the package index). */
let loader: LoaderWithParser | undefined;
async function spatialTileLoader(): Promise<LoaderWithParser> {
  if (loader) return loader;
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('@deck.gl/carto'));
  const file = path.join(dist, 'layers/schema/carto-spatial-tile-loader.js');
  loader = ((await import(pathToFileURL(file).href)) as { default: LoaderWithParser }).default;
  return loader;
}

interface Cell {
  id: string | bigint;
  properties: Record<string, number | string>;
}

/** A tile from a `{i}` template: its status, headers and cells as deck.gl decodes them. */
async function fetchCells(template: string, index: string, scheme: Scheme, headers = {}) {
  const response = await call(template.replace('{i}', index), { headers });
  const cells: Cell[] = [];
  if (response.status === 200) {
    expect(response.headers.get('content-type')).toBe('application/vnd.carto-spatial-tile');
    const options = { cartoSpatialTile: { scheme }, worker: false } as never;
    cells.push(
      ...((await parse(
        await response.arrayBuffer(),
        await spatialTileLoader(),
        options,
      )) as Cell[]),
    );
  }
  return { response, cells };
}

function asSums(cells: Cell[]): Sums {
  return new Map(cells.map((c) => [String(c.id), c.properties]));
}

/** Adds each row's numbers into the cell `keyOf` names, per tile `tileOf` names. */
function expectedTiles(
  rows: Record<string, unknown>[],
  tileOf: (row: Record<string, unknown>) => string,
  cellOf: (row: Record<string, unknown>) => string,
  aggregate: (
    sums: Record<string, number | string> | undefined,
    row: Record<string, unknown>,
  ) => Record<string, number | string>,
): Map<string, Sums> {
  const tiles = new Map<string, Sums>();
  for (const row of rows) {
    const tile = tileOf(row);
    const cells = tiles.get(tile) ?? new Map();
    const cell = cellOf(row);
    cells.set(cell, aggregate(cells.get(cell), row));
    tiles.set(tile, cells);
  }
  return tiles;
}

function quadbinParent(cell: bigint, resolution: number): bigint {
  let parent = cell;
  while (quadbinResolution(parent) > BigInt(resolution)) parent = quadbinParentOnce(parent);
  return parent;
}

async function expectError(response: Response, status: number, mentions: string) {
  const body = (await response.json()) as { error: string; status: number };
  expect(response.status, JSON.stringify(body)).toBe(status);
  expect(body.status).toBe(status);
  expect(typeof body.error).toBe('string');
  expect(JSON.stringify(body)).toContain(mentions);
}

const PLACES_SUMS = 'sum(population) AS population, sum(place_count) AS places';

function addPlaces(
  sums: Record<string, number | string> | undefined,
  row: Record<string, unknown>,
) {
  return {
    population: Number(sums?.population ?? 0) + Number(row.population),
    places: Number(sums?.places ?? 0) + Number(row.place_count),
  };
}

describe('spatial-index tilesets on the embedded warehouse', () => {
  const sources = () => ({
    apiBaseUrl: shared.baseUrl,
    accessToken: token,
    connectionName: 'carto_dw',
  });
  const h3Tileset = `public.places_h3_tiles_${suffix}`;
  const quadbinTileset = `public.places_quadbin_tiles_${suffix}`;
  const vectorTileset = `public.spain_tiles_${suffix}`;
  let h3: TilejsonResult;
  let quadbin: TilejsonResult;

  beforeAll(async () => {
    const h3Job = await runJob('carto_dw', {
      name: h3Tileset,
      table: 'demo.places_h3',
      spatialDataType: 'h3',
      aggregationExp: PLACES_SUMS,
    });
    expect(h3Job.result).toMatchObject({ scheme: 'h3', minzoom: 0, maxzoom: 1 });
    const quadbinJob = await runJob('carto_dw', {
      name: quadbinTileset,
      query: 'SELECT quadbin, population, place_count FROM demo.places_quadbin',
      spatialDataType: 'quadbin',
      aggregationExp: PLACES_SUMS,
      aggregationResLevel: 5,
      minZoom: 1,
      maxZoom: 3,
    });
    expect(quadbinJob.result).toMatchObject({ scheme: 'quadbin', minzoom: 1, maxzoom: 3 });
    await runJob('carto_dw', {
      name: vectorTileset,
      query: "SELECT name, geom FROM demo.countries WHERE name = 'Spain'",
      maxZoom: 1,
    });
    h3 = await h3TilesetSource({ ...sources(), tableName: h3Tileset });
    quadbin = await quadbinTilesetSource({ ...sources(), tableName: quadbinTileset });
  });

  it('answers the TileJSON the H3 and quadbin tile layers read', async () => {
    const onDemand = await h3TableSource({
      ...sources(),
      tableName: 'demo.places_h3',
      aggregationExp: PLACES_SUMS,
    });
    expect(h3).toMatchObject({
      tilejson: '3.0.0',
      scheme: 'h3',
      minresolution: 0,
      maxresolution: 1,
      aggregationResLevel: 4,
      dataresolution: 5,
      tilestats: onDemand.tilestats,
      bounds: onDemand.bounds,
    });
    expect(h3.tiles[0]).toMatch(
      new RegExp(
        `/v3/maps/carto_dw/tileset/\\{i\\}\\?name=${h3Tileset}&formatTiles=binary&cache=\\d+$`,
      ),
    );
    expect(h3.schema).toEqual([
      { name: 'h3', type: 'string' },
      { name: 'population', type: 'number' },
      { name: 'places', type: 'bigint' },
    ]);
    expect(h3.vector_layers[0]!.fields).toEqual({ population: 'Number', places: 'Number' });

    expect(quadbin).toMatchObject({
      scheme: 'quadbin',
      minresolution: 1,
      maxresolution: 3,
      minzoom: 1,
      maxzoom: 3,
      dataresolution: 11,
    });
    expect(quadbin.tiles[0]).toContain('/tileset/{i}?');
  });

  it('stores every H3 tile, each the cells four levels below it with their sums', async () => {
    const rows = await sql('carto_dw', 'SELECT h3, population, place_count FROM demo.places_h3');
    const cellAt = (row: Record<string, unknown>, r: number) => h3Parent(String(row.h3), r);
    const expected = new Map([
      ...expectedTiles(
        rows,
        (row) => cellAt(row, 0),
        (row) => cellAt(row, 4),
        addPlaces,
      ),
      ...expectedTiles(
        rows,
        (row) => cellAt(row, 1),
        (row) => cellAt(row, 5),
        addPlaces,
      ),
    ]);
    const [stored] = await sql(
      'carto_dw',
      `SELECT count(*)::int AS n FROM ${h3Tileset} WHERE z >= 0`,
    );
    expect(stored!.n).toBe(expected.size);

    // Every tile of resolution 0, with or without places, then every stored one of 1.
    const res1 = [...expected.keys()].filter((tile) => h3Resolution(tile) === 1);
    expect(res1.length).toBeGreaterThan(100);
    for (const tile of [...getRes0Cells(), ...res1]) {
      const { response, cells } = await fetchCells(h3.tiles[0]!, tile, 'h3');
      const want = expected.get(tile);
      expect(response.status, tile).toBe(want ? 200 : 204);
      if (want) expect(asSums(cells), tile).toEqual(want);
    }
  });

  it('stores the same cells as the on-demand tiles of the same source', async () => {
    const onDemand = await quadbinTableSource({
      ...sources(),
      tableName: 'demo.places_quadbin',
      aggregationExp: PLACES_SUMS,
      aggregationResLevel: 5,
    });
    const tile = bigIntToHex(tileToCell({ x: 4, y: 2, z: 3 })); // western Europe
    const stored = await fetchCells(quadbin.tiles[0]!, tile, 'quadbin');
    const built = await fetchCells(onDemand.tiles[0]!, tile, 'quadbin');
    expect(stored.cells.length).toBeGreaterThan(100);
    expect(asSums(stored.cells)).toEqual(asSums(built.cells));
    expect(quadbin.tilestats).toEqual(onDemand.tilestats);
  });

  it('stores every quadbin tile at its z/x/y, with the sums of its cells', async () => {
    const rows = await sql(
      'carto_dw',
      'SELECT quadbin::text AS q, population, place_count FROM demo.places_quadbin',
    );
    const cellAt = (row: Record<string, unknown>, r: number) =>
      quadbinParent(BigInt(String(row.q)), r).toString();
    const expected = new Map<string, Sums>();
    for (const z of [1, 2, 3]) {
      const tiles = expectedTiles(
        rows,
        (row) => cellAt(row, z),
        (row) => cellAt(row, z + 5),
        addPlaces,
      );
      for (const [tile, cells] of tiles) expected.set(tile, cells);
    }
    const stored = await sql('carto_dw', `SELECT z, x, y FROM ${quadbinTileset} WHERE z >= 0`);
    const keys = stored.map((r) => tileToCell({ z: Number(r.z), x: Number(r.x), y: Number(r.y) }));
    expect(keys.map(String).sort()).toEqual([...expected.keys()].sort());

    for (const [tile, want] of expected) {
      const { response, cells } = await fetchCells(
        quadbin.tiles[0]!,
        bigIntToHex(BigInt(tile)),
        'quadbin',
      );
      expect(response.status, tile).toBe(200);
      expect(asSums(cells), tile).toEqual(want);
    }
  });

  it('keys H3 tiles by resolution and the two halves of the index', async () => {
    const tile = latLngToCell(48.85, 2.35, 1);
    const id = BigInt(`0x${tile}`);
    const high = Number(id >> 32n);
    const low = Number(BigInt.asIntN(32, id));
    const rows = await sql(
      'carto_dw',
      `SELECT length(data) AS bytes FROM ${h3Tileset} WHERE z = 1 AND x = ${high} AND y = ${low}`,
    );
    expect(rows).toHaveLength(1);
    const response = await call(h3.tiles[0]!.replace('{i}', tile));
    expect((await response.arrayBuffer()).byteLength).toBe(Number(rows[0]!.bytes));
  });

  it('feeds the tileset widget source with the cells of loaded tiles', async () => {
    const tile = latLngToCell(48.85, 2.35, 1);
    const { cells } = await fetchCells(h3.tiles[0]!, tile, 'h3');
    const source = await h3TilesetSource({ ...sources(), tableName: h3Tileset });
    source.widgetSource.loadTiles([
      { id: tile, index: { i: tile }, isVisible: true, data: cells },
    ] as never);
    const { value } = await source.widgetSource.getFormula({
      column: 'population',
      operation: 'sum',
    });
    const total = cells.reduce((sum, c) => sum + Number(c.properties.population), 0);
    expect(value).toBeCloseTo(total, 6);
  });

  it('answers tiles with a year-long Cache-Control, an ETag, 304 and 204', async () => {
    const url = quadbin.tiles[0]!.replace('{i}', bigIntToHex(tileToCell({ x: 4, y: 2, z: 3 })));
    const first = await call(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('private, max-age=31536000');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect((await call(url, { headers: { 'If-None-Match': etag } })).status).toBe(304);

    // Under the open ocean, and coarser than the tileset's first resolution.
    const ocean = bigIntToHex(tileToCell({ x: 1, y: 5, z: 3 }));
    const empty = await call(quadbin.tiles[0]!.replace('{i}', ocean));
    expect(empty.status).toBe(204);
    expect(empty.headers.get('cache-control')).toBe('private, max-age=31536000');
    const coarse = await call(
      quadbin.tiles[0]!.replace('{i}', bigIntToHex(tileToCell({ x: 0, y: 0, z: 0 }))),
    );
    expect(coarse.status).toBe(204);
  });

  it('refuses cells of the other scheme, beyond maxresolution, or as vector tiles', async () => {
    const h3Template = h3.tiles[0]!;
    const quadbinTemplate = quadbin.tiles[0]!;
    const paris = latLngToCell(48.85, 2.35, 1);
    const quadbinTile = bigIntToHex(tileToCell({ x: 4, y: 2, z: 3 }));
    await expectError(await call(quadbinTemplate.replace('{i}', paris)), 400, 'quadbin cell');
    await expectError(await call(h3Template.replace('{i}', quadbinTile)), 400, 'h3 cell');
    for (const index of ['zz', '0', 'ffffffffffffffff', '8019fffffffffff0']) {
      await expectError(await call(h3Template.replace('{i}', index)), 400, 'tile');
    }
    const deep = bigIntToHex(tileToCell({ x: 32, y: 20, z: 6 }));
    await expectError(await call(quadbinTemplate.replace('{i}', deep)), 400, 'maxresolution 3');
    await expectError(
      await call(h3Template.replace('{i}', latLngToCell(48.85, 2.35, 2))),
      400,
      'maxresolution 1',
    );
    await expectError(
      await call(h3Template.replace('{i}', paris).replace('formatTiles=binary', 'formatTiles=mvt')),
      400,
      'formatTiles',
    );

    // A spatial-index tileset asked for XYZ tiles, and a vector tileset for cells.
    await expectError(await call(h3Template.replace('/{i}?', '/0/0/0?')), 400, '/{i}');
    const vector = await call(`/v3/maps/carto_dw/tileset/0/0/0?name=${vectorTileset}`);
    expect(vector.status).toBe(200);
    const cellOfVector = `/v3/maps/carto_dw/tileset/${paris}?name=${vectorTileset}`;
    await expectError(await call(cellOfVector), 400, '{z}/{x}/{y}');
    await expectError(await call(`/v3/maps/carto_dw/tileset/${paris}`), 400, 'name');
    await expectError(
      await call(`/v3/maps/carto_dw/tileset/${paris}?name=public.no_such_tileset_${suffix}`),
      404,
      'no_such_tileset',
    );
    await expectError(
      await call(`/v3/maps/carto_dw/tileset/${paris}?name=demo.places_h3`),
      404,
      'not_a_tileset',
    );
  });

  it('refuses bad spatial-index creations with 400 before starting a job', async () => {
    const base = {
      name: `public.refused_${suffix}`,
      table: 'demo.places_h3',
      spatialDataType: 'h3',
      aggregationExp: PLACES_SUMS,
    };
    const refused = async (options: Record<string, unknown>, mentions: string) => {
      const { status, body } = await createJob('carto_dw', options);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(body)).toContain(mentions);
    };
    await refused({ ...base, spatialDataType: 'h4' }, 'spatialDataType');
    await refused({ ...base, aggregationExp: undefined }, 'aggregationExp');
    await refused(
      { ...base, aggregationExp: 'sum(population) AS p; DROP TABLE x' },
      'aggregationExp',
    );
    await refused({ ...base, aggregationExp: 'sum(no_such_column) AS x' }, 'no_such_column');
    await refused({ ...base, aggregationResLevel: 99 }, 'aggregationResLevel');
    await refused({ ...base, format: 'mvt' }, 'format');
    await refused({ ...base, maxZoom: 6 }, 'maxZoom');
    await refused({ ...base, minZoom: 6 }, 'minZoom');
    await refused({ ...base, spatialDataColumn: 'population' }, 'population');
    await refused({ ...base, table: 'demo.countries', spatialDataColumn: 'geom' }, 'geom');
    await refused({ name: base.name, table: 'demo.places_h3' }, 'geom');
    await refused(
      { name: base.name, table: 'demo.countries', aggregationExp: 'count(*) AS n' },
      'aggregationExp',
    );
  });

  it('lets API access tokens read the cells of a granted tileset only', async () => {
    const apiToken = async (label: string, source: string) => {
      const created = await call('/v3/tokens', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          name: `spatial tilesets ${label} ${suffix}`,
          grants: [{ connection_name: 'carto_dw', source }],
          allowed_apis: ['maps'],
        }),
      });
      expect(created.status).toBe(201);
      return ((await created.json()) as { token: string }).token;
    };
    const url = h3.tiles[0]!.replace('{i}', latLngToCell(48.85, 2.35, 1));
    const granted = await fetch(url, {
      headers: { Authorization: `Bearer ${await apiToken('granted', h3Tileset)}` },
    });
    expect(granted.status).toBe(200);
    expect((await granted.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const other = await apiToken('other', 'demo.countries');
    const denied = await fetch(url, { headers: { Authorization: `Bearer ${other}` } });
    await expectError(denied, 403, '"status":403');
    await expectError(await fetch(url), 401, 'token');
  });
});

/** A grid of points over Iberia and France as cells, with a number and a text per point. */
function fixtureRows() {
  const rows: { quadbin: bigint; h3: bigint; value: number; kind: string }[] = [];
  for (let i = 0; i < 40; i += 1) {
    for (let j = 0; j < 30; j += 1) {
      const lon = -9 + i * 0.35;
      const lat = 36 + j * 0.4;
      const n = 2 ** 12;
      const sin = Math.sin((lat * Math.PI) / 180);
      const x = Math.floor(((lon + 180) / 360) * n);
      const y = Math.floor((0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * n);
      rows.push({
        quadbin: tileToCell({ x, y, z: 12 }),
        h3: BigInt(`0x${latLngToCell(lat, lon, 6)}`),
        value: (i * 7 + j) % 11,
        kind: `k${(i + j) % 3}`,
      });
    }
  }
  return rows;
}

describeWithPostgres('spatial-index tilesets on a PostgreSQL connection', (info) => {
  const connection = `si_tileset_pg_${suffix}`;
  const fixture = `si_fixture_${suffix}`;
  const quadbinTileset = `${info.schema}.cells_quadbin_${suffix}`;
  const h3Tileset = `${info.schema}.cells_h3int_${suffix}`;
  const rows = fixtureRows();
  const sources = () => ({
    apiBaseUrl: shared.baseUrl,
    accessToken: token,
    connectionName: connection,
  });

  beforeAll(async () => {
    const values = rows.map((r) => `(${r.quadbin}, ${r.h3}, ${r.value}, '${r.kind}')`).join(',');
    await runAsSuperuser(
      info,
      `CREATE SCHEMA ${fixture};
       CREATE TABLE ${fixture}.cells (quadbin bigint, h3 bigint, value int, kind text);
       INSERT INTO ${fixture}.cells VALUES ${values};
       GRANT USAGE ON SCHEMA ${fixture} TO ${info.username};
       GRANT SELECT ON ALL TABLES IN SCHEMA ${fixture} TO ${info.username};`,
    );
    token = await fetchToken(shared.baseUrl, shared.clientId, shared.clientSecret);
    await createPostgresConnection(shared.baseUrl, token, info, connection);
  });

  afterAll(async () => {
    await call(`/v3/connections/${connection}`, { method: 'DELETE' });
    await runAsSuperuser(
      info,
      `DROP SCHEMA IF EXISTS ${fixture} CASCADE;
       DROP TABLE IF EXISTS ${quadbinTileset}, ${h3Tileset};`,
    );
  });

  it('creates a quadbin tileset with the command line, text aggregates included', async () => {
    const run = await runCli([
      'tilesets',
      'create',
      quadbinTileset,
      '--connection',
      connection,
      '--table',
      `${fixture}.cells`,
      '--spatial-data-type',
      'quadbin',
      '--aggregation-exp',
      'sum(value) AS total, count(*) AS n, min(kind) AS kind',
      '--aggregation-res-level',
      '4',
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/created: \d+ quadbin tiles, resolution 0 to 8/);

    const tileset = await quadbinTilesetSource({ ...sources(), tableName: quadbinTileset });
    expect(tileset).toMatchObject({ scheme: 'quadbin', minresolution: 0, maxresolution: 8 });
    expect(tileset.schema).toContainEqual({ name: 'kind', type: 'string' });
    const expected = new Map<string, Sums>();
    for (let z = 0; z <= 8; z += 1) {
      const tiles = expectedTiles(
        rows,
        (row) => quadbinParent(row.quadbin as bigint, z).toString(),
        (row) => quadbinParent(row.quadbin as bigint, z + 4).toString(),
        (sums, row) => ({
          total: Number(sums?.total ?? 0) + Number(row.value),
          n: Number(sums?.n ?? 0) + 1,
          kind: sums && String(sums.kind) < String(row.kind) ? sums.kind! : String(row.kind),
        }),
      );
      for (const [tile, cells] of tiles) expected.set(tile, cells);
    }
    const [stored] = await runAsSuperuser<{ n: number }>(
      info,
      `SELECT count(*)::int AS n FROM ${quadbinTileset} WHERE z >= 0`,
    );
    expect(stored!.n).toBe(expected.size);
    for (const [tile, want] of expected) {
      const { z, x, y } = cellToTile(BigInt(tile));
      const { response, cells } = await fetchCells(
        tileset.tiles[0]!,
        bigIntToHex(BigInt(tile)),
        'quadbin',
      );
      expect(response.status, `${z}/${x}/${y}`).toBe(200);
      expect(asSums(cells), `${z}/${x}/${y}`).toEqual(want);
    }
  });

  it('creates an H3 tileset of integer cells through the HTTP job', async () => {
    await runJob(connection, {
      name: h3Tileset,
      table: `${fixture}.cells`,
      spatialDataType: 'h3int',
      spatialDataColumn: 'h3',
      aggregationExp: 'max(value) AS top, count(*) AS n',
    });
    const tileset = await h3TilesetSource({ ...sources(), tableName: h3Tileset });
    expect(tileset).toMatchObject({ scheme: 'h3', minresolution: 0, maxresolution: 2 });
    const hexOf = (row: Record<string, unknown>) => (row.h3 as bigint).toString(16);
    for (let r = 0; r <= 2; r += 1) {
      const expected = expectedTiles(
        rows,
        (row) => h3Parent(hexOf(row), r),
        (row) => h3Parent(hexOf(row), Math.min(6, r + 4)),
        (sums, row) => ({
          top: Math.max(Number(sums?.top ?? -Infinity), Number(row.value)),
          n: Number(sums?.n ?? 0) + 1,
        }),
      );
      expect(expected.size).toBeGreaterThan(0);
      for (const [tile, want] of expected) {
        const { response, cells } = await fetchCells(tileset.tiles[0]!, tile, 'h3');
        expect(response.status, tile).toBe(200);
        expect(asSums(cells), tile).toEqual(want);
      }
    }
  });

  it('refuses to export a spatial-index tileset to PMTiles', async () => {
    const run = await runCli([
      'tilesets',
      'export',
      quadbinTileset,
      '--connection',
      connection,
      '--output',
      path.join(ROOT, `never-written-${suffix}.pmtiles`),
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/holds quadbin cells; PMTiles archives hold Mapbox Vector Tiles/);
  });
});
