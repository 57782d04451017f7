/**
 * Helpers for vector tile tests: decode MVT with @mapbox/vector-tile, and place WGS84
 * coordinates on a tile with the textbook slippy-map formulas (independent of the code
 * under test).
 */
import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';

export interface DecodedMvtFeature {
  type: 'Point' | 'LineString' | 'Polygon';
  properties: Record<string, string | number | boolean>;
  /** Parts in tile units as the tile carries them (rings closed by the decoder). */
  parts: [number, number][][];
  /** The same geometry as GeoJSON in WGS84. */
  geojson: { type: string; coordinates: unknown };
}

export interface DecodedMvt {
  layerNames: string[];
  version: number;
  extent: number;
  features: DecodedMvtFeature[];
}

const TYPES = ['Unknown', 'Point', 'LineString', 'Polygon'] as const;

/** Decodes an MVT and loads every feature's geometry (which throws on malformed commands). */
export function decodeMvt(bytes: Uint8Array, z: number, x: number, y: number): DecodedMvt {
  const tile = new VectorTile(new Pbf(bytes));
  const layerNames = Object.keys(tile.layers);
  const layer = tile.layers[layerNames[0] ?? ''];
  if (!layer) return { layerNames, version: 0, extent: 0, features: [] };
  const features: DecodedMvtFeature[] = [];
  for (let i = 0; i < layer.length; i++) {
    const feature = layer.feature(i);
    const type = TYPES[feature.type];
    if (type === 'Unknown') throw new Error('feature of unknown type');
    features.push({
      type,
      properties: feature.properties,
      parts: feature.loadGeometry().map((part) => part.map((p): [number, number] => [p.x, p.y])),
      geojson: feature.toGeoJSON(x, y, z).geometry,
    });
  }
  return { layerNames, version: layer.version, extent: layer.extent, features };
}

/** Fractional tile-space coordinates of lon/lat on tile z/x/y with `extent` units per side. */
export function lonLatToTileUnits(
  lon: number,
  lat: number,
  tile: { z: number; x: number; y: number },
  extent: number,
): [number, number] {
  const n = 2 ** tile.z;
  const rad = (lat * Math.PI) / 180;
  const worldX = ((lon + 180) / 360) * n;
  const worldY = ((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n;
  return [(worldX - tile.x) * extent, (worldY - tile.y) * extent];
}

/** The tile at zoom z containing lon/lat. */
export function tileAt(lon: number, lat: number, z: number): { z: number; x: number; y: number } {
  const [x, y] = lonLatToTileUnits(lon, lat, { z, x: 0, y: 0 }, 1);
  return { z, x: Math.floor(x), y: Math.floor(y) };
}

/** Twice the signed area (shoelace); positive means clockwise in y-down tile units. */
export function signedArea(ring: readonly [number, number][]): number {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    sum += ring[i]![0] * ring[i + 1]![1] - ring[i + 1]![0] * ring[i]![1];
  }
  return sum;
}

/** Even-odd point-in-polygon over all rings (holes subtract). */
export function isInsideRings(point: [number, number], rings: [number, number][][]): boolean {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i]!;
      const [xj, yj] = ring[j]!;
      const crosses = yi > point[1] !== yj > point[1];
      if (crosses && point[0] < ((xj - xi) * (point[1] - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}
