/**
 * Cell arithmetic for spatial-index sources. H3 and quadbin ids are 64-bit numbers whose
 * resolution and per-level digits sit at fixed bit positions, so a cell's ancestor and the id
 * range of its descendants at one resolution are plain bit operations: the warehouse needs no
 * H3 or quadbin functions of its own, and an index on the cell column serves each tile.
 */
import { cellToBoundary as h3CellToBoundary, getResolution as h3Resolution } from 'h3-js';
import { isValidCell as h3IsValidCell } from 'h3-js';
import {
  cellToBoundary as quadbinCellToBoundary,
  getResolution as quadbinResolution,
} from 'quadbin';
import { errors } from '../../http/errors.js';

/** How a source stores its cells: H3 as hex text or as integers, or quadbin integers. */
export type SpatialIndexType = 'h3' | 'h3int' | 'quadbin';
/** The cell system of a source, which is what tiles and TileJSON speak of. */
export type CellScheme = 'h3' | 'quadbin';

export const MAX_RESOLUTION: Record<CellScheme, number> = { h3: 15, quadbin: 26 };
/** Cells whose ancestors give a source's bounds: at most ~6k H3 or ~16k quadbin cells. */
export const BOUNDS_RESOLUTION: Record<CellScheme, number> = { h3: 2, quadbin: 7 };

export function schemeOf(type: SpatialIndexType): CellScheme {
  return type === 'quadbin' ? 'quadbin' : 'h3';
}

/** Bits of the resolution field, and how many bits one level of digits takes. */
const LAYOUT: Record<CellScheme, { resolutionMask: bigint; digitBits: bigint; levels: bigint }> = {
  // H3: 4-bit resolution at bit 52, fifteen 3-bit digits below bit 45, unused digits all 7.
  h3: { resolutionMask: 15n, digitBits: 3n, levels: 15n },
  // Quadbin: 5-bit resolution at bit 52, 26 levels of 2 bits below it, unused levels all 1.
  quadbin: { resolutionMask: 31n, digitBits: 2n, levels: 26n },
};

/** Ones in the digits of the levels below `resolution` (what an id at that resolution has). */
function unusedDigits(scheme: CellScheme, resolution: number): bigint {
  const { digitBits, levels } = LAYOUT[scheme];
  return (1n << (digitBits * (levels - BigInt(resolution)))) - 1n;
}

/**
 * The smallest and largest ids a descendant of `tile` (of resolution `tileResolution`) at
 * `resolution` can have. Every descendant lies in the range; the range's other ids are not
 * valid cells, so a range condition selects exactly the descendants.
 */
export function descendantRange(
  scheme: CellScheme,
  tile: bigint,
  tileResolution: number,
  resolution: number,
): [bigint, bigint] {
  const { resolutionMask } = LAYOUT[scheme];
  const below = unusedDigits(scheme, tileResolution);
  const prefix = tile & ~(resolutionMask << 52n) & ~below;
  const low = prefix | (BigInt(resolution) << 52n) | unusedDigits(scheme, resolution);
  return [low, low | below];
}

/** SQL for the ancestor at `resolution` of a cell given as a bigint expression. */
export function ancestorSql(scheme: CellScheme, cell: string, resolution: number): string {
  const { resolutionMask } = LAYOUT[scheme];
  const clear = ~(resolutionMask << 52n);
  const set = (BigInt(resolution) << 52n) | unusedDigits(scheme, resolution);
  return `((${cell}) & ${clear}::bigint | ${set}::bigint)`;
}

/** A cell column as a bigint expression (H3 text is parsed as hexadecimal). */
export function cellAsBigintSql(type: SpatialIndexType, column: string): string {
  if (type !== 'h3') return `(${column})::bigint`;
  return `('x' || lpad(${column}, 16, '0'))::bit(64)::bigint`;
}

/** A bigint id as the column stores it, for comparing with the column. */
export function cellAsStored(type: SpatialIndexType, cell: bigint): string {
  return type === 'h3' ? cell.toString(16).padStart(15, '0') : cell.toString();
}

/**
 * The tile a request names: `{i}` of CARTO's spatial-index templates, an H3 id in hex or a
 * quadbin id in lower-case hex without `0x`.
 */
export function parseTileCell(scheme: CellScheme, text: string): { cell: bigint; z: number } {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) {
    throw errors.invalidParameter(
      'tile',
      `'${text.slice(0, 40)}' is not ${scheme === 'h3' ? 'an' : 'a'} ${scheme} cell`,
    );
  }
  const cell = BigInt(`0x${text}`);
  if (scheme === 'h3') {
    const hex = cell.toString(16);
    if (!h3IsValidCell(hex)) throw errors.invalidParameter('tile', `'${text}' is not an h3 cell`);
    return { cell, z: h3Resolution(hex) };
  }
  if (!isQuadbinCell(cell)) {
    throw errors.invalidParameter('tile', `'${text}' is not a quadbin cell`);
  }
  return { cell, z: Number(quadbinResolution(cell)) };
}

/** Header bit set, mode 1 (cell), a zoom of at most 26, and its unused levels all ones. */
function isQuadbinCell(cell: bigint): boolean {
  const z = Number(quadbinResolution(cell));
  if (cell >> 62n !== 1n || ((cell >> 59n) & 7n) !== 1n || z > 26) return false;
  const tail = unusedDigits('quadbin', z);
  return (cell & tail) === tail;
}

/** The resolution of a cell id, or -1 when the id is not a cell of the scheme. */
export function resolutionOf(scheme: CellScheme, cell: bigint): number {
  if (scheme === 'quadbin') return isQuadbinCell(cell) ? Number(quadbinResolution(cell)) : -1;
  const hex = cell < 0n ? '' : cell.toString(16);
  return h3IsValidCell(hex) ? h3Resolution(hex) : -1;
}

function boundaryOf(scheme: CellScheme, cell: bigint): number[][] | null {
  try {
    if (scheme === 'h3') {
      const hex = cell.toString(16);
      return h3IsValidCell(hex) ? h3CellToBoundary(hex, true) : null;
    }
    return quadbinCellToBoundary(cell).coordinates[0] ?? null;
  } catch {
    return null;
  }
}

/** [west, south, east, north] covering the cells (values that are not cells are skipped). */
export function boundsOfCells(
  scheme: CellScheme,
  cells: Iterable<bigint>,
): [number, number, number, number] | null {
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const cell of cells) {
    const ring = boundaryOf(scheme, cell);
    // A value that is not a cell (a stray row of the source) has no place on the map.
    if (!ring) continue;
    for (const [lon, lat] of ring) {
      box[0] = Math.min(box[0], lon!);
      box[1] = Math.min(box[1], lat!);
      box[2] = Math.max(box[2], lon!);
      box[3] = Math.max(box[3], lat!);
    }
  }
  if (!Number.isFinite(box[0])) return null;
  // A hexagon across the antimeridian has longitudes on both sides: the box spans the world.
  return [
    Math.max(-180, box[0]),
    Math.max(-85.051129, box[1]),
    Math.min(180, box[2]),
    Math.min(85.051129, box[3]),
  ];
}
