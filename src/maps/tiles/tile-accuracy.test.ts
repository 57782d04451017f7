import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCartoBinaryTile } from '../../test-support/carto-binary-decoder.js';
import { PgliteTestDriver, createPostgisDatabase } from '../../test-support/pglite-test-driver.js';
import { decodeMvt, lonLatToTileUnits, tileAt } from '../../test-support/tile-test-helpers.js';
import {
  WarehouseError,
  type WarehouseDriver,
  type WarehouseQuery,
} from '../../warehouses/driver.js';
import { buildTile } from './build-tile.js';
import type { TileFormat, TileSource } from './tile-query.js';

/** Deterministic pseudo-random numbers, so failures reproduce. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const random = seededRandom(42);
const edgeLatitude = (row: number, tiles: number) =>
  (Math.atan(Math.sinh(Math.PI * (1 - (2 * row) / tiles))) * 180) / Math.PI;

/** Points on every z3 tile edge and corner, plus random points in Europe. */
const POINTS: [number, number][] = [
  ...Array.from({ length: 9 }, (_, i) => [-180 + 45 * i, 10] as [number, number]),
  ...Array.from({ length: 9 }, (_, i) => [10, edgeLatitude(i, 8)] as [number, number]),
  ...Array.from({ length: 9 }, (_, i) => [-180 + 45 * i, edgeLatitude(i, 8)] as [number, number]),
  ...Array.from(
    { length: 600 },
    () => [-10 + 40 * random(), 35 + 25 * random()] as [number, number],
  ),
];

const EDGE_POINTS = 27;

/** Axis-aligned squares in lon/lat, 0.2° to 1° wide, in Europe. */
const SQUARES = Array.from({ length: 80 }, () => {
  const [west, south, size] = [-10 + 38 * random(), 35 + 23 * random(), 0.2 + 0.8 * random()];
  return [west, south, west + size, south + size] as const;
});

let db: PGlite;
let driver: PgliteTestDriver;

beforeAll(async () => {
  db = await createPostgisDatabase();
  driver = new PgliteTestDriver(db);
  await db.exec(`
    CREATE TABLE pts(id int PRIMARY KEY, pop int, geom geometry(Point,4326));
    CREATE TABLE squares(id int PRIMARY KEY, geom geometry(Polygon,4326));
  `);
  await db.query(
    `INSERT INTO pts
     SELECT i, i % 1000, ST_SetSRID(ST_MakePoint(x, y), 4326)
     FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i)`,
    [POINTS.map((p) => p[0]), POINTS.map((p) => p[1])],
  );
  await db.query(
    `INSERT INTO squares
     SELECT i, ST_MakeEnvelope(w, s, e, n, 4326)
     FROM unnest($1::float8[], $2::float8[], $3::float8[], $4::float8[]) WITH ORDINALITY
       AS q(w, s, e, n, i)`,
    [0, 1, 2, 3].map((k) => SQUARES.map((square) => square[k])),
  );
  await db.exec(`
    CREATE INDEX ON pts USING gist (geom);
    CREATE TABLE pts_3857 AS SELECT id, pop, ST_Transform(geom, 3857) AS geom FROM pts;
    CREATE TABLE squares_3857 AS SELECT id, ST_Transform(geom, 3857) AS geom FROM squares;
  `);
});

afterAll(async () => {
  await driver.close();
});

const ID = { name: 'id', nativeType: 'int4', cartoType: 'number' as const };
const points: TileSource = { fromSql: 'pts', params: [], geomColumn: 'geom', properties: [ID] };
const squares: TileSource = { ...points, fromSql: 'squares' };

type At = { z: number; x: number; y: number };

function build(source: TileSource, at: At, format: TileFormat, maxFeatures = 10_000) {
  const tile = { ...at, format, tileResolution: 1, maxFeatures };
  return buildTile(driver, source, tile, { timeoutMs: 30_000 });
}

/** Feature ids of a tile in both formats, which must agree. */
async function idsIn(source: TileSource, at: At): Promise<number[]> {
  const mvt = await build(source, at, 'mvt');
  const features = mvt.body ? decodeMvt(mvt.body, at.z, at.x, at.y).features : [];
  const mvtIds = features.map((f) => f.properties.id as number);
  const binary = await build(source, at, 'binary');
  const decoded = binary.body ? decodeCartoBinaryTile(binary.body) : null;
  expect(Array.from(decoded?.points.numericProps.id ?? [])).toEqual(mvtIds);
  return mvtIds;
}

describe('points on shared tile edges', () => {
  it('puts every point in exactly one tile of a zoom level, in both formats', async () => {
    for (const z of [0, 1, 3]) {
      const seen: number[] = [];
      for (let x = 0; x < 2 ** z; x++) {
        for (let y = 0; y < 2 ** z; y++) seen.push(...(await idsIn(points, { z, x, y })));
      }
      const maxLatitude = edgeLatitude(0, 1);
      const inWorld = POINTS.flatMap(([, lat], i) => (Math.abs(lat) <= maxLatitude ? [i + 1] : []));
      expect(seen.sort((a, b) => a - b)).toEqual(inWorld);
    }
  });
});

describe('feature counts', () => {
  it('match a SQL count over ST_TileEnvelope for points', async () => {
    // Points placed exactly on tile edges (ids up to EDGE_POINTS) are left out: a projected
    // edge latitude can round to either side of ST_TileEnvelope's edge.
    for (const z of [4, 5, 6]) {
      const [min, max] = [tileAt(-10, 60, z), tileAt(30, 35, z)];
      for (let x = min.x; x <= max.x; x++) {
        for (let y = min.y; y <= max.y; y++) {
          const { rows } = await db.query<{ ids: number[] | null }>(
            `SELECT array_agg(id ORDER BY id) AS ids
             FROM pts, ST_Transform(pts.geom, 3857) AS m, ST_TileEnvelope($1, $2, $3) AS e
             WHERE id > $4
               AND ST_X(m) >= ST_XMin(e) AND ST_X(m) < ST_XMax(e)
               AND ST_Y(m) > ST_YMin(e) AND ST_Y(m) <= ST_YMax(e)`,
            [z, x, y, EDGE_POINTS],
          );
          const ids = await idsIn(points, { z, x, y });
          expect(ids.filter((id) => id > EDGE_POINTS).sort((a, b) => a - b)).toEqual(
            rows[0]!.ids ?? [],
          );
        }
      }
    }
  });

  it('cap at maxFeatures and report the cut', async () => {
    const world = { z: 0, x: 0, y: 0 };
    const capped = await build(points, world, 'mvt', 100);
    const whole = await build(points, world, 'binary', POINTS.length);

    expect(capped).toMatchObject({ featureCount: 100, truncated: true });
    expect(decodeMvt(capped.body!, 0, 0, 0).features).toHaveLength(100);
    expect(whole.truncated).toBe(false);
  });

  it('apply the query parameters of a query source', async () => {
    const sql = '(SELECT * FROM pts WHERE pop < $1\n) AS _src';
    const source = { ...points, fromSql: sql, params: [300] };
    const built = await build(source, { z: 0, x: 0, y: 0 }, 'mvt');

    const maxLatitude = edgeLatitude(0, 1);
    const expected = POINTS.filter(
      ([, lat], i) => (i + 1) % 1000 < 300 && Math.abs(lat) <= maxLatitude,
    );
    expect(built.featureCount).toBe(expected.length);
  });
});

async function expectWithinPixel(pointSource: TileSource, squareSource: TileSource) {
  const at = tileAt(10, 50, 5);
  const mvt = await build(pointSource, at, 'mvt');
  const decodedPoints = decodeMvt(mvt.body!, at.z, at.x, at.y).features;
  expect(decodedPoints.length).toBeGreaterThan(10);
  for (const feature of decodedPoints) {
    const [lon, lat] = POINTS[(feature.properties.id as number) - 1]!;
    const [ux, uy] = lonLatToTileUnits(lon, lat, at, 1024);
    const [px, py] = feature.parts[0]![0]!;
    expect(Math.max(Math.abs(px - ux), Math.abs(py - uy))).toBeLessThanOrEqual(0.5 + 1e-6);
  }

  const binary = decodeCartoBinaryTile((await build(pointSource, at, 'binary')).body!);
  const { positions, numericProps } = binary.points;
  expect(numericProps.id).toHaveLength(decodedPoints.length);
  numericProps.id!.forEach((id, vertex) => {
    const [lon, lat] = POINTS[id - 1]!;
    const [ux, uy] = lonLatToTileUnits(lon, lat, at, 1024);
    const [bx, by] = lonLatToTileUnits(
      positions[2 * vertex]!,
      positions[2 * vertex + 1]!,
      at,
      1024,
    );
    expect(Math.hypot(bx - ux, by - uy)).toBeLessThan(0.02);
  });

  const squaresTile = await build(squareSource, at, 'mvt');
  const decodedSquares = decodeMvt(squaresTile.body!, at.z, at.x, at.y).features;
  expect(decodedSquares.length).toBeGreaterThan(0);
  for (const feature of decodedSquares) {
    const [west, south, east, north] = SQUARES[(feature.properties.id as number) - 1]!;
    const [x0, y0] = lonLatToTileUnits(west, north, at, 1024);
    const [x1, y1] = lonLatToTileUnits(east, south, at, 1024);
    // Every vertex is a corner of the square, or lies on the buffered clip edge (±64).
    for (const [px, py] of feature.parts.flat()) {
      const onX = Math.abs(px - x0) <= 1 || Math.abs(px - x1) <= 1 || px === -64 || px === 1088;
      const onY = Math.abs(py - y0) <= 1 || Math.abs(py - y1) <= 1 || py === -64 || py === 1088;
      expect(onX && onY).toBe(true);
    }
  }
}

describe('positions', () => {
  it('land within a pixel of the source in both formats (WGS84 storage)', async () => {
    await expectWithinPixel(points, squares);
  });

  it('land within a pixel of the source in both formats (Web Mercator storage)', async () => {
    await expectWithinPixel(
      { ...points, fromSql: 'pts_3857', srid: 3857 },
      { ...squares, fromSql: 'squares_3857', srid: 3857 },
    );
  });
});

describe('deep zooms', () => {
  it.each([18, 22, 30])('place a point within a pixel at z%i, in both formats', async (z) => {
    const id = EDGE_POINTS + 1;
    const [lon, lat] = POINTS[id - 1]!;
    const at = tileAt(lon, lat, z);
    const [ux, uy] = lonLatToTileUnits(lon, lat, at, 1024);

    const [feature] = decodeMvt((await build(points, at, 'mvt')).body!, at.z, at.x, at.y).features;
    expect(feature?.properties.id).toBe(id);
    const [px, py] = feature!.parts[0]![0]!;
    expect(Math.max(Math.abs(px - ux), Math.abs(py - uy))).toBeLessThanOrEqual(0.5 + 1e-6);

    const { positions } = decodeCartoBinaryTile((await build(points, at, 'binary')).body!).points;
    const [bx, by] = lonLatToTileUnits(positions[0]!, positions[1]!, at, 1024);
    expect(Math.hypot(bx - ux, by - uy)).toBeLessThan(0.02);
  });
});

describe('grid and driver use', () => {
  it('sizes the MVT grid by tileResolution', async () => {
    const grids = [
      [0.25, 256],
      [0.5, 512],
      [2, 2048],
      [4, 4096],
    ] as const;
    for (const [tileResolution, extent] of grids) {
      const tile = { z: 0, x: 0, y: 0, format: 'mvt' as const, tileResolution, maxFeatures: 10 };
      const built = await buildTile(driver, points, tile, { timeoutMs: 1000 });
      expect(decodeMvt(built.body!, 0, 0, 0).extent).toBe(extent);
    }
  });

  it('rejects coordinates outside the grid before any query', async () => {
    const sent = driver.statements.length;
    const tile = { z: 3, x: 8, y: 0, format: 'mvt' as const, tileResolution: 1, maxFeatures: 10 };

    await expect(buildTile(driver, points, tile, { timeoutMs: 1000 })).rejects.toThrow(RangeError);
    expect(driver.statements).toHaveLength(sent);
  });

  it('passes the time limit and abort signal to the driver', async () => {
    const signal = new AbortController().signal;
    const tile = { z: 2, x: 2, y: 1, format: 'mvt' as const, tileResolution: 1, maxFeatures: 10 };
    await buildTile(driver, points, tile, { timeoutMs: 4321, signal });

    expect(driver.statements.at(-1)).toMatchObject({ timeoutMs: 4321, signal });
  });

  it('retries with repaired geometries after an internal error, and not after a timeout', async () => {
    const failing = (kind: 'internal' | 'timeout') => {
      const sent: WarehouseQuery[] = [];
      const wrapped: WarehouseDriver = {
        provider: 'postgres',
        capabilities: driver.capabilities,
        stream: (query) => driver.stream(query),
        test: () => driver.test(),
        close: async () => {},
        query: async (query) => {
          sent.push(query);
          if (sent.length === 1) throw new WarehouseError(kind, 'GEOS failed');
          return driver.query(query);
        },
      };
      return { sent, wrapped };
    };
    const tile = {
      z: 4,
      x: 8,
      y: 5,
      format: 'binary' as const,
      tileResolution: 1,
      maxFeatures: 10,
    };

    const internal = failing('internal');
    const built = await buildTile(internal.wrapped, squares, tile, { timeoutMs: 30_000 });
    expect(built.geometriesRepaired).toBe(true);
    expect(internal.sent.map((q) => q.sql.includes('ST_MakeValid'))).toEqual([false, true]);

    const timeout = failing('timeout');
    await expect(buildTile(timeout.wrapped, squares, tile, { timeoutMs: 1000 })).rejects.toThrow(
      'GEOS failed',
    );
    expect(timeout.sent).toHaveLength(1);
  });
});
