import { describe, expect, it } from 'vitest';
import {
  childrenWithin,
  deepestZoomWithin,
  descendantCountWithin,
  estimateTileCount,
  tileRangeOf,
  tileRangesOf,
  tilesOf,
  type Bounds,
} from './tile-ranges.js';

const WORLD: Bounds = [-180, -85.0511, 180, 85.0511];
/** Around Madrid, well inside tile 8/125/96. */
const MADRID: Bounds = [-3.8, 40.3, -3.6, 40.5];

describe('tile ranges', () => {
  it('covers the whole grid for world bounds', () => {
    expect(tileRangeOf(WORLD, 0)).toEqual({ z: 0, minX: 0, maxX: 0, minY: 0, maxY: 0 });
    expect(tileRangeOf(WORLD, 3)).toEqual({ z: 3, minX: 0, maxX: 7, minY: 0, maxY: 7 });
    expect(estimateTileCount(WORLD, 0, 3)).toBe(1 + 4 + 16 + 64);
  });

  it('keeps small bounds to the tiles around them', () => {
    expect(tileRangeOf(MADRID, 8)).toEqual({ z: 8, minX: 125, maxX: 125, minY: 96, maxY: 96 });
    // A point on a tile edge also reaches the neighbour's clip buffer.
    const edge: Bounds = [0, 0, 0, 0];
    expect(tileRangeOf(edge, 1)).toEqual({ z: 1, minX: 0, maxX: 1, minY: 0, maxY: 1 });
  });

  it('picks the deepest zoom whose tiles stay within the limit', () => {
    expect(deepestZoomWithin(WORLD, 0, 14, 85)).toBe(3);
    expect(deepestZoomWithin(WORLD, 0, 14, 84)).toBe(2);
    expect(deepestZoomWithin(MADRID, 0, 14, 100_000)).toBe(14);
  });

  it('counts the descendants of a tile that lie in the deeper ranges', () => {
    const ranges = tileRangesOf(WORLD, 0, 3);
    expect(descendantCountWithin({ z: 1, x: 0, y: 1 }, ranges)).toBe(4 + 16);
    const total = tilesOf(ranges[0]!).length + descendantCountWithin({ z: 0, x: 0, y: 0 }, ranges);
    expect(total).toBe(estimateTileCount(WORLD, 0, 3));
    const madrid = tileRangesOf(MADRID, 7, 9);
    expect(childrenWithin({ z: 7, x: 62, y: 48 }, madrid[1]!)).toEqual([{ z: 8, x: 125, y: 96 }]);
  });
});
