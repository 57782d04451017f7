import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  h3QuerySource,
  h3TableSource,
  quadbinQuerySource,
  quadbinTableSource,
  query,
} from '@carto/api-client';
import { parse, type LoaderWithParser } from '@loaders.gl/core';
import {
  cellToBoundary,
  cellToParent as h3Parent,
  getResolution as h3Resolution,
  latLngToCell,
} from 'h3-js';
import {
  bigIntToHex,
  cellToParent as quadbinParentOnce,
  getResolution as quadbinResolution,
  tileToCell,
} from 'quadbin';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { createPostgresConnection, ensurePostgresDemoData } from './support/postgres-demo.js';
import { runAsSuperuser } from './support/postgres.js';
import { uniqueName } from './support/widget-targets.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const postgres = inject('postgres');
let accessToken = '';

/** deck.gl's own decoder of CARTO spatial-index tiles (not exported by the package index). */
async function spatialTileLoader(): Promise<LoaderWithParser> {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('@deck.gl/carto'));
  const file = path.join(dist, 'layers/schema/carto-spatial-tile-loader.js');
  return ((await import(pathToFileURL(file).href)) as { default: LoaderWithParser }).default;
}

interface Cell {
  id: string | bigint;
  properties: Record<string, number | string>;
}

beforeAll(async () => {
  accessToken = await fetchToken(baseUrl, clientId, clientSecret);
});

function authorized() {
  return { headers: { Authorization: `Bearer ${accessToken}` } };
}

async function fetchCells(template: string, index: string, scheme: 'h3' | 'quadbin') {
  const response = await fetch(template.replace('{i}', index), authorized());
  if (response.status === 204) return { response, cells: [] as Cell[] };
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/vnd.carto-spatial-tile');
  const cells = (await parse(await response.arrayBuffer(), await spatialTileLoader(), {
    cartoSpatialTile: { scheme },
    worker: false,
  } as never)) as Cell[];
  return { response, cells };
}

function quadbinParent(cell: bigint, resolution: number): bigint {
  let parent = cell;
  while (quadbinResolution(parent) > BigInt(resolution)) parent = quadbinParentOnce(parent);
  return parent;
}

/** The quadbin tile holding a point at zoom z. */
function quadbinTileAt(lon: number, lat: number, z: number): bigint {
  const n = 2 ** z;
  const sin = Math.sin((lat * Math.PI) / 180);
  const x = Math.floor(((lon + 180) / 360) * n);
  const y = Math.floor((0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * n);
  return tileToCell({ x, y, z });
}

/** Sums of rows grouped by a key, as the server's aggregation should compute them. */
function groupSums(
  rows: Record<string, unknown>[],
  keyOf: (row: Record<string, unknown>) => string | null,
): Map<string, { population: number; places: number }> {
  const sums = new Map<string, { population: number; places: number }>();
  for (const row of rows) {
    const key = keyOf(row);
    if (key === null) continue;
    const entry = sums.get(key) ?? { population: 0, places: 0 };
    entry.population += Number(row.population);
    entry.places += Number(row.place_count);
    sums.set(key, entry);
  }
  return sums;
}

function asSums(cells: Cell[]): Map<string, { population: number; places: number }> {
  return new Map(
    cells.map((c) => [
      String(c.id),
      { population: Number(c.properties.population), places: Number(c.properties.places) },
    ]),
  );
}

const AGGREGATION = 'sum(population) AS population, sum(place_count) AS places';

function spatialIndexSuite(connectionName: string, prepare?: () => Promise<void>) {
  const common = () => ({ apiBaseUrl: baseUrl, accessToken, connectionName });

  async function rowsOf(sqlQuery: string) {
    const result = await query({ ...common(), sqlQuery });
    return result.rows as Record<string, unknown>[];
  }

  describe(`h3 and quadbin map sources on ${connectionName}`, () => {
    if (prepare) beforeAll(prepare);

    it('serves an h3 table as cells aggregated aggregationResLevel below each tile', async () => {
      const source = await h3TableSource({
        ...common(),
        tableName: 'demo.places_h3',
        aggregationExp: AGGREGATION,
        aggregationResLevel: 4,
      });
      expect(source.scheme).toBe('h3');
      expect(source.minresolution).toBe(0);
      // The demo cells are resolution 5; four levels below a tile leaves tiles up to 1.
      expect(source.maxresolution).toBe(1);
      expect(source.schema).toContainEqual({ name: 'h3', type: 'string' });
      expect(source.tiles[0]).toContain('/{i}?');

      const tile = latLngToCell(48.85, 2.35, 0);
      const { cells } = await fetchCells(source.tiles[0]!, tile, 'h3');
      const expected = groupSums(
        await rowsOf('SELECT h3, population, place_count FROM demo.places_h3'),
        (row) => (h3Parent(String(row.h3), 0) === tile ? h3Parent(String(row.h3), 4) : null),
      );
      expect(cells.length).toBe(expected.size);
      expect(cells.length).toBeGreaterThan(50);
      expect(cells.every((c) => h3Resolution(String(c.id)) === 4)).toBe(true);
      expect(asSums(cells)).toEqual(expected);
    });

    it('caps the cells at the source resolution and answers 204 under no data', async () => {
      const source = await h3TableSource({
        ...common(),
        tableName: 'demo.places_h3',
        aggregationExp: AGGREGATION,
      });
      const tile = latLngToCell(48.85, 2.35, 3);
      const { cells } = await fetchCells(source.tiles[0]!, tile, 'h3');
      expect(cells.length).toBeGreaterThan(0);
      expect(cells.every((c) => h3Resolution(String(c.id)) === 5)).toBe(true);
      expect(cells.every((c) => h3Parent(String(c.id), 3) === tile)).toBe(true);

      // Mid-Pacific: no place lies under this cell.
      const ocean = latLngToCell(-30, -140, 2);
      const empty = await fetch(source.tiles[0]!.replace('{i}', ocean), authorized());
      expect(empty.status).toBe(204);
    });

    it('serves a quadbin table as cells aggregationResLevel zooms below each tile', async () => {
      const source = await quadbinTableSource({
        ...common(),
        tableName: 'demo.places_quadbin',
        aggregationExp: AGGREGATION,
        aggregationResLevel: 6,
      });
      expect(source.scheme).toBe('quadbin');
      expect(source.maxresolution).toBe(5);
      const tile = quadbinTileAt(2.35, 48.85, 3);
      const { cells } = await fetchCells(source.tiles[0]!, bigIntToHex(tile), 'quadbin');
      const expected = groupSums(
        await rowsOf('SELECT quadbin::text AS q, population, place_count FROM demo.places_quadbin'),
        (row) => {
          const cell = BigInt(String(row.q));
          return quadbinParent(cell, 3) === tile ? quadbinParent(cell, 9).toString() : null;
        },
      );
      expect(cells.length).toBeGreaterThan(50);
      expect(cells.every((c) => quadbinResolution(c.id as bigint) === 9n)).toBe(true);
      expect(asSums(cells)).toEqual(expected);
    });

    it("answers the widget source's getExtent() with the box of the cells", async () => {
      const h3 = await h3TableSource({
        ...common(),
        tableName: 'demo.places_h3',
        aggregationExp: AGGREGATION,
      });
      const rows = await rowsOf('SELECT h3 FROM demo.places_h3 WHERE place_count >= 50');
      const truth = [Infinity, Infinity, -Infinity, -Infinity];
      for (const row of rows) {
        for (const [lat, lon] of cellToBoundary(String(row.h3))) {
          truth[0] = Math.min(truth[0]!, lon!);
          truth[1] = Math.min(truth[1]!, lat!);
          truth[2] = Math.max(truth[2]!, lon!);
          truth[3] = Math.max(truth[3]!, lat!);
        }
      }
      const filters = { place_count: { between: { values: [[50, null]] } } };
      const { bbox } = await h3.widgetSource.getExtent({ filters } as never);
      // Coarse ancestors cover the cells: the box holds them, a few degrees larger at most.
      expect(bbox[0]).toBeLessThanOrEqual(truth[0]!);
      expect(bbox[1]).toBeLessThanOrEqual(truth[1]!);
      expect(bbox[2]).toBeGreaterThanOrEqual(truth[2]!);
      expect(bbox[3]).toBeGreaterThanOrEqual(truth[3]!);
      expect(bbox[3] - bbox[1]).toBeLessThan(truth[3]! - truth[1]! + 10);

      const quadbin = await quadbinTableSource({
        ...common(),
        tableName: 'demo.places_quadbin',
        aggregationExp: AGGREGATION,
      });
      const all = await quadbin.widgetSource.getExtent();
      expect(all.bbox[0]).toBeLessThan(-170);
      expect(all.bbox[2]).toBeGreaterThan(170);
      expect(all.bbox[1]).toBeGreaterThan(-86);
      expect(all.bbox[3]).toBeLessThan(86);
    });

    it('applies query parameters and filters of query sources before aggregating', async () => {
      const h3 = await h3QuerySource({
        ...common(),
        sqlQuery: 'SELECT * FROM demo.places_h3 WHERE population >= $1',
        queryParameters: [100_000],
        aggregationExp: 'count(*) AS cells',
        aggregationResLevel: 2,
        filters: { place_count: { between: { values: [[2, 1000]] } } },
      });
      const tile = latLngToCell(40.4, -3.7, 1);
      const { cells } = await fetchCells(h3.tiles[0]!, tile, 'h3');
      const rows = await rowsOf(
        `SELECT h3 FROM demo.places_h3
         WHERE population >= 100000 AND place_count BETWEEN 2 AND 1000`,
      );
      const expected = new Map<string, number>();
      for (const row of rows) {
        const cell = String(row.h3);
        if (h3Parent(cell, 1) !== tile) continue;
        const parent = h3Parent(cell, 3);
        expected.set(parent, (expected.get(parent) ?? 0) + 1);
      }
      expect(cells.length).toBeGreaterThan(0);
      expect(new Map(cells.map((c) => [String(c.id), Number(c.properties.cells)]))).toEqual(
        expected,
      );

      const quadbin = await quadbinQuerySource({
        ...common(),
        sqlQuery: 'SELECT quadbin, population FROM demo.places_quadbin',
        aggregationExp: 'max(population) AS largest',
      });
      expect(quadbin.tilestats?.layers[0]?.attributes?.[0]).toMatchObject({
        attribute: 'largest',
        type: 'Number',
      });
    });
  });
}

spatialIndexSuite('carto_dw');

if (postgres) {
  const connectionName = uniqueName('pg_cells');
  spatialIndexSuite(connectionName, async () => {
    await ensurePostgresDemoData(postgres);
    await createPostgresConnection(baseUrl, accessToken, postgres, connectionName);
  });

  describe('h3 cells stored as integers (h3int) on PostgreSQL', () => {
    const name = uniqueName('pg_h3int');
    const table = `public.${uniqueName('places_h3int')}`;
    beforeAll(async () => {
      await ensurePostgresDemoData(postgres);
      await createPostgresConnection(baseUrl, accessToken, postgres, name);
      await runAsSuperuser(
        postgres,
        `CREATE TABLE ${table} AS
           SELECT ('x' || lpad(h3, 16, '0'))::bit(64)::bigint AS h3, population, place_count
           FROM demo.places_h3;
         GRANT SELECT ON ${table} TO ${postgres.username};`,
      );
    });

    it('gives the same cells and values as the text column', async () => {
      const params = {
        name: '',
        spatialDataType: 'h3int',
        spatialDataColumn: 'h3',
        aggregationExp: AGGREGATION,
      };
      const tilejsonOf = async (connection: string, tableName: string, type: string) => {
        const search = new URLSearchParams({ ...params, name: tableName, spatialDataType: type });
        const url = `${baseUrl}/v3/maps/${connection}/table?${search}`;
        const step1 = (await (await fetch(url, authorized())).json()) as {
          tilejson: { url: string[] };
        };
        return (await (await fetch(step1.tilejson.url[0]!, authorized())).json()) as {
          tiles: string[];
          scheme: string;
        };
      };
      const asInt = await tilejsonOf(name, table, 'h3int');
      const asText = await tilejsonOf(name, 'demo.places_h3', 'h3');
      expect(asInt.scheme).toBe('h3');
      const tile = latLngToCell(35.7, 139.7, 0);
      const fromInt = await fetchCells(asInt.tiles[0]!, tile, 'h3');
      const fromText = await fetchCells(asText.tiles[0]!, tile, 'h3');
      expect(fromInt.cells.length).toBeGreaterThan(0);
      expect(asSums(fromInt.cells)).toEqual(asSums(fromText.cells));
    });
  });
}

describe('spatial-index sources: bad input and caching', () => {
  const instantiate = (params: Record<string, string>, type = 'table') =>
    fetch(`${baseUrl}/v3/maps/carto_dw/${type}?${new URLSearchParams(params)}`, authorized());
  const h3 = { name: 'demo.places_h3', spatialDataType: 'h3', aggregationExp: AGGREGATION };

  async function expectError(response: Response, status: number, mentions: string) {
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: string; status: number };
    expect(body.status).toBe(status);
    // The parameter or column is named in the message or, for columns, in `column_name`.
    expect(JSON.stringify(body)).toContain(mentions);
  }

  it('rejects what cannot be served with 400 and the parameter named', async () => {
    await expectError(await instantiate({ ...h3, spatialDataType: 'h4' }), 400, 'spatialDataType');
    await expectError(
      await instantiate({ ...h3, aggregationExp: 'sum(population) AS p; DROP TABLE x' }),
      400,
      'aggregationExp',
    );
    await expectError(
      await instantiate({ name: 'demo.places_h3', spatialDataType: 'h3' }),
      400,
      'aggregationExp',
    );
    await expectError(
      await instantiate({ ...h3, aggregationResLevel: '99' }),
      400,
      'aggregationResLevel',
    );
    await expectError(
      await instantiate({ ...h3, aggregationResLevel: 'x' }),
      400,
      'aggregationResLevel',
    );
    await expectError(
      await instantiate({ ...h3, name: 'demo.populated_places', spatialDataColumn: 'geom' }),
      400,
      'geom',
    );
    await expectError(
      await instantiate({ ...h3, spatialDataColumn: 'population' }),
      400,
      'population',
    );
    await expectError(await instantiate({ ...h3, spatialDataColumn: 'nope' }), 400, 'nope');
    await expectError(
      await instantiate({ ...h3, aggregationExp: 'sum(no_such_column) AS x' }),
      400,
      'no_such_column',
    );
  });

  it('skips values that are not cells; refuses a column whose first value is none', async () => {
    const query = (q: string) =>
      instantiate({ q, spatialDataType: 'quadbin', aggregationExp: 'sum(v) AS v' }, 'query');
    const mixed = await query(
      `SELECT * FROM (SELECT quadbin, 1 AS v FROM demo.places_quadbin ORDER BY quadbin LIMIT 50) a
       UNION ALL SELECT -5, 1 UNION ALL SELECT 9223372036854775807, 1`,
    );
    expect(mixed.status).toBe(200);
    await expectError(await query('SELECT -5::bigint AS quadbin, 1 AS v'), 400, 'quadbin');
    const h3int = await instantiate(
      {
        q: `SELECT 9223372036854775807::bigint AS h3, 1 AS v`,
        spatialDataType: 'h3int',
        aggregationExp: 'sum(v) AS v',
      },
      'query',
    );
    await expectError(h3int, 400, 'h3int');
    for (const level of ['0x4', ' 4', '-1', '4x']) {
      await expectError(await instantiate({ ...h3, aggregationResLevel: level }), 400, 'Level');
    }
  });

  it('rejects tiles that are not cells of the source, and vector tiles of cells', async () => {
    const step1 = (await (await instantiate(h3)).json()) as { tilejson: { url: string[] } };
    const tilejson = (await (await fetch(step1.tilejson.url[0]!, authorized())).json()) as {
      tiles: string[];
    };
    const template = tilejson.tiles[0]!;
    for (const index of [
      'zz',
      '8019fffffffffff0',
      '0',
      bigIntToHex(tileToCell({ x: 0, y: 0, z: 2 })),
    ]) {
      await expectError(await fetch(template.replace('{i}', index), authorized()), 400, 'tile');
    }
    await expectError(await fetch(template.replace('/{i}?', '/1/0/0?'), authorized()), 400, 'cell');
    const geo = new URLSearchParams({ name: 'demo.countries', spatialDataColumn: 'geom' });
    const cell = latLngToCell(0, 0, 0);
    await expectError(
      await fetch(`${baseUrl}/v3/maps/carto_dw/table/${cell}?${geo}`, authorized()),
      400,
      '{z}/{x}/{y}',
    );
  });

  it('answers an unchanged tile with 304 to If-None-Match', async () => {
    const step1 = (await (await instantiate(h3)).json()) as { tilejson: { url: string[] } };
    const tilejson = (await (await fetch(step1.tilejson.url[0]!, authorized())).json()) as {
      tiles: string[];
    };
    const url = tilejson.tiles[0]!.replace('{i}', latLngToCell(51.5, 0, 1));
    const first = await fetch(url, authorized());
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(first.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const again = await fetch(url, { headers: { ...authorized().headers, 'If-None-Match': etag } });
    expect(again.status).toBe(304);
  });
});

describe('aggregationExp on geometry sources', () => {
  it('groups rows of identical geometries and carries the aggregates', async () => {
    const params = new URLSearchParams({
      q: `SELECT geom, population FROM demo.populated_places
          UNION ALL SELECT geom, population FROM demo.populated_places WHERE country = 'FR'`,
      aggregationExp: 'count(*) AS copies, sum(population) AS population',
      formatTiles: 'mvt',
    });
    const step1 = (await (
      await fetch(`${baseUrl}/v3/maps/carto_dw/query?${params}`, authorized())
    ).json()) as { nrows: number; tilejson: { url: string[] } };
    const places = await query({
      apiBaseUrl: baseUrl,
      accessToken,
      connectionName: 'carto_dw',
      sqlQuery: 'SELECT count(DISTINCT geom)::int AS n FROM demo.populated_places',
    });
    expect(step1.nrows).toBe((places.rows[0] as { n: number }).n);
    const tilejson = (await (await fetch(step1.tilejson.url[0]!, authorized())).json()) as {
      vector_layers: { fields: Record<string, string> }[];
      tilestats: { layers: { attributes: { attribute: string; max?: number }[] }[] };
    };
    expect(tilejson.vector_layers[0]!.fields).toMatchObject({
      copies: 'Number',
      population: 'Number',
    });
    const copies = tilejson.tilestats.layers[0]!.attributes.find((a) => a.attribute === 'copies');
    expect(copies?.max).toBeGreaterThanOrEqual(2);
  });
});
