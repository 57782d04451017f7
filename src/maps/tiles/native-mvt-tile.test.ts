/**
 * The native MVT path (ST_AsMVT in PostGIS) against the throwaway PostgreSQL cluster, through
 * the real PostgreSQL driver (bytea as text), compared with the tile Graticule encodes itself
 * from the JSON path over the same data.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectAsSuperuser, describeWithPostgres } from '../../../test/support/postgres.js';
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
import type { TileRequest, TileSource } from './tile-query.js';

const SCHEMA = 'tile_native';
/** More columns than one jsonb_build_object call takes. */
const WIDE_COLUMNS = Array.from({ length: 60 }, (_, i) => `c${i}`);

const FIXTURES = `
CREATE SCHEMA ${SCHEMA};
SET search_path TO ${SCHEMA}, public;
CREATE TABLE pts(id int PRIMARY KEY, name text, score float8, ratio real, flag boolean,
                 seen timestamptz, meta jsonb, geom geometry(Point,4326));
INSERT INTO pts
SELECT i, 'p' || i, i / 7.0, (i / 3.0)::real, i % 2 = 0,
       '2024-03-31 01:30:00+02'::timestamptz + i * interval '1 hour', jsonb_build_object('i', i),
       ST_SetSRID(ST_MakePoint(-20 + (i * 37 % 400) / 10.0, -20 + (i * 53 % 400) / 10.0), 4326)
FROM generate_series(1, 400) AS i;
INSERT INTO pts VALUES (1000, 'edge', 'NaN', 'Infinity', NULL, NULL, NULL,
                        ST_SetSRID(ST_MakePoint(0, 0), 4326));
CREATE TABLE pts_3857 AS SELECT id, name, ST_Transform(geom, 3857) AS geom FROM pts;
CREATE TABLE shapes(id int PRIMARY KEY, kind text, geom geometry(Geometry,4326));
INSERT INTO shapes VALUES
 (1, 'holed square', ST_GeomFromText('POLYGON((-10 -10,20 -10,20 20,-10 20,-10 -10),
                                              (4 4,4 6,6 6,6 4,4 4))', 4326)),
 (2, 'line', ST_GeomFromText('LINESTRING(1 1,4 4,8 2)', 4326));
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
 (6, ST_SetSRID(ST_MakePoint('NaN'::float8, 1),4326)),
 (11, ST_GeomFromText('MULTIPOLYGON(((1 1,2 1,2 2,1 1)),((5 5,6 6,6 6,5 5)))',4326));
CREATE TABLE wide AS
SELECT ${WIDE_COLUMNS.map((c, i) => `${i} AS ${c}`).join(', ')}, id, geom FROM pts;
`;

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

/** The driver as it is, and seen with only the JSON path, both recording what they send. */
function withCapabilities(driver: WarehouseDriver, nativeMvt: boolean) {
  const sent: WarehouseQuery[] = [];
  const view: WarehouseDriver & { sent: WarehouseQuery[] } = {
    provider: 'postgres',
    capabilities: { nativeMvt, jsonTiles: true, cancellable: true },
    sent,
    query: (query) => {
      sent.push(query);
      return driver.query(query);
    },
    stream: (query) => driver.stream(query),
    test: () => driver.test(),
    close: () => Promise.resolve(),
  };
  return view;
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

describeWithPostgres('native MVT tiles built by PostGIS', (info) => {
  let driver: PostgresDriver;
  let native: ReturnType<typeof withCapabilities>;
  let encoded: ReturnType<typeof withCapabilities>;

  beforeAll(async () => {
    const admin = await connectAsSuperuser(info);
    try {
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await admin.query(FIXTURES);
      await admin.query(`GRANT USAGE ON SCHEMA ${SCHEMA} TO "${info.username}";
        GRANT SELECT ON ALL TABLES IN SCHEMA ${SCHEMA} TO "${info.username}"`);
    } finally {
      await admin.end();
    }
    driver = new PostgresDriver({
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
    expect(await driver.ready()).toMatchObject({ nativeMvt: true, jsonTiles: true });
    native = withCapabilities(driver, true);
    encoded = withCapabilities(driver, false);
  });

  afterAll(async () => {
    await driver?.close();
    const admin = await connectAsSuperuser(info);
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
  });

  function request(at: At, options: Partial<TileRequest> = {}): TileRequest {
    return { ...at, format: 'mvt', tileResolution: 1, maxFeatures: 1000, ...options };
  }

  async function mvt(view: WarehouseDriver, source: TileSource, at: At, options = {}) {
    const built = await buildTile(view, source, request(at, options), { timeoutMs: 30_000 });
    return built.body ? decodeMvt(built.body, at.z, at.x, at.y) : null;
  }

  /** Same features and values as the JS-encoded tile; every box edge within two units. */
  async function expectSameAsEncoded(source: TileSource, at: At, mayBeEmpty = false) {
    const fromDatabase = summary((await mvt(native, source, at))?.features ?? []);
    const fromJson = summary((await mvt(encoded, source, at))?.features ?? []);
    if (!mayBeEmpty) expect(fromJson.length).toBeGreaterThan(0);

    expect(fromDatabase.map(({ type, properties }) => ({ type, properties }))).toEqual(
      fromJson.map(({ type, properties }) => ({ type, properties })),
    );
    fromDatabase.forEach((feature, i) => {
      feature.box.forEach((edge, k) => {
        expect(Math.abs(edge - fromJson[i]!.box[k]!)).toBeLessThanOrEqual(2);
      });
    });
    return fromDatabase;
  }

  it('builds the tile with ST_AsMVT and passes its bytes through', async () => {
    native.sent.length = 0;
    const tile = await mvt(native, tableSource('pts'), { z: 2, x: 1, y: 1 });

    expect(native.sent.map((q) => q.sql)).toEqual([expect.stringContaining('ST_AsMVT(')]);
    expect(tile).toMatchObject({ layerNames: ['default'], version: 2, extent: 1024 });
  });

  it('uses the layer name and the extent of the JS encoder for each resolution', async () => {
    for (const [tileResolution, extent] of [
      [0.25, 256],
      [4, 4096],
    ] as const) {
      const at = { z: 2, x: 1, y: 1 };
      const fromDatabase = await mvt(native, tableSource('pts'), at, { tileResolution });
      const fromJson = await mvt(encoded, tableSource('pts'), at, { tileResolution });
      expect(fromDatabase).toMatchObject({ layerNames: fromJson!.layerNames, extent });
    }
  });

  it('carries the same points and property values as the JS-encoded tile', async () => {
    const source = tableSource('pts', [
      ID,
      field('name', 'text', 'string'),
      field('score', 'float8', 'number'),
      field('ratio', 'float4', 'number'),
      field('flag', 'bool', 'boolean'),
      field('seen', 'timestamptz', 'timestamp'),
      field('meta', 'jsonb', 'object'),
    ]);
    for (const at of [
      { z: 0, x: 0, y: 0 },
      { z: 2, x: 1, y: 1 },
      { z: 2, x: 2, y: 2 },
      tileAt(0, 0, 6),
    ]) {
      await expectSameAsEncoded(source, at);
    }
    const [edge] = (await mvt(native, source, tileAt(0, 0, 6)))!.features.filter(
      (f) => f.properties.id === 1000,
    );
    // NaN and Infinity have no JSON number: the feature has no value for them.
    expect(edge?.properties).toEqual({ id: 1000, name: 'edge' });
  });

  it('places points on SRID 3857 columns like the JS-encoded tile', async () => {
    await expectSameAsEncoded(tableSource('pts_3857', [ID], 3857), { z: 2, x: 1, y: 1 });
  });

  it('clips a holed polygon and a line as the JS-encoded tile does', async () => {
    const at = tileAt(5, 5, 5);
    await expectSameAsEncoded(tableSource('shapes'), at);
    const square = (await mvt(native, tableSource('shapes'), at))!.features.find(
      (f) => f.properties.id === 1,
    )!;

    expect(isInsideRings(lonLatToTileUnits(3, 3, at, 1024), square.parts)).toBe(true);
    expect(isInsideRings(lonLatToTileUnits(5, 5, at, 1024), square.parts)).toBe(false);
  });

  it('keeps quoted, reserved and unicode property names and exact big integers', async () => {
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

    const features = await expectSameAsEncoded(source, { z: 3, x: 4, y: 2 });

    expect(features.map((f) => f.properties)).toEqual([
      {
        Name: 'Alpha',
        order: 1,
        'pop 2020': 100,
        名前: 'A Coruña',
        'x"; DROP TABLE pts; --': 'a',
      },
      {
        Name: 'Beta',
        order: 2,
        'pop 2020': '9007199254740993',
        名前: '東京',
        'x"; DROP TABLE pts; --': 'b',
      },
    ]);
    await expectSameAsEncoded(source, { z: 3, x: 3, y: 2 });
  });

  it('builds 2D tiles from Z/M lines, including the corner tile 8/128/128 (B03)', async () => {
    const source = tableSource('b03_rivers', [ID, field('name', 'text', 'string')]);
    for (const x of [127, 128, 129]) {
      for (const y of [126, 127, 128]) await expectSameAsEncoded(source, { z: 8, x, y }, true);
    }
    const corner = await mvt(native, source, { z: 8, x: 128, y: 128 });

    expect(corner!.features.map((f) => f.properties.name)).toContain('edge-runner');
  });

  it('splits a geometry collection into its kinds, as the JS-encoded tile does (B05)', async () => {
    const source = tableSource('b05_mixed', [ID, field('kind', 'text', 'string')]);

    const features = await expectSameAsEncoded(source, { z: 4, x: 8, y: 7 });

    expect(features.map((f) => `${f.properties.id}:${f.type}`).sort()).toEqual([
      '1:Point',
      '2:LineString',
      '3:Polygon',
      '4:LineString',
      '4:Point',
      '4:Polygon',
    ]);
  });

  it('builds every tile over invalid, NULL, EMPTY and NaN geometries (B16)', async () => {
    const source = tableSource('b16');
    for (let z = 0; z <= 6; z++) {
      const [min, max] = [tileAt(0, 6, z), tileAt(6, 0, z)];
      for (let x = min.x; x <= max.x; x++) {
        for (let y = min.y; y <= max.y; y++) {
          const tile = await mvt(native, source, { z, x, y });
          const ids = (tile?.features ?? []).map((f) => f.properties.id);
          expect(ids.filter((id) => id !== 1 && id !== 2 && id !== 11)).toEqual([]);
        }
      }
      const square = await mvt(native, source, tileAt(1.5, 1.5, z));
      expect(square!.features.map((f) => f.properties.id)).toContain(1);
    }
  });

  it('answers an empty tile with no body', async () => {
    const built = await buildTile(native, tableSource('b05_mixed'), request(tileAt(-120, -40, 6)), {
      timeoutMs: 30_000,
    });

    expect(built).toMatchObject({ body: null, featureCount: 0, truncated: false });
  });

  it('caps features in SQL and reports the tile as cut', async () => {
    const at = { z: 0, x: 0, y: 0 };
    const built = await buildTile(native, tableSource('pts'), request(at, { maxFeatures: 25 }), {
      timeoutMs: 30_000,
    });
    const full = await buildTile(native, tableSource('pts'), request(at, { maxFeatures: 401 }), {
      timeoutMs: 30_000,
    });

    expect(built).toMatchObject({ featureCount: 25, truncated: true });
    expect(decodeMvt(built.body!, 0, 0, 0).features).toHaveLength(25);
    expect(full).toMatchObject({ featureCount: 401, truncated: false });
  });

  it('sends a driver that declares neither capability down the row path', async () => {
    const redshiftLike = new PostgresDriver({
      provider: 'redshift',
      host: info.host,
      port: info.port,
      database: info.database,
      username: info.username,
      password: info.password,
      sslmode: 'disable',
      maxConnections: 1,
      connectTimeoutMs: 10_000,
      acquireTimeoutMs: 10_000,
    });
    try {
      const at = tileAt(5, 5, 5);
      const built = await buildTile(redshiftLike, tableSource('shapes'), request(at), {
        timeoutMs: 30_000,
      });
      const square = decodeMvt(built.body!, at.z, at.x, at.y).features.find(
        (f) => f.properties.id === 1,
      )!;

      expect(redshiftLike.capabilities).toMatchObject({ nativeMvt: false, jsonTiles: false });
      expect(isInsideRings(lonLatToTileUnits(3, 3, at, 1024), square.parts)).toBe(true);
      expect(isInsideRings(lonLatToTileUnits(5, 5, at, 1024), square.parts)).toBe(false);
    } finally {
      await redshiftLike.close();
    }
  });

  it('carries more properties than one jsonb_build_object call takes', async () => {
    const columns = WIDE_COLUMNS.map((name) => field(name, 'int4', 'number'));
    const features = await expectSameAsEncoded(tableSource('wide', [ID, ...columns]), {
      z: 2,
      x: 1,
      y: 1,
    });

    expect(Object.keys(features[0]!.properties)).toHaveLength(61);
  });
});
