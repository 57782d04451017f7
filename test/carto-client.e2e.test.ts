import { query, vectorQuerySource, vectorTableSource } from '@carto/api-client';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeCartoBinaryTile } from '../src/test-support/carto-binary-decoder.js';
import { fetchToken, sharedServer } from './support/api.js';
import { decodeMvt, tileBounds, tileUrl } from './support/tiles.js';
import { createPostgresConnection, ensurePostgresDemoData } from './support/postgres-demo.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const postgres = inject('postgres');
let accessToken = '';

beforeAll(async () => {
  accessToken = await fetchToken(baseUrl, clientId, clientSecret);
});

/**
 * The same client-library checks on a connection: the embedded warehouse, and a
 * PostgreSQL/PostGIS connection holding the same demo data (tiles built in the database).
 */
function cartoClientSuite(connectionName: string, prepare?: () => Promise<void>) {
  async function fetchTile(url: string) {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${accessToken}` } });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: await response.arrayBuffer(),
    };
  }

  /** Points of demo.populated_places in tile z/x/y, counted by SQL with the same edge rule. */
  async function countPlacesInTile(z: number, x: number, y: number): Promise<number> {
    const [west, south, east, north] = tileBounds(z, x, y);
    const { rows } = await query({
      apiBaseUrl: baseUrl,
      accessToken,
      connectionName,
      sqlQuery: `SELECT count(*)::int AS n FROM demo.populated_places
        WHERE ST_X(geom) >= $1 AND ST_X(geom) < $2 AND ST_Y(geom) > $3 AND ST_Y(geom) <= $4`,
      queryParameters: [west, east, south, north],
    });
    return (rows[0] as { n: number }).n;
  }

  // Madrid and its surroundings.
  const MADRID_TILE = { z: 8, x: 125, y: 96 } as const;

  describe(`CARTO client library against Graticule on ${connectionName}`, () => {
    if (prepare) beforeAll(prepare);

    it('runs query() and returns rows and schema', async () => {
      const result = await query({
        apiBaseUrl: baseUrl,
        accessToken,
        connectionName,
        sqlQuery: 'SELECT count(*)::int AS n FROM demo.populated_places',
      });
      expect((result.rows[0] as { n: number }).n).toBeGreaterThan(130_000);
      expect(result.schema).toEqual([{ name: 'n', type: 'number' }]);
    });

    it('instantiates vectorTableSource and serves MVT tiles whose features match SQL', async () => {
      const source = await vectorTableSource({
        apiBaseUrl: baseUrl,
        accessToken,
        connectionName,
        tableName: 'demo.populated_places',
        columns: ['name', 'population'],
      });
      expect(source.tilejson).toBe('3.0.0');
      expect(source.scheme).toBe('xyz');
      expect(source.tilestats.layers[0]!.count).toBeGreaterThan(130_000);
      const mvtTemplate = source.tiles[0]!.replace('formatTiles=binary', 'formatTiles=mvt');

      const { z, x, y } = MADRID_TILE;
      const tile = await fetchTile(tileUrl(mvtTemplate, z, x, y));
      expect(tile.status).toBe(200);
      expect(tile.type).toBe('application/vnd.mapbox-vector-tile');
      const { features } = decodeMvt(tile.body, z, x, y);
      expect(features.length).toBe(await countPlacesInTile(z, x, y));
      const madrid = features.find((f) => f.properties.name === 'Madrid');
      expect(madrid?.properties.population).toBeGreaterThan(3_000_000);
      expect(Object.keys(madrid!.properties).sort()).toEqual([
        '_carto_feature_id',
        'name',
        'population',
      ]);
      const [lon, lat] = (madrid!.geometry as { coordinates: number[] }).coordinates;
      expect(lon).toBeCloseTo(-3.7, 1);
      expect(lat).toBeCloseTo(40.42, 1);
    });

    it('serves the default binary tiles that deck.gl decodes, matching SQL', async () => {
      const source = await vectorTableSource({
        apiBaseUrl: baseUrl,
        accessToken,
        connectionName,
        tableName: 'demo.populated_places',
      });
      expect(new URL(source.tiles[0]!).searchParams.get('formatTiles')).toBe('binary');
      const { z, x, y } = MADRID_TILE;
      const tile = await fetchTile(tileUrl(source.tiles[0]!, z, x, y));
      expect(tile.status).toBe(200);
      expect(tile.type).toBe('application/vnd.carto-vector-tile');
      const decoded = decodeCartoBinaryTile(new Uint8Array(tile.body));
      const expected = await countPlacesInTile(z, x, y);
      expect(decoded.points.positions.length / 2).toBe(expected);
      const madrid = decoded.points.properties.findIndex((p) => p.name === 'Madrid');
      expect(madrid).toBeGreaterThanOrEqual(0);
      expect(decoded.points.positions[madrid * 2]).toBeCloseTo(-3.7, 1);
    });

    it('instantiates vectorQuerySource with queryParameters and serves its polygons', async () => {
      const source = await vectorQuerySource({
        apiBaseUrl: baseUrl,
        accessToken,
        connectionName,
        sqlQuery: 'SELECT name, iso_n3, geom FROM demo.countries WHERE name = $1',
        queryParameters: ['Spain'],
      });
      expect(source.tilestats.layers[0]!.count).toBe(1);
      expect(source.bounds![0]).toBeLessThan(-9);
      expect(source.bounds![2]).toBeGreaterThan(3);
      const template = source.tiles[0]!.replace('formatTiles=binary', 'formatTiles=mvt');
      const spain = await fetchTile(tileUrl(template, 4, 7, 6));
      expect(spain.status).toBe(200);
      const { features } = decodeMvt(spain.body, 4, 7, 6);
      expect(features.map((f) => f.properties.name)).toEqual(['Spain']);
      expect(features[0]!.geometry.type).toMatch(/Polygon$/);

      const pacific = await fetchTile(tileUrl(template, 6, 2, 30));
      expect(pacific.status).toBe(204);
      expect(pacific.body.byteLength).toBe(0);
    });
  });
}

cartoClientSuite('carto_dw');
if (postgres) {
  const info = postgres;
  cartoClientSuite('pg_demo', async () => {
    await ensurePostgresDemoData(info);
    await createPostgresConnection(baseUrl, accessToken, info, 'pg_demo');
  });
} else {
  describe.skip('CARTO client library on pg_demo (PostgreSQL is not installed)', () => undefined);
}
