/**
 * Tile geometry for warehouses that return one row per feature (the row path): WKB in, tile-space
 * shapes out, with the rules of the PostGIS JSON path so both give a client the same tile. Lone
 * points are placed here with the JSON path's exact formulas; everything else is clipped,
 * simplified and projected by geojson-vt for this one tile.
 */
import type { Geometry, Position } from 'geojson';
import GeoJSONVT, { type LegacyFeature } from 'geojson-vt';
import wkx from 'wkx';
import { ringArea, type TilePoint } from './tile-features.js';
import { MERCATOR_RADIUS, TILE_BUFFER_SHARE, type TileGrid } from './tile-grid.js';

/** geojson-vt indexes zooms 0 to 24 only. */
export const MAX_ROW_TILE_ZOOM = 24;

/**
 * A tile-space shape as the JSON path's reader takes it: GeoJSON whose coordinates are tile
 * units (x right, y down), a collection when a row yields more than one kind.
 */
export type TileShape =
  | { type: 'MultiPoint'; coordinates: TilePoint[] }
  | { type: 'MultiLineString'; coordinates: TilePoint[][] }
  | { type: 'MultiPolygon'; coordinates: TilePoint[][][] }
  | { type: 'GeometryCollection'; geometries: TileShape[] };

/** Where each row landed: a point's integer tile x/y, or a shape; null when nothing is left. */
export type ClippedRow = { x: number; y: number } | { shape: TileShape } | null;

/**
 * Reads WKB as drivers hand it over: bytes, PostgreSQL's `\x`-prefixed hex text, or bare hex
 * (Redshift's VARBYTE). Null for NULL and for bytes that are not WKB, so one unreadable value
 * leaves its row out instead of failing the tile.
 */
export function readWkbGeometry(value: unknown): Geometry | null {
  let bytes: Buffer;
  if (value instanceof Uint8Array) {
    bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  } else if (typeof value === 'string' && /^(\\x)?([0-9a-fA-F]{2})+$/.test(value)) {
    bytes = Buffer.from(value.startsWith('\\x') ? value.slice(2) : value, 'hex');
  } else {
    return null;
  }
  try {
    return wkx.Geometry.parse(bytes).toGeoJSON() as Geometry;
  } catch {
    return null;
  }
}

function isFinitePosition(position: Position): boolean {
  return Number.isFinite(position[0]) && Number.isFinite(position[1]);
}

/**
 * False when any vertex is NaN or infinite (EMPTY points come out of WKB as NaN): the JSON path
 * leaves such a row out whole, and geojson-vt's clipping has no answer for them.
 */
export function hasFiniteCoordinates(geometry: Geometry): boolean {
  switch (geometry.type) {
    case 'Point':
      return isFinitePosition(geometry.coordinates);
    case 'MultiPoint':
    case 'LineString':
      return geometry.coordinates.every(isFinitePosition);
    case 'MultiLineString':
    case 'Polygon':
      return geometry.coordinates.every((part) => part.every(isFinitePosition));
    case 'MultiPolygon':
      return geometry.coordinates.every((p) => p.every((ring) => ring.every(isFinitePosition)));
    case 'GeometryCollection':
      return geometry.geometries.every(hasFiniteCoordinates);
  }
}

/**
 * Lone points follow the JSON path to the unit: a half-open test on longitude and latitude (west
 * and north edges in, east and south out, the world's last column and row closed) so a point on
 * a shared edge belongs to exactly one tile, then the spherical Mercator formulas, rounded.
 */
export function placePoint(lon: number, lat: number, grid: TileGrid): TilePoint | null {
  const { minX: west, maxX: east, minY: south, maxY: north } = grid.lonLat;
  const isInside =
    lon >= west &&
    (grid.isLastColumn ? lon <= east : lon < east) &&
    lat <= north &&
    (grid.isLastRow ? lat >= south : lat > south);
  if (!isInside) return null;
  const k = grid.unitsPerMetre;
  const x = ((lon * Math.PI) / 180) * MERCATOR_RADIUS * k - grid.mercator.minX * k;
  const y =
    grid.mercator.maxY * k -
    k * MERCATOR_RADIUS * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
  return [Math.round(x), Math.round(y)];
}

const pairs = (ring: [number, number][]): TilePoint[] => ring.map(([x, y]) => [x, y]);

/**
 * geojson-vt hands polygons back as one list of rings, exteriors wound one way and holes the
 * other (positive and negative area in y-down tile space), so a positive ring starts a polygon
 * and the negative ones after it are its holes. Rings that lost all area are dropped.
 */
function groupRings(rings: [number, number][][]): TilePoint[][][] {
  const polygons: TilePoint[][][] = [];
  for (const ring of rings) {
    const area = ringArea(ring);
    if (area > 0) polygons.push([pairs(ring)]);
    else if (area < 0) polygons[polygons.length - 1]?.push(pairs(ring));
  }
  return polygons;
}

/** The parts geojson-vt produced for one row, as one tile-space shape. */
function shapeOf(parts: LegacyFeature[]): TileShape | null {
  const shapes: TileShape[] = [];
  for (const part of parts) {
    if (part.type === 1) shapes.push({ type: 'MultiPoint', coordinates: pairs(part.geometry) });
    else if (part.type === 2) {
      shapes.push({ type: 'MultiLineString', coordinates: part.geometry.map(pairs) });
    } else {
      const polygons = groupRings(part.geometry);
      if (polygons.length > 0) shapes.push({ type: 'MultiPolygon', coordinates: polygons });
    }
  }
  if (shapes.length === 0) return null;
  return shapes.length === 1 ? shapes[0]! : { type: 'GeometryCollection', geometries: shapes };
}

/**
 * Clips every non-point row to the tile with geojson-vt: one index, not indexed beyond z0, so
 * it drills down to this tile alone. Its buffer and tolerance match the JSON path: a sixteenth
 * of the tile, and half a unit of the MVT grid whatever grid this tile uses.
 */
function clipShapes(
  geometries: Map<number, Geometry>,
  grid: TileGrid,
  mvtExtent: number,
): Map<number, TileShape> {
  const shapes = new Map<number, TileShape>();
  if (geometries.size === 0) return shapes;
  const features = [...geometries].map(([row, geometry]) => ({
    type: 'Feature' as const,
    id: row,
    geometry,
    properties: null,
  }));
  const index = new GeoJSONVT(
    { type: 'FeatureCollection', features },
    {
      maxZoom: MAX_ROW_TILE_ZOOM,
      indexMaxZoom: 0,
      extent: grid.extent,
      buffer: Math.round(grid.extent * TILE_BUFFER_SHARE),
      tolerance: (0.5 * grid.extent) / mvtExtent,
    },
  );
  const partsByRow = new Map<number, LegacyFeature[]>();
  for (const part of index.getTile(grid.z, grid.x, grid.y)?.features ?? []) {
    const row = Number(part.id);
    const parts = partsByRow.get(row);
    if (parts) parts.push(part);
    else partsByRow.set(row, [part]);
  }
  for (const [row, parts] of partsByRow) {
    const shape = shapeOf(parts);
    if (shape) shapes.set(row, shape);
  }
  return shapes;
}

/**
 * Places each row's geometry (WGS84, as WKB) on tile `grid`, in row order. `mvtExtent` is the MVT
 * grid of the request's resolution, which sets the simplification tolerance.
 */
export function clipRowsToTile(
  wkbValues: readonly unknown[],
  grid: TileGrid,
  mvtExtent: number,
): ClippedRow[] {
  if (grid.z > MAX_ROW_TILE_ZOOM) {
    throw new RangeError(`Row tiles go to z${MAX_ROW_TILE_ZOOM}; z${grid.z} was asked for`);
  }
  const placed: ClippedRow[] = [];
  const others = new Map<number, Geometry>();
  wkbValues.forEach((wkb, row) => {
    placed.push(null);
    const geometry = readWkbGeometry(wkb);
    if (!geometry || !hasFiniteCoordinates(geometry)) return;
    if (geometry.type !== 'Point') return void others.set(row, geometry);
    const point = placePoint(geometry.coordinates[0]!, geometry.coordinates[1]!, grid);
    if (point) placed[row] = { x: point[0], y: point[1] };
  });
  for (const [row, shape] of clipShapes(others, grid, mvtExtent)) placed[row] = { shape };
  return placed;
}
