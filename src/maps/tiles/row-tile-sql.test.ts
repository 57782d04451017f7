import { describe, expect, it } from 'vitest';
import type { WarehouseField } from '../../warehouses/driver.js';
import { buildRowTileQuery, redshiftRowTileSql } from './row-tile-sql.js';
import type { TileRequest, TileSource } from './tile-query.js';

const field = (name: string, nativeType: string, cartoType: WarehouseField['cartoType']) => ({
  name,
  nativeType,
  cartoType,
});

const TILE: TileRequest = {
  z: 8,
  x: 128,
  y: 128,
  format: 'mvt',
  tileResolution: 1,
  maxFeatures: 10000,
};

const CITY_POINTS: TileSource = {
  fromSql: 'public."CityPoints"',
  params: [],
  geomColumn: 'Geom',
  properties: [
    field('Name', 'text', 'string'),
    field('order', 'int4', 'number'),
    field('pop 2020', 'int8', 'bigint'),
    field('x"; DROP TABLE t; --', 'text', 'string'),
    field('raw', 'bytea', 'string'),
    field('Geom', 'geometry', 'geometry'),
  ],
};

describe('the Redshift row query', () => {
  it('reads WKB and quoted property columns in the buffered WGS84 box, all values bound', () => {
    const query = buildRowTileQuery(CITY_POINTS, TILE);

    expect(query.sql).toBe(`
SELECT ST_AsBinary("Geom") AS "_wkb",
       "Name" AS "_p0",
       "order" AS "_p1",
       "pop 2020" AS "_p2",
       "x""; DROP TABLE t; --" AS "_p3"
FROM public."CityPoints"
WHERE ST_Intersects(
        "Geom",
        ST_MakeEnvelope(
          CAST($1 AS DOUBLE PRECISION),
          CAST($2 AS DOUBLE PRECISION),
          CAST($3 AS DOUBLE PRECISION),
          CAST($4 AS DOUBLE PRECISION),
          4326
        )
      )
LIMIT 10001`);
    // z8 tile 128/128 with a sixteenth of a tile around it, in degrees.
    const [west, south, east, north] = query.params as number[];
    expect(west).toBeCloseTo(-360 / 256 / 16, 12);
    expect(east).toBeCloseTo(360 / 256 + 360 / 256 / 16, 12);
    expect(north).toBeCloseTo(0.0878905905, 9);
    expect(south).toBeCloseTo(-1.4939713066, 9);
    expect(query.properties.map((p) => p.name)).toEqual([
      'Name',
      'order',
      'pop 2020',
      'x"; DROP TABLE t; --',
    ]);
  });

  it('numbers its markers after the source query parameters', () => {
    const source: TileSource = {
      fromSql: '(SELECT * FROM t WHERE a = $1 AND b = $2\n) AS _src',
      params: [7, 'x'],
      geomColumn: 'geom',
      properties: [field('a', 'int4', 'number')],
    };

    const query = buildRowTileQuery(source, { ...TILE, maxFeatures: 5 });

    expect(query.sql).toBe(`
SELECT ST_AsBinary("geom") AS "_wkb",
       "a" AS "_p0"
FROM (SELECT * FROM t WHERE a = $1 AND b = $2
) AS _src
WHERE ST_Intersects(
        "geom",
        ST_MakeEnvelope(
          CAST($3 AS DOUBLE PRECISION),
          CAST($4 AS DOUBLE PRECISION),
          CAST($5 AS DOUBLE PRECISION),
          CAST($6 AS DOUBLE PRECISION),
          4326
        )
      )
LIMIT 6`);
    expect(query.params.slice(0, 2)).toEqual([7, 'x']);
    expect(query.params).toHaveLength(6);
  });

  it('builds the envelope without an SRID for SRID 0 columns, which ST_Intersects needs', () => {
    const sql = redshiftRowTileSql({
      fromSql: '"t"',
      column: '"geom"',
      srid: 0,
      box: ['$1', '$2', '$3', '$4'],
      properties: [],
      limit: 11,
      compareEnvelopes: false,
    });

    expect(sql).toBe(`
SELECT ST_AsBinary("geom") AS "_wkb"
FROM "t"
WHERE ST_Intersects(
        "geom",
        ST_MakeEnvelope(
          CAST($1 AS DOUBLE PRECISION),
          CAST($2 AS DOUBLE PRECISION),
          CAST($3 AS DOUBLE PRECISION),
          CAST($4 AS DOUBLE PRECISION)
        )
      )
LIMIT 11`);
  });

  it('transforms other SRIDs to WGS84 per row, and compares envelopes on the retry', () => {
    const sql = redshiftRowTileSql({
      fromSql: '"t"',
      column: '"geom"',
      srid: 3857,
      box: ['$1', '$2', '$3', '$4'],
      properties: ['"name"'],
      limit: 11,
      compareEnvelopes: true,
    });

    expect(sql).toBe(`
SELECT ST_AsBinary(ST_Transform("geom", 4326)) AS "_wkb",
       "name" AS "_p0"
FROM "t"
WHERE ST_Intersects(
        ST_Envelope(ST_Transform("geom", 4326)),
        ST_MakeEnvelope(
          CAST($1 AS DOUBLE PRECISION),
          CAST($2 AS DOUBLE PRECISION),
          CAST($3 AS DOUBLE PRECISION),
          CAST($4 AS DOUBLE PRECISION),
          4326
        )
      )
LIMIT 11`);
  });

  it('keeps the statement text the same for every tile, so Redshift compiles it once', () => {
    const texts = new Set(
      [TILE, { ...TILE, z: 3, x: 1, y: 2 }, { ...TILE, z: 14, x: 9000, y: 6000 }].map(
        (tile) => buildRowTileQuery(CITY_POINTS, tile).sql,
      ),
    );

    expect(texts.size).toBe(1);
  });

  it('refuses a feature cap that is not a whole number, as it is written into the text', () => {
    expect(() => buildRowTileQuery(CITY_POINTS, { ...TILE, maxFeatures: 1.5 })).toThrow(RangeError);
    expect(() => buildRowTileQuery(CITY_POINTS, { ...TILE, maxFeatures: -1 })).toThrow(RangeError);
  });
});
