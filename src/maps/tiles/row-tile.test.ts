/**
 * The row path (per-feature rows, clipped and encoded in Node) run for real: against the
 * throwaway PostgreSQL/PostGIS cluster when there is one, else against an in-process PGlite.
 * The SQL is the Redshift text; PostGIS runs it unchanged.
 */
import type { PGlite } from '@electric-sql/pglite';
import wkx from 'wkx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsSuperuser, postgresOrSkip } from '../../../test/support/postgres.js';
import { decodeCartoBinaryTile } from '../../test-support/carto-binary-decoder.js';
import { PgliteTestDriver, createPostgisDatabase } from '../../test-support/pglite-test-driver.js';
import {
  decodeMvt,
  isInsideRings,
  lonLatToTileUnits,
  tileAt,
  type DecodedMvtFeature,
} from '../../test-support/tile-test-helpers.js';
import type { WarehouseDriver, WarehouseField, WarehouseQuery } from '../../warehouses/driver.js';
import { PostgresDriver } from '../../warehouses/postgres/postgres-driver.js';
import { buildTile } from './build-tile.js';
import { encodeRowTile, type EncodeRowTileTask } from './encode-row-tile.js';
import { closeRowTileEncoderPool, encodeRowTileOffThread } from './row-tile-encoder-pool.js';
import { describeTileGrid } from './tile-grid.js';
import type { TileFormat, TileRequest, TileSource } from './tile-query.js';

const SCHEMA = 'tile_rows';

/** Deterministic pseudo-random numbers, so failures reproduce. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const random = seededRandom(7);
const z2Latitude = (row: number) => (Math.atan(Math.sinh(Math.PI * (1 - row / 2))) * 180) / Math.PI;
/** Random points, points on z2 tile edges and corners, and points on the antimeridian. */
const POINTS: [number, number][] = [
  ...Array.from({ length: 200 }, () => [-60 + 120 * random(), -50 + 100 * random()]),
  ...[-180, -90, 0, 90, 180].flatMap((lon) => [0, 1, 2, 3, 4].map((row) => [lon, z2Latitude(row)])),
  [-180, 10],
  [180, -10],
] as [number, number][];

const FIXTURES = `
CREATE SCHEMA ${SCHEMA};
SET search_path TO ${SCHEMA}, public;
CREATE TABLE pts(id int PRIMARY KEY, name text, geom geometry(Point,4326));
CREATE TABLE shapes(id int PRIMARY KEY, kind text, geom geometry(Geometry,4326));
INSERT INTO shapes VALUES
 (1, 'holed square', ST_GeomFromText('POLYGON((-10 -10,20 -10,20 20,-10 20,-10 -10),
                                              (4 4,4 6,6 6,6 4,4 4))', 4326)),
 (2, 'line', ST_GeomFromText('LINESTRING(1 1,4 4,8 2)', 4326)),
 (3, 'west edge', ST_GeomFromText('POLYGON((-180 -5,-175 -5,-175 5,-180 5,-180 -5))', 4326)),
 (4, 'east edge', ST_GeomFromText('POLYGON((175 -5,180 -5,180 5,175 5,175 -5))', 4326));
CREATE TABLE b03_rivers(id int PRIMARY KEY, name text, geom geometry(LineStringZ,4326));
INSERT INTO b03_rivers VALUES
 (1, 'corner-grazer', ST_GeomFromText('LINESTRING Z (0 0 10, 0.0001 0.0001 12,
                                       1.40625 1.40625 15, 1.40625 0 20)', 4326)),
 (2, 'edge-runner', ST_GeomFromText('LINESTRING Z (1.40625 -0.5 5, 1.40625 2 6)', 4326));
CREATE TABLE "CityPoints"("Name" text, "order" int, "pop 2020" bigint, "名前" text,
                          "x""; DROP TABLE pts; --" text, "Geom" geometry(Point,4326));
INSERT INTO "CityPoints" VALUES
 ('Alpha', 1, 100, 'A Coruña', 'a', ST_SetSRID(ST_MakePoint(2.35,48.85),4326)),
 ('Beta', 2, 9007199254740993, '東京', 'b', ST_SetSRID(ST_MakePoint(13.40,52.52),4326)),
 ('Gamma', 3, -42, 'emoji 🗺️', 'c', ST_SetSRID(ST_MakePoint(-0.12,51.50),4326));
CREATE TABLE b05_mixed(id int PRIMARY KEY, kind text, geom geometry(Geometry,4326));
INSERT INTO b05_mixed VALUES
 (1,'pt', ST_GeomFromText('POINT(1 1)',4326)),
 (2,'ln', ST_GeomFromText('LINESTRING(1 1,3 2)',4326)),
 (3,'poly',ST_GeomFromText('POLYGON((4 4,6 4,6 6,4 6,4 4))',4326)),
 (4,'gc', ST_GeomFromText('GEOMETRYCOLLECTION(POINT(2 2),LINESTRING(2 2,3 3),
                            POLYGON((2 2,2.5 2,2.5 2.5,2 2.5,2 2)))',4326));
CREATE TABLE b16(id int PRIMARY KEY, geom geometry(Geometry,4326));
INSERT INTO b16 VALUES
 (1, ST_GeomFromText('POLYGON((1 1,2 1,2 2,1 2,1 1))',4326)),
 (2, ST_GeomFromText('POLYGON((0 0,2 2,2 0,0 2,0 0))',4326)),
 (3, ST_GeomFromText('POLYGON((5 5,6 6,6 6,5 5))',4326)),
 (4, NULL),
 (5, ST_GeomFromText('POLYGON EMPTY',4326)),
 (6, ST_SetSRID(ST_MakePoint('NaN'::float8, 1),4326));
`;

const POINT_ROWS_SQL = `
INSERT INTO ${SCHEMA}.pts
SELECT i, 'p' || i, ST_SetSRID(ST_MakePoint(x, y), 4326)
FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i)`;

const DERIVED_TABLES = `
CREATE TABLE ${SCHEMA}.pts_3857 AS
  SELECT id, name, ST_Transform(geom, 3857)::geometry(Point,3857) AS geom
  FROM ${SCHEMA}.pts WHERE abs(ST_Y(geom)) < 85;
CREATE TABLE ${SCHEMA}.pts_srid0 AS
  SELECT id, name, ST_SetSRID(geom, 0) AS geom FROM ${SCHEMA}.pts`;

interface Warehouse {
  /** A driver whose capabilities send tiles down the JSON path or the native one. */
  driver: WarehouseDriver;
  /** Runs setup SQL, several statements at once. */
  exec(sql: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

async function openPostgres(): Promise<Warehouse | null> {
  const info = postgresOrSkip();
  if (!info) return null;
  const admin = await connectAsSuperuser(info);
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  const driver = new PostgresDriver({
    provider: 'postgres',
    host: info.host,
    port: info.port,
    database: info.database,
    username: info.username,
    password: info.password,
    sslmode: 'disable',
    maxConnections: 2,
    connectTimeoutMs: 10_000,
    acquireTimeoutMs: 10_000,
  });
  await driver.ready();
  return {
    driver,
    exec: async (sql, params) => {
      await admin.query(sql, params);
      await admin.query(`GRANT USAGE ON SCHEMA ${SCHEMA} TO "${info.username}";
        GRANT SELECT ON ALL TABLES IN SCHEMA ${SCHEMA} TO "${info.username}"`);
    },
    close: async () => {
      await driver.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await admin.end();
    },
  };
}

async function openPglite(): Promise<Warehouse> {
  const db: PGlite = await createPostgisDatabase();
  const driver = new PgliteTestDriver(db);
  return {
    driver,
    exec: async (sql, params) => {
      if (params) await db.query(sql, params);
      else await db.exec(sql);
    },
    close: () => driver.close(),
  };
}

/** The same warehouse seen as one without JSON tiles, recording what it is sent. */
function rowPathDriver(driver: WarehouseDriver): WarehouseDriver & { sent: WarehouseQuery[] } {
  const sent: WarehouseQuery[] = [];
  return {
    provider: 'redshift',
    capabilities: { nativeMvt: false, jsonTiles: false, cancellable: false },
    sent,
    query: (query) => {
      sent.push(query);
      return driver.query(query);
    },
    stream: (query) => driver.stream(query),
    test: () => driver.test(),
    close: () => Promise.resolve(),
  };
}

/** The same warehouse with only the JSON path, the reference the row path must match. */
function jsonPathDriver(driver: WarehouseDriver): WarehouseDriver {
  return {
    provider: 'postgres',
    capabilities: { nativeMvt: false, jsonTiles: true, cancellable: false },
    query: (query) => driver.query(query),
    stream: (query) => driver.stream(query),
    test: () => driver.test(),
    close: () => Promise.resolve(),
  };
}

let warehouse: Warehouse;
let rows: ReturnType<typeof rowPathDriver>;
let json: WarehouseDriver;

beforeAll(async () => {
  warehouse = (await openPostgres()) ?? (await openPglite());
  await warehouse.exec(FIXTURES);
  await warehouse.exec(POINT_ROWS_SQL, [POINTS.map((p) => p[0]), POINTS.map((p) => p[1])]);
  await warehouse.exec(DERIVED_TABLES);
  rows = rowPathDriver(warehouse.driver);
  json = jsonPathDriver(warehouse.driver);
});

afterAll(async () => {
  await warehouse?.close();
});

const field = (name: string, nativeType: string, cartoType: WarehouseField['cartoType']) => ({
  name,
  nativeType,
  cartoType,
});
const ID = field('id', 'int4', 'number');

function tableSource(table: string, properties: WarehouseField[] = [ID], srid?: number) {
  const source: TileSource = {
    fromSql: `${SCHEMA}.${table}`,
    params: [],
    geomColumn: 'geom',
    properties,
  };
  return srid === undefined ? source : { ...source, srid };
}

type At = { z: number; x: number; y: number };

function request(at: At, format: TileFormat, maxFeatures = 1000): TileRequest {
  return { ...at, format, tileResolution: 1, maxFeatures };
}

async function mvtFeatures(driver: WarehouseDriver, source: TileSource, at: At) {
  const built = await buildTile(driver, source, request(at, 'mvt'), { timeoutMs: 30_000 });
  return built.body ? decodeMvt(built.body, at.z, at.x, at.y).features : [];
}

/** What a client can compare across paths: kind, properties and where the parts lie. */
function summary(features: DecodedMvtFeature[]) {
  return features
    .map((f) => {
      const points = f.parts.flat();
      const xs = points.map((p) => p[0]);
      const ys = points.map((p) => p[1]);
      const box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
      return { type: f.type, properties: f.properties, box };
    })
    .sort(
      (a, b) =>
        JSON.stringify(a.properties).localeCompare(JSON.stringify(b.properties)) ||
        a.type.localeCompare(b.type),
    );
}

/** Same features and values; every bounding-box edge within two units. */
function expectSameTile(
  actual: DecodedMvtFeature[],
  expected: DecodedMvtFeature[],
  mayBeEmpty = false,
) {
  const [a, e] = [summary(actual), summary(expected)];
  if (!mayBeEmpty) expect(e.length).toBeGreaterThan(0);
  expect(a.map(({ type, properties }) => ({ type, properties }))).toEqual(
    e.map(({ type, properties }) => ({ type, properties })),
  );
  a.forEach((feature, i) => {
    feature.box.forEach((edge, k) => expect(Math.abs(edge - e[i]!.box[k]!)).toBeLessThanOrEqual(2));
  });
}

/** Named in the suite title, so the report says which warehouse ran the row path. */
const WAREHOUSE_LABEL = postgresOrSkip() ? 'PostgreSQL/PostGIS' : 'PGlite (no PostgreSQL here)';

describe(`row path tiles against ${WAREHOUSE_LABEL}`, () => {
  it(`reads per-feature rows with the Redshift SQL`, async () => {
    rows.sent.length = 0;
    await mvtFeatures(rows, tableSource('pts'), { z: 0, x: 0, y: 0 });

    expect(rows.sent).toHaveLength(1);
    expect(rows.sent[0]!.sql).toContain('ST_AsBinary("geom") AS "_wkb"');
    expect(rows.sent[0]!.sql).not.toMatch(/json|ST_AsMVT|ST_ClipByBox2D/i);
  });

  it('puts every point in exactly one z2 tile, where the slippy-map formulas put it', async () => {
    const seen = new Map<number, number>();
    for (let x = 0; x < 4; x++) {
      for (let y = 0; y < 4; y++) {
        const at = { z: 2, x, y };
        for (const feature of await mvtFeatures(rows, tableSource('pts', [ID]), at)) {
          const id = feature.properties.id as number;
          const [lon, lat] = POINTS[id - 1]!;
          const [ex, ey] = lonLatToTileUnits(lon, lat, at, 1024);
          const [[px, py]] = feature.parts[0]! as [[number, number]];
          expect(Math.abs(px - ex)).toBeLessThanOrEqual(0.5 + 1e-6);
          expect(Math.abs(py - ey)).toBeLessThanOrEqual(0.5 + 1e-6);
          seen.set(id, (seen.get(id) ?? 0) + 1);
        }
      }
    }

    expect(seen.size).toBe(POINTS.length);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
  });

  it('gives the same points for SRID 3857 and SRID 0 columns', async () => {
    const at = tileAt(10, 10, 3);
    const reference = summary(await mvtFeatures(rows, tableSource('pts'), at));

    expect(summary(await mvtFeatures(rows, tableSource('pts_srid0', [ID], 0), at))).toEqual(
      reference,
    );
    const mercator = summary(await mvtFeatures(rows, tableSource('pts_3857', [ID], 3857), at));
    expect(mercator.map((f) => f.properties)).toEqual(reference.map((f) => f.properties));
  });

  it('clips a holed polygon crossing the tile edges, with its inside and its hole', async () => {
    const at = tileAt(5, 5, 5);
    const features = await mvtFeatures(rows, tableSource('shapes'), at);
    const square = features.find((f) => f.properties.id === 1)!;

    expect(square.type).toBe('Polygon');
    const inside = lonLatToTileUnits(3, 3, at, 1024);
    const hole = lonLatToTileUnits(5, 5, at, 1024);
    expect(isInsideRings(inside, square.parts)).toBe(true);
    expect(isInsideRings(hole, square.parts)).toBe(false);
    const xs = square.parts.flat().map((p) => p[0]);
    expect([Math.min(...xs), Math.max(...xs)]).toEqual([-64, 1024 + 64]);
  });

  it('places a line through its vertices', async () => {
    const at = { z: 3, x: 4, y: 3 };
    const features = await mvtFeatures(rows, tableSource('shapes'), at);
    const line = features.find((f) => f.properties.id === 2)!;

    expect(line.type).toBe('LineString');
    const vertices = line.parts[0]!;
    [
      [1, 1],
      [4, 4],
      [8, 2],
    ].forEach(([lon, lat], i) => {
      const [ex, ey] = lonLatToTileUnits(lon!, lat!, at, 1024);
      expect(Math.abs(vertices[i]![0] - ex)).toBeLessThanOrEqual(1);
      expect(Math.abs(vertices[i]![1] - ey)).toBeLessThanOrEqual(1);
    });
  });

  it('builds the tiles beside the antimeridian with only their own side', async () => {
    const west = await mvtFeatures(rows, tableSource('shapes'), { z: 2, x: 0, y: 1 });
    const east = await mvtFeatures(rows, tableSource('shapes'), { z: 2, x: 3, y: 1 });

    expect(west.map((f) => f.properties.id)).toEqual([3]);
    expect(east.map((f) => f.properties.id)).toEqual([4]);
    expect(Math.min(...west[0]!.parts.flat().map((p) => p[0]))).toBe(0);
    expect(Math.max(...east[0]!.parts.flat().map((p) => p[0]))).toBe(1024);
  });

  it('matches the JSON path: quoted and unicode names, exact big integers', async () => {
    const source: TileSource = {
      fromSql: `${SCHEMA}."CityPoints"`,
      params: [],
      geomColumn: 'Geom',
      properties: [
        field('Name', 'text', 'string'),
        field('order', 'int4', 'number'),
        field('pop 2020', 'int8', 'bigint'),
        field('名前', 'text', 'string'),
        field('x"; DROP TABLE pts; --', 'text', 'string'),
      ],
    };
    for (const at of [
      { z: 3, x: 4, y: 2 },
      { z: 3, x: 3, y: 2 },
    ]) {
      const features = await mvtFeatures(rows, source, at);
      expectSameTile(features, await mvtFeatures(json, source, at));
    }

    const berlin = await mvtFeatures(rows, source, { z: 3, x: 4, y: 2 });
    expect(berlin.map((f) => f.properties['pop 2020']).sort()).toEqual([100, '9007199254740993']);
    expect(berlin.map((f) => f.properties['名前']).sort()).toEqual(['A Coruña', '東京']);
  });

  it('matches the JSON path on Z/M lines around the corner they graze (B03)', async () => {
    const source = tableSource('b03_rivers', [ID, field('name', 'text', 'string')]);
    for (const x of [127, 128, 129]) {
      for (const y of [126, 127, 128]) {
        const at = { z: 8, x, y };
        expectSameTile(
          await mvtFeatures(rows, source, at),
          await mvtFeatures(json, source, at),
          true,
        );
      }
    }
  });

  it('splits a geometry collection by kind like the JSON path, in both formats (B05)', async () => {
    const source = tableSource('b05_mixed', [ID, field('kind', 'text', 'string')]);
    const at = { z: 4, x: 8, y: 7 };
    const features = await mvtFeatures(rows, source, at);

    expectSameTile(features, await mvtFeatures(json, source, at));
    expect(features.map((f) => `${f.properties.id}:${f.type}`).sort()).toEqual([
      '1:Point',
      '2:LineString',
      '3:Polygon',
      '4:LineString',
      '4:Point',
      '4:Polygon',
    ]);
    const built = await buildTile(rows, source, request(at, 'binary'), { timeoutMs: 30_000 });
    const tile = decodeCartoBinaryTile(built.body!);
    expect(tile.points.properties).toEqual([{ kind: 'pt' }, { kind: 'gc' }]);
    expect(tile.polygons.properties).toEqual([{ kind: 'poly' }, { kind: 'gc' }]);
  });

  it('builds every tile over invalid, NULL, EMPTY and NaN geometries (B16)', async () => {
    const source = tableSource('b16');
    for (let z = 0; z <= 6; z++) {
      const [min, max] = [tileAt(0, 6, z), tileAt(6, 0, z)];
      for (let x = min.x; x <= max.x; x++) {
        for (let y = min.y; y <= max.y; y++) {
          const ids = (await mvtFeatures(rows, source, { z, x, y })).map((f) => f.properties.id);
          expect(ids.filter((id) => id !== 1 && id !== 2)).toEqual([]);
        }
      }
      const square = await mvtFeatures(rows, source, tileAt(1.5, 1.5, z));
      expect(square.map((f) => f.properties.id)).toContain(1);
    }
  });

  it('answers an empty tile with no body and reports a cut tile', async () => {
    const empty = await buildTile(
      rows,
      tableSource('b05_mixed'),
      request(tileAt(-120, -40, 6), 'mvt'),
      {
        timeoutMs: 30_000,
      },
    );
    expect(empty).toMatchObject({ body: null, featureCount: 0, truncated: false });

    const cut = await buildTile(
      rows,
      tableSource('pts'),
      request({ z: 0, x: 0, y: 0 }, 'mvt', 10),
      {
        timeoutMs: 30_000,
      },
    );
    expect(cut.truncated).toBe(true);
    expect(cut.featureCount).toBe(10);
    expect(decodeMvt(cut.body!, 0, 0, 0).features).toHaveLength(10);
  });
});

describe('row tile encoding', () => {
  const grid = describeTileGrid(0, 0, 0, 1024);
  const point = (lon: number, lat: number) => wkx.Geometry.parse(`POINT(${lon} ${lat})`).toWkb();
  const properties = [{ name: 'n', kind: 'number' as const, cartoType: 'number' as const }];

  it('leaves out rows whose WKB cannot be read and builds the tile from the rest', () => {
    const encoded = encodeRowTile({
      rows: [
        { wkb: 'not wkb', values: [1] },
        { wkb: '\\x0103000000', values: [2] },
        { wkb: Buffer.from([1, 2, 3]), values: [3] },
        { wkb: point(10, 10), values: [4] },
        { wkb: `\\x${point(20, 20).toString('hex')}`, values: [5] },
      ],
      format: 'mvt',
      grid,
      mvtExtent: 1024,
      properties,
      maxFeatures: 10,
    });

    const features = decodeMvt(encoded.body!, 0, 0, 0).features;
    expect(features.map((f) => f.properties.n)).toEqual([4, 5]);
    expect(encoded).toMatchObject({ featureCount: 2, truncated: false });
  });

  it('encodes a tile with much geometry in a worker thread, as it would inline', async () => {
    const task: EncodeRowTileTask = {
      rows: Array.from({ length: 2000 }, (_, i) => ({
        wkb: `\\x${point(-170 + (i % 340), -80 + (i % 160)).toString('hex')}`,
        values: [i],
      })),
      format: 'binary',
      grid,
      mvtExtent: 1024,
      properties,
      maxFeatures: 1500,
    };

    try {
      const offThread = await encodeRowTileOffThread(task);
      expect(offThread).toEqual(encodeRowTile(task));
      expect(offThread).toMatchObject({ featureCount: 1500, truncated: true });
    } finally {
      await closeRowTileEncoderPool();
    }
  });
});
