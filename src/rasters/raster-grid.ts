/**
 * The quadbin grid raster blocks sit on: Web Mercator tiles, a block of `blockSize` ×
 * `blockSize` pixels at block resolution z having its pixels at resolution z + log2(blockSize).
 * Pixels run row by row from the block's north-west corner, as in CARTO's raster tiles.
 */
import { tileToCell } from 'quadbin';

/** Half the Web Mercator world's width in metres (EPSG:3857). */
export const MERCATOR_HALF_WORLD = 20037508.342789244;
const MAX_LATITUDE = 85.0511287798066;

export type Bounds = [west: number, south: number, east: number, north: number];

export interface BlockAddress {
  z: number;
  x: number;
  y: number;
}

/** The block's quadbin cell (the `block` column's value). */
export function blockCell(block: BlockAddress): bigint {
  return tileToCell(block);
}

/** Longitude and latitude as fractions of the world, 0 at the west and north edges. */
function worldFraction(lon: number, lat: number): [number, number] {
  const clamped = Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, lat));
  const sin = Math.sin((clamped * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)];
}

/** The column and row ranges of the blocks of resolution `z` that `bounds` touches. */
function blockRanges(bounds: Bounds, z: number) {
  const n = 2 ** z;
  const [west, north] = worldFraction(bounds[0], bounds[3]);
  const [east, south] = worldFraction(bounds[2], bounds[1]);
  const index = (fraction: number) => Math.min(n - 1, Math.max(0, Math.floor(fraction * n)));
  return { x0: index(west), x1: index(east), y0: index(north), y1: index(south) };
}

/** How many blocks of resolution `z` `bounds` touches, counted without listing them. */
export function blockCountCovering(bounds: Bounds, z: number): number {
  const { x0, x1, y0, y1 } = blockRanges(bounds, z);
  return (x1 - x0 + 1) * (y1 - y0 + 1);
}

/** The blocks of resolution `z` that `bounds` (WGS84) touches, west to east, north to south. */
export function blocksCovering(bounds: Bounds, z: number): BlockAddress[] {
  const { x0, x1, y0, y1 } = blockRanges(bounds, z);
  const blocks: BlockAddress[] = [];
  for (let y = y0; y <= y1; y += 1) {
    for (let x = x0; x <= x1; x += 1) blocks.push({ z, x, y });
  }
  return blocks;
}

/** The size of a pixel, in EPSG:3857 metres, of blocks at resolution `z`. */
export function pixelSizeMeters(z: number, blockSize: number): number {
  return (2 * MERCATOR_HALF_WORLD) / (2 ** z * blockSize);
}

/** The EPSG:3857 coordinates of the centre of pixel (`column`, `row`) of a block. */
export function pixelCenterMeters(
  block: BlockAddress,
  blockSize: number,
  column: number,
  row: number,
): [number, number] {
  const size = pixelSizeMeters(block.z, blockSize);
  const west = -MERCATOR_HALF_WORLD + block.x * blockSize * size;
  const north = MERCATOR_HALF_WORLD - block.y * blockSize * size;
  return [west + (column + 0.5) * size, north - (row + 0.5) * size];
}

/** EPSG:3857 metres as longitude and latitude. */
export function metersToLonLat(x: number, y: number): [number, number] {
  const lon = (x / MERCATOR_HALF_WORLD) * 180;
  const lat = (Math.atan(Math.exp((y / MERCATOR_HALF_WORLD) * Math.PI)) * 360) / Math.PI - 90;
  return [lon, lat];
}

/** Pixels across and down `bounds` at the pixels of blocks at resolution `z`. */
export function pixelExtent(bounds: Bounds, z: number, blockSize: number): [number, number] {
  const pixels = 2 ** z * blockSize;
  const [west, north] = worldFraction(bounds[0], bounds[3]);
  const [east, south] = worldFraction(bounds[2], bounds[1]);
  return [Math.ceil((east - west) * pixels), Math.ceil((south - north) * pixels)];
}
