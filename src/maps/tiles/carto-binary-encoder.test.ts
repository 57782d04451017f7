import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCartoBinaryTile,
  type DecodedKind,
} from '../../test-support/carto-binary-decoder.js';
import { PROPERTIES, tileFeatures } from '../../test-support/tile-feature-arbitraries.js';
import { encodeCartoBinary } from './carto-binary-encoder.js';
import type { TileFeature, TilePoint } from './tile-features.js';
import { BINARY_TILE_EXTENT, describeTileGrid, type TileGrid } from './tile-grid.js';

/** Textbook inverse Web Mercator, written apart from lonLatProjection. */
function expectedLonLat(grid: TileGrid, [px, py]: TilePoint): [number, number] {
  const n = 2 ** grid.z;
  const lon = ((grid.x + px / grid.extent) / n) * 360 - 180;
  const mercY = Math.PI * (1 - (2 * (grid.y + py / grid.extent)) / n);
  return [lon, (180 / Math.PI) * Math.atan(0.5 * (Math.exp(mercY) - Math.exp(-mercY)))];
}

function vertices(feature: TileFeature): TilePoint[] {
  const { geometry } = feature;
  if (geometry.type === 'Point') return geometry.points;
  if (geometry.type === 'LineString') return geometry.lines.flat();
  return geometry.polygons.flat(2);
}

const KIND_OF = { Point: 'points', LineString: 'lines', Polygon: 'polygons' } as const;

/** What one geometry kind of the tile must hold, rebuilt straight from the features. */
function expectKind(decoded: DecodedKind, features: TileFeature[], grid: TileGrid) {
  const all = features.flatMap(vertices);
  expect(decoded.positionSize).toBe(2);
  expect(decoded.positions).toHaveLength(all.length * 2);
  all.forEach((vertex, i) => {
    const [lon, lat] = expectedLonLat(grid, vertex);
    expect(decoded.positions[2 * i]).toBeCloseTo(lon, 9);
    expect(decoded.positions[2 * i + 1]).toBeCloseTo(lat, 9);
  });
  const perVertex = (f: (feature: TileFeature, index: number) => number) =>
    features.flatMap((feature, index) => vertices(feature).map(() => f(feature, index)));
  expect(decoded.featureIds).toEqual(perVertex((_, index) => index));
  expect(decoded.globalFeatureIds).toEqual(perVertex((feature) => feature.rowIndex));
  for (const [i, property] of PROPERTIES.entries()) {
    if (property.kind === 'number') {
      const values = perVertex((feature) => (feature.values[i] as number | null) ?? NaN);
      expect(Array.from(decoded.numericProps[property.name]!)).toEqual(values);
    }
  }
  expect(decoded.properties).toEqual(
    features.map((feature) => {
      const strings: Record<string, string> = {};
      if (feature.values[1] !== null) strings.label = String(feature.values[1]);
      if (feature.values[2] !== null) strings.open = String(feature.values[2]);
      return strings;
    }),
  );
}

/** Start offsets of each part, closed by the vertex count, as loaders.gl lays them out. */
function offsets(sizes: number[]): number[] {
  const result = [0];
  for (const size of sizes) result.push(result[result.length - 1]! + size);
  return result;
}

describe('encodeCartoBinary', () => {
  const grid = describeTileGrid(5, 16, 10, BINARY_TILE_EXTENT);

  it('returns null for a tile without features', () => {
    expect(encodeCartoBinary([], PROPERTIES, grid)).toBeNull();
  });

  it('writes all three geometry kinds with positions and ids even when one is used', () => {
    const feature: TileFeature = {
      rowIndex: 0,
      values: [null, '\u{20000} 𠀀', false, 3],
      geometry: { type: 'Point', points: [[0, 0]] },
    };
    const tile = decodeCartoBinaryTile(encodeCartoBinary([feature], PROPERTIES, grid)!);

    expect(tile.lines.positions).toHaveLength(0);
    expect(tile.lines.indices.pathIndices).toEqual([0]);
    expect(tile.polygons.indices).toEqual({ polygonIndices: [0], primitivePolygonIndices: [0] });
    expect(tile.points.properties).toEqual([{ label: '\u{20000} 𠀀', open: 'false' }]);
    expect(Array.from(tile.points.numericProps.count!)).toEqual([NaN]);
    const [lon, lat] = expectedLonLat(grid, [0, 0]);
    expect(tile.points.positions[0]).toBeCloseTo(lon, 9);
    expect(tile.points.positions[1]).toBeCloseTo(lat, 9);
  });

  it('round-trips random features: lon/lat, ids, indices and properties', () => {
    const sampleGrid = fc.constantFrom(
      describeTileGrid(0, 0, 0, BINARY_TILE_EXTENT),
      grid,
      describeTileGrid(18, 140000, 90000, BINARY_TILE_EXTENT),
    );
    fc.assert(
      fc.property(sampleGrid, tileFeatures(BINARY_TILE_EXTENT), (tileGrid, features) => {
        const tile = decodeCartoBinaryTile(encodeCartoBinary(features, PROPERTIES, tileGrid)!);

        for (const type of ['Point', 'LineString', 'Polygon'] as const) {
          const ofKind = features.filter((f) => f.geometry.type === type);
          expectKind(tile[KIND_OF[type]], ofKind, tileGrid);
        }
        const lines = features.flatMap((f) =>
          f.geometry.type === 'LineString' ? f.geometry.lines : [],
        );
        const polygons = features.flatMap((f) =>
          f.geometry.type === 'Polygon' ? f.geometry.polygons : [],
        );
        expect(tile.lines.indices.pathIndices).toEqual(offsets(lines.map((l) => l.length)));
        expect(tile.polygons.indices.polygonIndices).toEqual(
          offsets(polygons.map((p) => p.flat().length)),
        );
        expect(tile.polygons.indices.primitivePolygonIndices).toEqual(
          offsets(polygons.flat().map((ring) => ring.length)),
        );
      }),
      { numRuns: 150 },
    );
  });
});
