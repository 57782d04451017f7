import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROPERTIES, tileFeatures } from '../../test-support/tile-feature-arbitraries.js';
import { decodeMvt, signedArea } from '../../test-support/tile-test-helpers.js';
import { encodeMvt } from './mvt-encoder.js';
import type { TileFeature, TilePoint } from './tile-features.js';

const sameRing = (decoded: [number, number][], ring: TilePoint[]) =>
  decoded.join(';') === ring.join(';') || decoded.join(';') === [...ring].reverse().join(';');

function expectedProperties(feature: TileFeature) {
  const entries = feature.values.flatMap((v, i) => (v === null ? [] : [[PROPERTIES[i]!.name, v]]));
  return Object.fromEntries(entries) as Record<string, unknown>;
}

const sizedTileFeatures = fc
  .constantFrom(256, 512, 4096)
  .chain((extent) => tileFeatures(extent).map((features) => ({ extent, features })));

describe('encodeMvt', () => {
  it('returns null for a tile without features', () => {
    expect(encodeMvt([], PROPERTIES, 512)).toBeNull();
  });

  it('writes one version 2 layer named default with the grid extent', () => {
    const feature: TileFeature = {
      rowIndex: 0,
      values: [1, 'a', true, null],
      geometry: { type: 'Point', points: [[10, 20]] },
    };
    const tile = decodeMvt(encodeMvt([feature], PROPERTIES, 2048)!, 0, 0, 0);

    expect(tile).toMatchObject({ layerNames: ['default'], version: 2, extent: 2048 });
    expect(tile.features[0]).toMatchObject({
      type: 'Point',
      parts: [[[10, 20]]],
      properties: { count: 1, label: 'a', open: true },
    });
  });

  it('keeps numbers that are not safe integers as doubles', () => {
    const numbers = [1e20, -1e30, 0.1, -7, 2 ** 53 - 1, Number.MAX_VALUE];
    const features: TileFeature[] = numbers.map((count, rowIndex) => ({
      rowIndex,
      values: [count, null, null, null],
      geometry: { type: 'Point', points: [[1, 1]] },
    }));
    const tile = decodeMvt(encodeMvt(features, PROPERTIES, 512)!, 0, 0, 0);

    expect(tile.features.map((f) => f.properties.count)).toEqual(numbers);
  });

  it('round-trips random features: vertices, winding and properties', () => {
    fc.assert(
      fc.property(sizedTileFeatures, ({ extent, features }) => {
        const tile = decodeMvt(encodeMvt(features, PROPERTIES, extent)!, 3, 2, 1);

        expect(tile.features).toHaveLength(features.length);
        features.forEach((feature, i) => {
          const decoded = tile.features[i]!;
          expect(decoded.type).toBe(feature.geometry.type);
          expect(decoded.properties).toEqual(expectedProperties(feature));
          const { geometry } = feature;
          if (geometry.type === 'Point') expect(decoded.parts.flat()).toEqual(geometry.points);
          else if (geometry.type === 'LineString') expect(decoded.parts).toEqual(geometry.lines);
          else {
            const rings = geometry.polygons.flatMap((polygon) =>
              polygon.map((ring, r) => ({ ring, isExterior: r === 0 })),
            );
            expect(decoded.parts).toHaveLength(rings.length);
            rings.forEach(({ ring, isExterior }, r) => {
              const part = decoded.parts[r]!;
              expect(sameRing(part, ring)).toBe(true);
              expect(signedArea(part) > 0).toBe(isExterior);
            });
          }
        });
      }),
      { numRuns: 150 },
    );
  });
});
