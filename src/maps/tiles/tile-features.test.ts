import { describe, expect, it } from 'vitest';
import { readTileFeatures } from './tile-features.js';

/** Builds the query's by-column result from rows of [geometry, ...values]. */
function columns(rows: [unknown, ...unknown[]][], propertyCount: number): unknown[] {
  const pick = (f: (row: [unknown, ...unknown[]]) => unknown) => rows.map(f);
  return [
    pick(([g]) => (Array.isArray(g) ? g[0] : null)),
    pick(([g]) => (Array.isArray(g) ? g[1] : null)),
    pick(([g]) => (Array.isArray(g) ? null : g)),
    ...Array.from({ length: propertyCount }, (_, i) => pick((row) => row[i + 1] ?? null)),
  ];
}

describe('readTileFeatures', () => {
  it('reads an empty tile (all-null columns or null) as no features', () => {
    expect(readTileFeatures(null, 512, 1, 10)).toEqual({ features: [], truncated: false });
    expect(readTileFeatures([null, null, null, null], 512, 1, 10).features).toEqual([]);
  });

  it('splits a geometry collection into point, line and polygon features of one row', () => {
    const collection = {
      type: 'GeometryCollection',
      geometries: [
        { type: 'Point', coordinates: [5, 5] },
        {
          type: 'LineString',
          coordinates: [
            [0, 0],
            [10, 10],
          ],
        },
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [8, 0],
              [8, 8],
              [0, 8],
              [0, 0],
            ],
          ],
        },
      ],
    };
    const { features } = readTileFeatures(columns([[collection, 4, 'gc']], 2), 512, 2, 10);

    expect(features.map((f) => f.geometry.type)).toEqual(['Point', 'LineString', 'Polygon']);
    expect(features.every((f) => f.rowIndex === 0)).toBe(true);
    expect(features.every((f) => f.values.join() === '4,gc')).toBe(true);
  });

  it('drops collapsed lines, zero-area rings and polygons whose exterior collapsed', () => {
    const rows: [unknown, ...unknown[]][] = [
      [
        {
          type: 'LineString',
          coordinates: [
            [3, 3],
            [3, 3],
          ],
        },
      ],
      [
        {
          type: 'Polygon',
          coordinates: [
            [
              [5, 5],
              [6, 6],
              [6, 6],
              [5, 5],
            ],
          ],
        },
      ],
      [
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 1],
              [2, 2],
              [0, 0],
            ],
            [
              [1, 1],
              [2, 1],
              [2, 2],
              [1, 1],
            ],
          ],
        },
      ],
      [{ type: 'Point', coordinates: [Number.NaN, 1] }],
      [{ type: 'Polygon', coordinates: [] }],
    ];
    expect(readTileFeatures(columns(rows, 0), 512, 0, 10).features).toEqual([]);
  });

  it('keeps holes and closes open rings', () => {
    const holed = {
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [20, 0],
          [20, 20],
          [0, 20],
        ],
        [
          [5, 5],
          [5, 15],
          [15, 15],
          [15, 5],
          [5, 5],
        ],
        [
          [7, 7],
          [7, 7],
          [7, 7],
          [7, 7],
        ],
      ],
    };
    const [feature] = readTileFeatures(columns([[holed]], 0), 512, 0, 10).features;

    expect(feature?.geometry).toEqual({
      type: 'Polygon',
      polygons: [
        [
          [
            [0, 0],
            [20, 0],
            [20, 20],
            [0, 20],
            [0, 0],
          ],
          [
            [5, 5],
            [5, 15],
            [15, 15],
            [15, 5],
            [5, 5],
          ],
        ],
      ],
    });
  });

  it('keeps only the points of a collection inside the tile, west and north edges included', () => {
    const multi = {
      type: 'MultiPoint',
      coordinates: [
        [-1, 5],
        [0, 0],
        [511, 511],
        [512, 5],
      ],
    };
    const [feature] = readTileFeatures(columns([[multi]], 0), 512, 0, 10).features;

    expect(feature?.geometry).toEqual({
      type: 'Point',
      points: [
        [0, 0],
        [511, 511],
      ],
    });
  });

  it('keeps maxFeatures rows and reports the extra row as truncation', () => {
    const rows: [unknown, ...unknown[]][] = [
      [[1, 1], 'a'],
      [[2, 2], 'b'],
      [[3, 3], 'c'],
    ];
    const capped = readTileFeatures(columns(rows, 1), 512, 1, 2);
    const whole = readTileFeatures(columns(rows, 1), 512, 1, 3);

    expect(capped.truncated).toBe(true);
    expect(capped.features.map((f) => f.values[0])).toEqual(['a', 'b']);
    expect(whole.truncated).toBe(false);
    expect(whole.features).toHaveLength(3);
  });

  it('turns values tiles cannot carry into null', () => {
    const rows: [unknown, ...unknown[]][] = [[[1, 1], { a: 1 }, [1], true, 2.5, 'x']];
    const [feature] = readTileFeatures(columns(rows, 5), 512, 5, 10).features;

    expect(feature?.values).toEqual([null, null, true, 2.5, 'x']);
  });
});
