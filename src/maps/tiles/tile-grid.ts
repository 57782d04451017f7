/**
 * Web Mercator tile geometry: where a tile sits in EPSG:3857 and in WGS84, and how tile-space
 * integer coordinates (origin top-left, y down) map back to longitude and latitude.
 */

/** Half the width of the EPSG:3857 world square, in metres. */
export const MERCATOR_HALF_WORLD = 20037508.342789244;

/** Earth radius EPSG:3857 uses, in metres. */
export const MERCATOR_RADIUS = 6378137;

/** Deepest zoom at which tile-space coordinates on the finest grid stay exact doubles. */
export const MAX_TILE_ZOOM = 30;

/** Grid of the CARTO binary format; its coordinates leave as lon/lat doubles, so it is fine. */
export const BINARY_TILE_EXTENT = 65536;

/** Clip buffer around lines and polygons, as a share of the tile width. */
export const TILE_BUFFER_SHARE = 1 / 16;

export interface Box {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** One tile on a grid of `extent` units per side. */
export interface TileGrid {
  z: number;
  x: number;
  y: number;
  extent: number;
  /** Tile-space units per EPSG:3857 metre. */
  unitsPerMetre: number;
  /** The tile in EPSG:3857 metres, without buffer. */
  mercator: Box;
  /** The tile in degrees, without buffer (minY = south edge). */
  lonLat: Box;
  /** The tile with the clip buffer, in degrees, clamped to the Web Mercator world. */
  bufferedLonLat: Box;
  /** The tile with the clip buffer, in EPSG:3857 metres, clamped to the world square. */
  bufferedMercator: Box;
  /** Whether the tile is the last column (east edge 180°) or row (south edge). */
  isLastColumn: boolean;
  isLastRow: boolean;
}

/** MVT grid for a CARTO `tileResolution` (0.25 → 256 … 4 → 4096 units per tile side). */
export function mvtExtentFor(tileResolution: number): number {
  return Math.round(1024 * tileResolution);
}

/** Latitude, in degrees, of the row boundary at `v` world heights from the top (0..1). */
function latitudeAt(v: number): number {
  return (Math.atan(Math.sinh(Math.PI * (1 - 2 * v))) * 180) / Math.PI;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Rejects coordinates no caller should pass; the HTTP layer validates user input first. */
function assertTileCoordinates(z: number, x: number, y: number): void {
  const valid =
    Number.isInteger(z) &&
    z >= 0 &&
    z <= MAX_TILE_ZOOM &&
    Number.isInteger(x) &&
    Number.isInteger(y) &&
    x >= 0 &&
    y >= 0 &&
    x < 2 ** z &&
    y < 2 ** z;
  if (!valid) throw new RangeError(`Tile ${z}/${x}/${y} is outside the Web Mercator grid`);
}

/** Describes tile z/x/y on a grid of `extent` units, with the standard clip buffer. */
export function describeTileGrid(z: number, x: number, y: number, extent: number): TileGrid {
  assertTileCoordinates(z, x, y);
  const tiles = 2 ** z;
  const size = (2 * MERCATOR_HALF_WORLD) / tiles;
  const mercator: Box = {
    minX: -MERCATOR_HALF_WORLD + x * size,
    maxX: -MERCATOR_HALF_WORLD + (x + 1) * size,
    maxY: MERCATOR_HALF_WORLD - y * size,
    minY: MERCATOR_HALF_WORLD - (y + 1) * size,
  };
  // Neighbouring tiles compute a shared edge with the same expression, so half-open tests on
  // these values give every point on an edge to exactly one tile.
  const lonLat: Box = {
    minX: (x / tiles) * 360 - 180,
    maxX: ((x + 1) / tiles) * 360 - 180,
    maxY: latitudeAt(y / tiles),
    minY: latitudeAt((y + 1) / tiles),
  };
  const buffer = TILE_BUFFER_SHARE;
  const bufferedLonLat: Box = {
    minX: clamp(((x - buffer) / tiles) * 360 - 180, -180, 180),
    maxX: clamp(((x + 1 + buffer) / tiles) * 360 - 180, -180, 180),
    maxY: latitudeAt(clamp((y - buffer) / tiles, 0, 1)),
    minY: latitudeAt(clamp((y + 1 + buffer) / tiles, 0, 1)),
  };
  const bufferMetres = buffer * size;
  const bufferedMercator: Box = {
    minX: Math.max(-MERCATOR_HALF_WORLD, mercator.minX - bufferMetres),
    maxX: Math.min(MERCATOR_HALF_WORLD, mercator.maxX + bufferMetres),
    minY: Math.max(-MERCATOR_HALF_WORLD, mercator.minY - bufferMetres),
    maxY: Math.min(MERCATOR_HALF_WORLD, mercator.maxY + bufferMetres),
  };
  return {
    z,
    x,
    y,
    extent,
    unitsPerMetre: extent / size,
    mercator,
    lonLat,
    bufferedLonLat,
    bufferedMercator,
    isLastColumn: x === tiles - 1,
    isLastRow: y === tiles - 1,
  };
}

/** Tile-space to WGS84 for one tile; x and y are independent in Web Mercator. */
export interface LonLatProjection {
  lon(px: number): number;
  lat(py: number): number;
}

/** Converts tile-space coordinates of `grid` to longitude and latitude in degrees. */
export function lonLatProjection(grid: TileGrid): LonLatProjection {
  const tiles = 2 ** grid.z;
  return {
    lon: (px) => ((grid.x + px / grid.extent) / tiles) * 360 - 180,
    lat: (py) => latitudeAt((grid.y + py / grid.extent) / tiles),
  };
}
