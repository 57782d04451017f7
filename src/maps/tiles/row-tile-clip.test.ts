import wkx from 'wkx';
import { describe, expect, it } from 'vitest';
import {
  isInsideRings,
  lonLatToTileUnits,
  signedArea,
  tileAt,
} from '../../test-support/tile-test-helpers.js';
import {
  clipRowsToTile,
  placePoint,
  readWkbGeometry,
  type ClippedRow,
  type TileShape,
} from './row-tile-clip.js';
import { describeTileGrid } from './tile-grid.js';

const wkb = (wkt: string): Buffer => wkx.Geometry.parse(wkt).toWkb();

function shapeOf(row: ClippedRow | undefined): TileShape {
  if (!row || !('shape' in row)) throw new Error(`expected a shape, got ${JSON.stringify(row)}`);
  return row.shape;
}

describe('reading WKB as drivers return it', () => {
  const point = wkb('POINT(1 2)');

  it('reads bytes, \\x-prefixed hex text and bare hex alike', () => {
    const expected = { type: 'Point', coordinates: [1, 2] };

    expect(readWkbGeometry(point)).toEqual(expected);
    expect(readWkbGeometry(new Uint8Array(point))).toEqual(expected);
    expect(readWkbGeometry(`\\x${point.toString('hex')}`)).toEqual(expected);
    expect(readWkbGeometry(point.toString('hex').toUpperCase())).toEqual(expected);
  });

  it('drops Z and M, keeping x and y first', () => {
    const geometry = readWkbGeometry(wkb('LINESTRING ZM (1 2 3 4, 5 6 7 8)'));

    expect(geometry?.type).toBe('LineString');
    expect((geometry as { coordinates: number[][] }).coordinates.map((p) => p.slice(0, 2))).toEqual(
      [
        [1, 2],
        [5, 6],
      ],
    );
  });

  it('answers null for NULL, truncated WKB, non-hex text and other values', () => {
    for (const value of [
      null,
      undefined,
      42,
      'POINT(1 2)',
      'zz',
      '\\x0103',
      point.subarray(0, 9),
    ]) {
      expect(readWkbGeometry(value)).toBeNull();
    }
  });
});

describe('placing lone points', () => {
  const grid = describeTileGrid(5, 16, 16, 4096);

  it('puts a point where the slippy-map formulas do, rounded to the unit', () => {
    for (const [lon, lat] of [
      [1, -1],
      [5.5, -3.25],
      [11.24, -11.1],
    ] as const) {
      const [x, y] = lonLatToTileUnits(lon, lat, grid, 4096);

      expect(placePoint(lon, lat, grid)).toEqual([Math.round(x), Math.round(y)]);
    }
  });

  it('gives a point on a shared edge to one tile: west and north in, east and south out', () => {
    const east = describeTileGrid(5, 17, 16, 4096);
    const south = describeTileGrid(5, 16, 17, 4096);

    expect(placePoint(grid.lonLat.minX, -5, grid)).toEqual([0, expect.any(Number)]);
    expect(placePoint(grid.lonLat.maxX, -5, grid)).toBeNull();
    expect(placePoint(grid.lonLat.maxX, -5, east)).toEqual([0, expect.any(Number)]);
    expect(placePoint(5, grid.lonLat.maxY, grid)).toEqual([expect.any(Number), 0]);
    expect(placePoint(5, grid.lonLat.minY, grid)).toBeNull();
    expect(placePoint(5, grid.lonLat.minY, south)).toEqual([expect.any(Number), 0]);
  });

  it('closes the east and south edges of the world', () => {
    const corner = describeTileGrid(2, 3, 3, 4096);

    expect(placePoint(180, corner.lonLat.minY, corner)).toEqual([4096, 4096]);
  });
});

describe('clipping rows to a tile', () => {
  const at = { z: 6, x: 32, y: 31 };
  const grid = describeTileGrid(at.z, at.x, at.y, 4096);
  const tileWidth = 360 / 64;

  it('clips a polygon crossing every edge to the buffered tile, keeping its inside', () => {
    const [clipped] = clipRowsToTile(
      [wkb('POLYGON((-10 -10, 20 -10, 20 20, -10 20, -10 -10))')],
      grid,
      4096,
    );
    const shape = shapeOf(clipped);

    expect(shape.type).toBe('MultiPolygon');
    const [polygon] = (shape as { coordinates: [number, number][][][] }).coordinates;
    const xs = polygon![0]!.map((p) => p[0]);
    // Clipped to the tile plus a sixteenth of it (256 units at 4096) on each side.
    expect(Math.min(...xs)).toBe(-256);
    expect(Math.max(...xs)).toBe(4096 + 256);
    expect(signedArea(polygon![0]!)).toBeGreaterThan(0);
    expect(isInsideRings([2048, 2048], polygon!)).toBe(true);
  });

  it('keeps a hole as a hole, where an independent projection puts it', () => {
    const [lon, lat] = [tileWidth / 2, tileWidth / 2];
    const corners = [
      [lon - 1, lat - 1],
      [lon - 1, lat + 1],
      [lon + 1, lat + 1],
      [lon + 1, lat - 1],
      [lon - 1, lat - 1],
    ];
    const hole = `(${corners.map((c) => c.join(' ')).join(', ')})`;
    const [clipped] = clipRowsToTile(
      [wkb(`POLYGON((-10 -10, 20 -10, 20 20, -10 20, -10 -10), ${hole})`)],
      grid,
      4096,
    );
    const [polygon] = (shapeOf(clipped) as { coordinates: [number, number][][][] }).coordinates;

    expect(polygon).toHaveLength(2);
    expect(Math.sign(signedArea(polygon![1]!))).toBe(-1);
    expect(isInsideRings(lonLatToTileUnits(lon, lat, at, 4096), polygon!)).toBe(false);
    expect(isInsideRings(lonLatToTileUnits(lon - 1.5, lat, at, 4096), polygon!)).toBe(true);
  });

  it('puts a line through the tile where the slippy-map formulas put its ends', () => {
    const [clipped] = clipRowsToTile([wkb('LINESTRING(1 1, 4 4)')], grid, 4096);
    const [line] = (shapeOf(clipped) as { coordinates: [number, number][][] }).coordinates;
    const start = lonLatToTileUnits(1, 1, at, 4096);
    const end = lonLatToTileUnits(4, 4, at, 4096);

    expect(line![0]![0]).toBeCloseTo(start[0], -0.5);
    expect(line![0]![1]).toBeCloseTo(start[1], -0.5);
    expect(line![line!.length - 1]![0]).toBeCloseTo(end[0], -0.5);
    expect(line![line!.length - 1]![1]).toBeCloseTo(end[1], -0.5);
  });

  it('splits a collection by kind and leaves out rows with nothing in the tile', () => {
    const rows = clipRowsToTile(
      [
        wkb('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(1 1, 2 2), POLYGON((2 2, 3 2, 3 3, 2 2)))'),
        wkb('POINT(100 50)'),
        wkb('LINESTRING(100 50, 110 60)'),
        'not wkb',
        null,
        wkb('POINT EMPTY'),
        wkb('LINESTRING(1 1, NaN 2)'),
        wkb('POINT(2 2)'),
      ],
      grid,
      4096,
    );

    const collection = shapeOf(rows[0]);
    expect(collection.type).toBe('GeometryCollection');
    expect(
      (collection as { geometries: TileShape[] }).geometries.map((g) => g.type).sort(),
    ).toEqual(['MultiLineString', 'MultiPoint', 'MultiPolygon']);
    expect(rows.slice(1, 7)).toEqual([null, null, null, null, null, null]);
    expect(rows[7]).toEqual({ x: expect.any(Number), y: expect.any(Number) });
  });

  it('clips the tiles beside the antimeridian, parts from across it only in the buffer', () => {
    const west = describeTileGrid(3, 0, 3, 4096);
    const east = describeTileGrid(3, 7, 3, 4096);
    const rows = [
      wkb('POLYGON((-180 0, -170 0, -170 10, -180 10, -180 0))'),
      wkb('POLYGON((170 0, 180 0, 180 10, 170 10, 170 0))'),
      wkb('POINT(-180 5)'),
      wkb('POINT(180 5)'),
    ];
    const xsOf = (row: ClippedRow | undefined) =>
      (shapeOf(row) as { coordinates: [number, number][][][] }).coordinates
        .flat(2)
        .map((p) => p[0]);

    const onWest = clipRowsToTile(rows, west, 4096);
    const onEast = clipRowsToTile(rows, east, 4096);

    expect(Math.min(...xsOf(onWest[0]))).toBe(0);
    expect(Math.max(...xsOf(onWest[0]))).toBe(Math.round((4096 * 10) / 45));
    // geojson-vt wraps buffers across the antimeridian; the SQL box never asks for the far
    // side, and whatever is wrapped stays outside the tile itself.
    expect(Math.max(...xsOf(onWest[1]))).toBeLessThanOrEqual(0);
    expect(onWest[2]).toEqual({ x: 0, y: expect.any(Number) });
    expect(onWest[3]).toBeNull();
    expect(Math.max(...xsOf(onEast[1]))).toBe(4096);
    expect(Math.min(...xsOf(onEast[0]))).toBeGreaterThanOrEqual(4096);
    expect(onEast[2]).toBeNull();
    expect(onEast[3]).toEqual({ x: 4096, y: expect.any(Number) });
  });

  it('refuses zooms geojson-vt cannot index', () => {
    const deep = describeTileGrid(25, tileAt(1, 1, 25).x, tileAt(1, 1, 25).y, 4096);

    expect(() => clipRowsToTile([], deep, 4096)).toThrow(RangeError);
  });
});
