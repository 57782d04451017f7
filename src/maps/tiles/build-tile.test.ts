import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCartoBinaryTile } from '../../test-support/carto-binary-decoder.js';
import { PgliteTestDriver, createPostgisDatabase } from '../../test-support/pglite-test-driver.js';
import {
  decodeMvt,
  isInsideRings,
  lonLatToTileUnits,
  signedArea,
  tileAt,
} from '../../test-support/tile-test-helpers.js';
import type { CartoFieldType, WarehouseField } from '../../warehouses/driver.js';
import { buildTile } from './build-tile.js';
import type { TileFormat, TileSource } from './tile-query.js';

const FIXTURES = `
CREATE TABLE b01_pts(id int, geom geometry(Point,4326));
INSERT INTO b01_pts VALUES (1, ST_SetSRID(ST_MakePoint(-3.70, 40.42),4326));

CREATE TABLE b03_rivers(id int PRIMARY KEY, name text, geom geometry(LineStringZ,4326));
INSERT INTO b03_rivers VALUES
 (1, 'corner-grazer', ST_GeomFromText('LINESTRING Z (0 0 10, 0.0001 0.0001 12, 1.40625 1.40625 15, 1.40625 0 20)',4326)),
 (2, 'edge-runner',   ST_GeomFromText('LINESTRING Z (1.40625 -0.5 5, 1.40625 2 6)',4326));

CREATE TABLE public."CityPoints"("Name" text, "order" int, "pop 2020" bigint,
                                 "x""; DROP TABLE b01_pts; --" text, "Geom" geometry(Point,4326));
INSERT INTO public."CityPoints" VALUES
 ('Alpha', 1, 100, 'a', ST_SetSRID(ST_MakePoint(2.35,48.85),4326)),
 ('Beta',  2, 9007199254740993, 'b', ST_SetSRID(ST_MakePoint(13.40,52.52),4326)),
 ('Gamma', 3, -42, 'c', ST_SetSRID(ST_MakePoint(-0.12,51.50),4326));

CREATE TABLE b05_mixed(id int PRIMARY KEY, kind text, geom geometry(Geometry,4326));
INSERT INTO b05_mixed VALUES
 (1,'pt',  ST_GeomFromText('POINT(1 1)',4326)),
 (2,'ln',  ST_GeomFromText('LINESTRING(1 1,3 2)',4326)),
 (3,'poly',ST_GeomFromText('POLYGON((4 4,6 4,6 6,4 6,4 4))',4326)),
 (4,'gc',  ST_GeomFromText('GEOMETRYCOLLECTION(POINT(2 2),LINESTRING(2 2,3 3),POLYGON((2 2,2.5 2,2.5 2.5,2 2.5,2 2)))',4326));

CREATE TABLE b15(id int PRIMARY KEY, amount numeric(12,4), ratio real, born date, seen timestamptz,
                 flags boolean, tags text[], meta jsonb, raw bytea, span interval, big numeric,
                 nan float8, inf real, geom geometry(Point,4326), other geometry(Point,4326));
INSERT INTO b15 VALUES (1, 1234.5678, 0.1, '1999-12-31', '2024-03-31 01:30:00+02', true, ARRAY['a','b'],
                        '{"a":1,"b":{"c":2}}', '\\xdeadbeef', '1 day 2 hours', 1e400, 'NaN', '-Infinity',
                        ST_SetSRID(ST_MakePoint(5,5),4326), ST_SetSRID(ST_MakePoint(6,6),4326));

CREATE TABLE b16(id int PRIMARY KEY, geom geometry(Geometry,4326));
INSERT INTO b16 VALUES
 (1, ST_GeomFromText('POLYGON((1 1,2 1,2 2,1 2,1 1))',4326)),
 (2, ST_GeomFromText('POLYGON((0 0,2 2,2 0,0 2,0 0))',4326)),
 (3, ST_GeomFromText('POLYGON((5 5,6 6,6 6,5 5))',4326)),
 (4, NULL),
 (5, ST_GeomFromText('POLYGON EMPTY',4326)),
 (6, ST_SetSRID(ST_MakePoint('NaN'::float8, 1),4326)),
 (7, ST_SetSRID(ST_MakeLine(ST_MakePoint('NaN'::float8, 1), ST_MakePoint(2, 2)),4326)),
 (8, ST_SetSRID(ST_MakeLine(ST_MakePoint(3, 3), ST_MakePoint(4, 'Infinity'::float8)),4326)),
 (9, ST_GeomFromText('POLYGON((4 4,5 4,5 5,5 4,4 4))',4326)),
 (10, ST_GeomFromText('POLYGON((3 3,3.5 3.5,4 4,3 3))',4326)),
 (11, ST_GeomFromText('MULTIPOLYGON(((1 1,2 1,2 2,1 1)),((5 5,6 6,6 6,5 5)))',4326));

CREATE TABLE b31(id int, kind text, geom geometry(Geometry,4326));
INSERT INTO b31 VALUES
 (1,'vline', ST_GeomFromText('LINESTRING(10 0,10 20)',4326)),
 (2,'hline', ST_GeomFromText('LINESTRING(0 10,20 10)',4326)),
 (3,'holed', ST_GeomFromText('POLYGON((0 0,20 0,20 20,0 20,0 0),(5 5,5 15,15 15,15 5,5 5))',4326));

-- Session time zone far from UTC: timestamps in tiles must not depend on it.
SET TIME ZONE 'America/New_York';
`;

let db: PGlite;
let driver: PgliteTestDriver;

beforeAll(async () => {
  db = await createPostgisDatabase();
  driver = new PgliteTestDriver(db);
  await db.exec(FIXTURES);
});

afterAll(async () => {
  await driver.close();
});

const field = (name: string, nativeType: string, cartoType: CartoFieldType): WarehouseField => ({
  name,
  nativeType,
  cartoType,
});

const ID = field('id', 'int4', 'number');

function tableSource(table: string, properties: WarehouseField[] = [ID]): TileSource {
  return { fromSql: table, params: [], geomColumn: 'geom', properties };
}

type Coordinates = { z: number; x: number; y: number };

async function build(source: TileSource, { z, x, y }: Coordinates, format: TileFormat) {
  return buildTile(
    driver,
    source,
    { z, x, y, format, tileResolution: 1, maxFeatures: 1000 },
    { timeoutMs: 30_000 },
  );
}

async function mvt(source: TileSource, at: Coordinates) {
  const built = await build(source, at, 'mvt');
  expect(built.contentType).toBe('application/vnd.mapbox-vector-tile');
  return built.body ? decodeMvt(built.body, at.z, at.x, at.y).features : [];
}

async function binary(source: TileSource, at: Coordinates) {
  const built = await build(source, at, 'binary');
  expect(built.contentType).toBe('application/vnd.carto-vector-tile');
  return built.body ? decodeCartoBinaryTile(built.body) : null;
}

describe('B01 empty tiles', () => {
  it('answers an empty tile with no body in both formats, and a full one with a body', async () => {
    const source = tableSource('b01_pts');
    const pacific = { z: 6, x: 2, y: 30 };

    for (const format of ['mvt', 'binary'] as const) {
      expect(await build(source, pacific, format)).toMatchObject({
        body: null,
        featureCount: 0,
        truncated: false,
      });
      const madrid = await build(source, { z: 6, x: 31, y: 24 }, format);
      expect(madrid.featureCount).toBe(1);
      expect(madrid.body?.length).toBeGreaterThan(0);
    }
  });
});

describe('B03 lines with Z and M', () => {
  it('builds valid 2D tiles around a tile corner the line grazes', async () => {
    const source = tableSource('b03_rivers', [ID, field('name', 'text', 'string')]);
    for (const x of [127, 128, 129]) {
      for (const y of [126, 127, 128]) {
        await mvt(source, { z: 8, x, y });
        await binary(source, { z: 8, x, y });
      }
    }
    const corner = await mvt(source, { z: 8, x: 128, y: 128 });
    expect(corner.map((f) => f.properties.name)).toContain('edge-runner');
  });
});

describe('B04 identifiers that need quoting', () => {
  const source: TileSource = {
    fromSql: 'public."CityPoints"',
    params: [],
    geomColumn: 'Geom',
    properties: [
      field('Name', 'text', 'string'),
      field('order', 'int4', 'number'),
      field('pop 2020', 'int8', 'bigint'),
      field('x"; DROP TABLE b01_pts; --', 'text', 'string'),
    ],
  };

  it('keeps exact property names and values, big integers exact as strings', async () => {
    const features = await mvt(source, { z: 3, x: 4, y: 2 });

    expect(features.map((f) => f.properties)).toEqual([
      { Name: 'Alpha', order: 1, 'pop 2020': 100, 'x"; DROP TABLE b01_pts; --': 'a' },
      { Name: 'Beta', order: 2, 'pop 2020': '9007199254740993', 'x"; DROP TABLE b01_pts; --': 'b' },
    ]);
    const london = await mvt(source, { z: 3, x: 3, y: 2 });
    expect(london.map((f) => f.properties['pop 2020'])).toEqual([-42]);
    expect((await db.query('SELECT count(*)::int AS n FROM b01_pts')).rows).toEqual([{ n: 1 }]);
  });
});

describe('B05 mixed types and geometry collections', () => {
  const source = tableSource('b05_mixed', [ID, field('kind', 'text', 'string')]);
  const at = { z: 4, x: 8, y: 7 };

  it('keeps each simple row with its type and splits the collection by kind (MVT)', async () => {
    const features = await mvt(source, at);
    const summary = features.map((f) => `${f.properties.id}:${f.type}`).sort();

    expect(summary).toEqual([
      '1:Point',
      '2:LineString',
      '3:Polygon',
      '4:LineString',
      '4:Point',
      '4:Polygon',
    ]);
  });

  it('puts every member in its kind of the binary tile with the row properties', async () => {
    const tile = (await binary(source, at))!;

    expect(tile.points.properties).toEqual([{ kind: 'pt' }, { kind: 'gc' }]);
    expect(tile.lines.properties).toEqual([{ kind: 'ln' }, { kind: 'gc' }]);
    expect(tile.polygons.properties).toEqual([{ kind: 'poly' }, { kind: 'gc' }]);
    expect(Array.from(tile.points.numericProps.id!)).toEqual([1, 4]);
  });
});

describe('B15 column types in tiles', () => {
  const source: TileSource = {
    ...tableSource('b15'),
    properties: [
      ID,
      field('amount', 'numeric', 'number'),
      field('ratio', 'float4', 'number'),
      field('born', 'date', 'timestamp'),
      field('seen', 'timestamptz', 'timestamp'),
      field('flags', 'bool', 'boolean'),
      field('tags', '_text', 'object'),
      field('meta', 'jsonb', 'object'),
      field('raw', 'bytea', 'string'),
      field('span', 'interval', 'unknown'),
      field('big', 'numeric', 'number'),
      field('nan', 'float8', 'number'),
      field('inf', 'float4', 'number'),
      field('other', 'geometry', 'geometry'),
      field('geom', 'geometry', 'geometry'),
    ],
  };
  const expected = {
    id: 1,
    amount: 1234.5678,
    ratio: 0.1,
    born: '1999-12-31T00:00:00.000Z',
    seen: '2024-03-30T23:30:00.000Z',
    flags: true,
    tags: '["a","b"]',
    meta: '{"a": 1, "b": {"c": 2}}',
  };

  it('carries numbers as numbers, instants as UTC ISO strings, json as text (MVT)', async () => {
    // big (1e400), nan and inf have no JSON number: the feature has no value for them.
    const [feature] = await mvt(source, { z: 0, x: 0, y: 0 });

    expect(feature?.properties).toEqual(expected);
  });

  it('carries the same values in the binary tile, numbers as numericProps', async () => {
    const tile = (await binary(source, { z: 0, x: 0, y: 0 }))!;
    const numeric = tile.points.numericProps;

    expect(Object.keys(numeric).sort()).toEqual(['amount', 'big', 'id', 'inf', 'nan', 'ratio']);
    expect([numeric.id![0], numeric.amount![0]]).toEqual([1, 1234.5678]);
    expect([numeric.big![0], numeric.nan![0], numeric.inf![0]]).toEqual([NaN, NaN, NaN]);
    expect(numeric.ratio![0]).toBeCloseTo(0.1, 6);
    const { born, seen, tags, meta } = expected;
    expect(tile.points.properties).toEqual([{ born, seen, flags: 'true', tags, meta }]);
  });
});

describe('B16 invalid, degenerate, NULL and EMPTY geometries', () => {
  it('builds every tile over the data, with the valid shapes and without the broken ones', async () => {
    const source = tableSource('b16');
    let repairedTiles = 0;
    for (let z = 0; z <= 6; z++) {
      const [min, max] = [tileAt(0, 6, z), tileAt(6, 0, z)];
      for (let x = min.x; x <= max.x; x++) {
        for (let y = min.y; y <= max.y; y++) {
          const ids = (await mvt(source, { z, x, y })).map((f) => f.properties.id);
          expect(ids.filter((id) => id !== 1 && id !== 2 && id !== 11)).toEqual([]);
          const built = await build(source, { z, x, y }, 'binary');
          if (built.geometriesRepaired) repairedTiles++;
          const tile = built.body ? decodeCartoBinaryTile(built.body) : null;
          expect(tile?.points.positions.length ?? 0).toBe(0);
          expect(tile?.lines.positions.length ?? 0).toBe(0);
        }
      }
      const square = await mvt(source, tileAt(1.5, 1.5, z));
      expect(square.map((f) => f.properties.id)).toEqual(expect.arrayContaining([1, 11]));
    }
    // Zero-area rings crossing a tile edge make GEOS fail; those tiles took the repair path.
    expect(repairedTiles).toBeGreaterThan(0);
  });
});

describe('B31 thin, axis-aligned and holed geometries', () => {
  const source = tableSource('b31');

  it.each([2, 5, 10])('keeps both axis-aligned lines and the hole at z%i', async (z) => {
    const at = tileAt(10, 10, z);
    const features = await mvt(source, at);

    expect(features.filter((f) => f.type === 'LineString').map((f) => f.properties.id)).toEqual([
      1, 2,
    ]);
    // (10, 10) is in the hole; at z10 its tile lies wholly inside it and has no polygon.
    const holed = features.find((f) => f.properties.id === 3);
    expect(holed === undefined).toBe(z === 10);
    if (holed) {
      expect(isInsideRings(lonLatToTileUnits(10, 10, at, 1024), holed.parts)).toBe(false);
      expect(isInsideRings(lonLatToTileUnits(2, 2, at, 1024), holed.parts)).toBe(true);
    }
    if (z === 2) {
      expect(holed?.parts.map((ring) => Math.sign(signedArea(ring)))).toEqual([1, -1]);
      const tile = (await binary(source, at))!;
      expect(tile.polygons.indices.primitivePolygonIndices).toHaveLength(3);
    }
  });
});
