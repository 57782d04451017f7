/**
 * fast-check generators of clean tile-space features (what readTileFeatures hands the
 * encoders), for round-trip property tests of both tile formats.
 */
import fc from 'fast-check';
import type { TileFeature, TilePoint } from '../maps/tiles/tile-features.js';
import type { TileProperty, TilePropertyValue } from '../maps/tiles/tile-properties.js';

export const PROPERTIES: TileProperty[] = [
  { name: 'count', kind: 'number', cartoType: 'number' },
  { name: 'label', kind: 'string', cartoType: 'string' },
  { name: 'open', kind: 'boolean', cartoType: 'boolean' },
  { name: 'pop 2020', kind: 'number', cartoType: 'bigint' },
];

const coordinate = (extent: number) => fc.integer({ min: -extent / 16, max: extent + extent / 16 });

const point = (extent: number): fc.Arbitrary<TilePoint> =>
  fc.tuple(coordinate(extent), coordinate(extent));

/** A path without repeated consecutive vertices, as the reader leaves them. */
const path = (extent: number, minLength: number) =>
  fc
    .array(point(extent), { minLength, maxLength: 8 })
    .map((points) => points.filter((p, i) => i === 0 || p.join() !== points[i - 1]!.join()))
    .filter((points) => points.length >= minLength);

/** An axis-aligned rectangle ring, either winding, closed. */
const rectangle = (x: number, y: number, w: number, h: number, reverse: boolean): TilePoint[] => {
  const ring: TilePoint[] = [
    [x, y],
    [x + w, y],
    [x + w, y + h],
    [x, y + h],
    [x, y],
  ];
  return reverse ? ring.reverse() : ring;
};

/** A rectangle with, sometimes, a rectangular hole, each ring wound at random. */
const polygon = (extent: number) =>
  fc
    .record({
      x: coordinate(extent),
      y: coordinate(extent),
      w: fc.integer({ min: 4, max: extent / 2 }),
      h: fc.integer({ min: 4, max: extent / 2 }),
      hasHole: fc.boolean(),
      reverseOuter: fc.boolean(),
      reverseHole: fc.boolean(),
    })
    .map(({ x, y, w, h, hasHole, reverseOuter, reverseHole }) => {
      const rings = [rectangle(x, y, w, h, reverseOuter)];
      if (hasHole) rings.push(rectangle(x + 1, y + 1, w - 2, h - 2, reverseHole));
      return rings;
    });

const double = fc
  .double({ noNaN: true, noDefaultInfinity: true })
  .map((v) => (Object.is(v, -0) ? 0 : v));

const values: fc.Arbitrary<TilePropertyValue[]> = fc.tuple(
  fc.option(fc.oneof(double, fc.integer(), fc.maxSafeInteger(), fc.constantFrom(1e20, -1e30))),
  fc.option(fc.string({ unit: 'grapheme' })),
  fc.option(fc.boolean()),
  fc.option(fc.maxSafeInteger()),
);

export const tileFeatures = (extent: number): fc.Arbitrary<TileFeature[]> =>
  fc
    .array(
      fc.record({
        values,
        geometry: fc.oneof(
          fc.array(point(extent), { minLength: 1, maxLength: 4 }).map((points) => ({
            type: 'Point' as const,
            points,
          })),
          fc.array(path(extent, 2), { minLength: 1, maxLength: 3 }).map((lines) => ({
            type: 'LineString' as const,
            lines,
          })),
          fc.array(polygon(extent), { minLength: 1, maxLength: 3 }).map((polygons) => ({
            type: 'Polygon' as const,
            polygons,
          })),
        ),
      }),
      { minLength: 1, maxLength: 12 },
    )
    .map((features) => features.map((f, rowIndex) => ({ ...f, rowIndex })));
