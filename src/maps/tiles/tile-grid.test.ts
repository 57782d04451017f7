import { describe, expect, it } from 'vitest';
import {
  MERCATOR_HALF_WORLD,
  describeTileGrid,
  lonLatProjection,
  mvtExtentFor,
} from './tile-grid.js';

describe('describeTileGrid', () => {
  it('rejects coordinates outside the grid', () => {
    for (const [z, x, y] of [
      [0, 1, 0],
      [0, 0, -1],
      [-1, 0, 0],
      [3, 8, 0],
      [31, 0, 0],
      [3, 1.5, 2],
    ]) {
      expect(() => describeTileGrid(z!, x!, y!, 512)).toThrow(RangeError);
    }
  });

  it('gives neighbours the very same shared edge, in degrees and in metres', () => {
    const left = describeTileGrid(7, 40, 50, 512);
    const right = describeTileGrid(7, 41, 50, 512);
    const below = describeTileGrid(7, 40, 51, 512);

    expect(left.lonLat.maxX).toBe(right.lonLat.minX);
    expect(left.mercator.maxX).toBe(right.mercator.minX);
    expect(left.lonLat.minY).toBe(below.lonLat.maxY);
    expect(left.mercator.minY).toBe(below.mercator.maxY);
  });

  it('buffers by a sixteenth of a tile, clamped to the Web Mercator world', () => {
    const world = describeTileGrid(0, 0, 0, 1024);
    const inner = describeTileGrid(2, 1, 1, 1024);

    expect(world.bufferedLonLat).toEqual({
      minX: -180,
      maxX: 180,
      minY: world.lonLat.minY,
      maxY: world.lonLat.maxY,
    });
    expect(world.bufferedMercator.maxX).toBe(MERCATOR_HALF_WORLD);
    expect(inner.bufferedMercator.minX).toBeCloseTo(
      inner.mercator.minX - (2 * MERCATOR_HALF_WORLD) / 64,
      6,
    );
    expect([world.isLastColumn, inner.isLastColumn]).toEqual([true, false]);
  });

  it('maps tile units back to the tile corners in degrees', () => {
    const grid = describeTileGrid(3, 4, 2, mvtExtentFor(0.5));
    const project = lonLatProjection(grid);

    expect(grid.extent).toBe(512);
    expect([project.lon(0), project.lat(0)]).toEqual([grid.lonLat.minX, grid.lonLat.maxY]);
    expect(project.lon(512)).toBeCloseTo(grid.lonLat.maxX, 12);
    expect(project.lat(512)).toBeCloseTo(grid.lonLat.minY, 12);
  });
});
