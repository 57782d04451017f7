/**
 * Turns the tile query's json value into clean tile-space features both encoders share:
 * collections split by geometry kind, degenerate parts dropped, nothing non-finite.
 */
import type { TilePropertyValue } from './tile-properties.js';

/** A vertex in tile units: x right, y down, origin at the tile's top-left corner. */
export type TilePoint = [number, number];

export type TileGeometry =
  | { type: 'Point'; points: TilePoint[] }
  | { type: 'LineString'; lines: TilePoint[][] }
  /** Each polygon is its rings, exterior first; every ring is closed (last = first). */
  | { type: 'Polygon'; polygons: TilePoint[][][] };

export interface TileFeature {
  /** Index of the source row within the tile; members of a split collection share it. */
  rowIndex: number;
  geometry: TileGeometry;
  /** One value per tile property, in the order of the query's property list. */
  values: TilePropertyValue[];
}

export interface TileFeatureSet {
  features: TileFeature[];
  /** True when the source had more features than the cap; the extra row is discarded. */
  truncated: boolean;
}

interface Parts {
  points: TilePoint[];
  lines: TilePoint[][];
  polygons: TilePoint[][][];
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function readPoint(value: unknown): TilePoint | null {
  if (!Array.isArray(value) || !isFiniteNumber(value[0]) || !isFiniteNumber(value[1])) return null;
  return [value[0], value[1]];
}

/** Vertices with consecutive duplicates removed; snapping to the grid creates many. */
function readPath(value: unknown): TilePoint[] {
  const path: TilePoint[] = [];
  if (!Array.isArray(value)) return path;
  for (const item of value) {
    const point = readPoint(item);
    const last = path[path.length - 1];
    if (point && (!last || last[0] !== point[0] || last[1] !== point[1])) path.push(point);
  }
  return path;
}

/** Twice the signed area by the shoelace formula; positive is clockwise with y down. */
export function ringArea(ring: readonly TilePoint[]): number {
  let sum = 0;
  for (let i = 1; i < ring.length; i++) {
    const [x0, y0] = ring[i - 1]!;
    const [x1, y1] = ring[i]!;
    sum += x0 * y1 - x1 * y0;
  }
  return sum;
}

function readRing(value: unknown): TilePoint[] | null {
  const ring = readPath(value);
  const first = ring[0];
  const last = ring[ring.length - 1];
  if (first && last && (first[0] !== last[0] || first[1] !== last[1])) {
    ring.push([first[0], first[1]]);
  }
  return ring.length >= 4 && ringArea(ring) !== 0 ? ring : null;
}

/** A polygon whose exterior collapsed is dropped with its holes; collapsed holes alone go. */
function readPolygon(value: unknown): TilePoint[][] | null {
  if (!Array.isArray(value)) return null;
  const rings: TilePoint[][] = [];
  for (let i = 0; i < value.length; i++) {
    const ring = readRing(value[i]);
    if (ring) rings.push(ring);
    else if (i === 0) return null;
  }
  return rings.length > 0 ? rings : null;
}

function isInsideTile(point: TilePoint, extent: number): boolean {
  return point[0] >= 0 && point[0] < extent && point[1] >= 0 && point[1] < extent;
}

function collectGeoJson(geometry: unknown, extent: number, parts: Parts): void {
  if (typeof geometry !== 'object' || geometry === null) return;
  const { type, coordinates, geometries } = geometry as Record<string, unknown>;
  const list = Array.isArray(coordinates) ? coordinates : [];
  // Points of multipoints and collections come through the buffered clip; keep only those in
  // the tile itself (half-open) so neighbouring tiles do not both carry them.
  const addPoint = (value: unknown) => {
    const point = readPoint(value);
    if (point && isInsideTile(point, extent)) parts.points.push(point);
  };
  const addLine = (value: unknown) => {
    const line = readPath(value);
    if (line.length >= 2) parts.lines.push(line);
  };
  const addPolygon = (value: unknown) => {
    const polygon = readPolygon(value);
    if (polygon) parts.polygons.push(polygon);
  };
  switch (type) {
    case 'Point':
      return addPoint(coordinates);
    case 'MultiPoint':
      return list.forEach(addPoint);
    case 'LineString':
      return addLine(coordinates);
    case 'MultiLineString':
      return list.forEach(addLine);
    case 'Polygon':
      return addPolygon(coordinates);
    case 'MultiPolygon':
      return list.forEach(addPolygon);
    case 'GeometryCollection':
      if (Array.isArray(geometries)) geometries.forEach((g) => collectGeoJson(g, extent, parts));
      return;
  }
}

function readValue(value: unknown): TilePropertyValue {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  return null;
}

function column(json: unknown, index: number): unknown[] {
  const value = Array.isArray(json) ? json[index] : undefined;
  return Array.isArray(value) ? value : [];
}

/**
 * Reads the tile query's result: by column, `[xs, ys, shapes, values0, values1, ...]`, one
 * entry per row (a point has x and y, anything else a GeoJSON shape), or null.
 * At most `maxFeatures` rows are kept; a row more means the source was cut.
 */
export function readTileFeatures(
  json: unknown,
  extent: number,
  propertyCount: number,
  maxFeatures: number,
): TileFeatureSet {
  const xs = column(json, 0);
  const ys = column(json, 1);
  const shapes = column(json, 2);
  const valueColumns = Array.from({ length: propertyCount }, (_, i) => column(json, 3 + i));
  const rowCount = Math.max(xs.length, shapes.length);
  const truncated = rowCount > maxFeatures;
  const features: TileFeature[] = [];

  for (let rowIndex = 0; rowIndex < Math.min(rowCount, maxFeatures); rowIndex++) {
    const values = valueColumns.map((values) => readValue(values[rowIndex]));
    const [x, y] = [xs[rowIndex], ys[rowIndex]];
    // Points dominate large tiles: skip the parts bookkeeping for them.
    if (isFiniteNumber(x) && isFiniteNumber(y)) {
      features.push({ rowIndex, values, geometry: { type: 'Point', points: [[x, y]] } });
      continue;
    }
    const parts: Parts = { points: [], lines: [], polygons: [] };
    collectGeoJson(shapes[rowIndex], extent, parts);
    if (parts.points.length > 0) {
      features.push({ rowIndex, values, geometry: { type: 'Point', points: parts.points } });
    }
    if (parts.lines.length > 0) {
      features.push({ rowIndex, values, geometry: { type: 'LineString', lines: parts.lines } });
    }
    if (parts.polygons.length > 0) {
      const geometry: TileGeometry = { type: 'Polygon', polygons: parts.polygons };
      features.push({ rowIndex, values, geometry });
    }
  }
  return { features, truncated };
}
