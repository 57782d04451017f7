/**
 * Which tiles of each zoom a tileset may hold: the tiles that touch the source's bounds,
 * widened by the clip buffer tiles are built with, so a feature drawn only in a neighbour's
 * buffer still has its tile.
 */
import { TILE_BUFFER_SHARE } from '../maps/tiles/tile-grid.js';

/** [west, south, east, north] in WGS84 degrees. */
export type Bounds = [number, number, number, number];

/** The tiles of one zoom inside a rectangle of columns and rows, both ends included. */
export interface TileRange {
  z: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

export interface TileAddress {
  z: number;
  x: number;
  y: number;
}

/** Latitude limit of the Web Mercator square. */
const MAX_MERCATOR_LATITUDE = 85.0511287798066;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Position of a longitude across the world, 0 (west edge) to 1 (east edge). */
function columnShare(lon: number): number {
  return (clamp(lon, -180, 180) + 180) / 360;
}

/** Position of a latitude down the Mercator square, 0 (north edge) to 1 (south edge). */
function rowShare(lat: number): number {
  const radians = (clamp(lat, -MAX_MERCATOR_LATITUDE, MAX_MERCATOR_LATITUDE) * Math.PI) / 180;
  return (1 - Math.log(Math.tan(Math.PI / 4 + radians / 2)) / Math.PI) / 2;
}

/** The tiles of zoom `z` that features inside `bounds` can reach. */
export function tileRangeOf(bounds: Bounds, z: number): TileRange {
  const [west, south, east, north] = bounds;
  const size = 2 ** z;
  const cell = (share: number, buffer: number) =>
    clamp(Math.floor(share * size + buffer), 0, size - 1);
  return {
    z,
    minX: cell(columnShare(west), -TILE_BUFFER_SHARE),
    maxX: cell(columnShare(east), TILE_BUFFER_SHARE),
    minY: cell(rowShare(north), -TILE_BUFFER_SHARE),
    maxY: cell(rowShare(south), TILE_BUFFER_SHARE),
  };
}

export function tileCountOf(range: TileRange): number {
  return (range.maxX - range.minX + 1) * (range.maxY - range.minY + 1);
}

/** The tile ranges of every zoom from `minZoom` to `maxZoom`. */
export function tileRangesOf(bounds: Bounds, minZoom: number, maxZoom: number): TileRange[] {
  const ranges: TileRange[] = [];
  for (let z = minZoom; z <= maxZoom; z += 1) ranges.push(tileRangeOf(bounds, z));
  return ranges;
}

/** How many tiles a tileset of `bounds` from `minZoom` to `maxZoom` may hold at most. */
export function estimateTileCount(bounds: Bounds, minZoom: number, maxZoom: number): number {
  return tileRangesOf(bounds, minZoom, maxZoom).reduce((sum, r) => sum + tileCountOf(r), 0);
}

/**
 * The deepest zoom, from `minZoom` up to `capZoom`, whose tileset stays within `maxTiles`;
 * `minZoom` when even that zoom alone is over.
 */
export function deepestZoomWithin(
  bounds: Bounds,
  minZoom: number,
  capZoom: number,
  maxTiles: number,
): number {
  let total = 0;
  for (let z = minZoom; z <= capZoom; z += 1) {
    total += tileCountOf(tileRangeOf(bounds, z));
    if (total > maxTiles) return Math.max(minZoom, z - 1);
  }
  return capZoom;
}

/** Every tile of a range, row by row. */
export function tilesOf(range: TileRange): TileAddress[] {
  const tiles: TileAddress[] = [];
  for (let y = range.minY; y <= range.maxY; y += 1) {
    for (let x = range.minX; x <= range.maxX; x += 1) tiles.push({ z: range.z, x, y });
  }
  return tiles;
}

/** The four children of a tile that lie inside `range` (the next zoom's range). */
export function childrenWithin(tile: TileAddress, range: TileRange): TileAddress[] {
  const children: TileAddress[] = [];
  for (let dy = 0; dy <= 1; dy += 1) {
    for (let dx = 0; dx <= 1; dx += 1) {
      const x = tile.x * 2 + dx;
      const y = tile.y * 2 + dy;
      const isInside = x >= range.minX && x <= range.maxX && y >= range.minY && y <= range.maxY;
      if (isInside) children.push({ z: tile.z + 1, x, y });
    }
  }
  return children;
}

/** How many tiles of the deeper `ranges` lie under `tile` (its descendants, not itself). */
export function descendantCountWithin(tile: TileAddress, ranges: readonly TileRange[]): number {
  let count = 0;
  for (const range of ranges) {
    const depth = range.z - tile.z;
    if (depth <= 0) continue;
    const span = 2 ** depth;
    const width =
      Math.min(range.maxX, (tile.x + 1) * span - 1) - Math.max(range.minX, tile.x * span);
    const height =
      Math.min(range.maxY, (tile.y + 1) * span - 1) - Math.max(range.minY, tile.y * span);
    if (width >= 0 && height >= 0) count += (width + 1) * (height + 1);
  }
  return count;
}
