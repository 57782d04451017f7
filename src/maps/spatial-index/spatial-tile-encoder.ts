/**
 * CARTO's spatial-index tile, as deck.gl's `CartoSpatialTileLoader` reads it:
 *
 *   Tile  { 1: varint scheme; 2: Cells }
 *   Cells { 1: Indices { 1: bytes (uint64 little-endian, one per cell) };
 *           2: Properties* (one per cell: the text values);
 *           3: NumericPropKV* { 1: key; 2: { 1: bytes (float64 little-endian, one per cell) } } }
 *
 * The loader takes the scheme from the layer, not from the tile; we write 0 for H3 and 1 for
 * quadbin.
 */
import Pbf from 'pbf';
import { writeBytesField, writeTextField } from '../tiles/pbf-writing.js';
import type { CellScheme } from './cells.js';

export interface SpatialTileColumn {
  name: string;
  /** Numbers travel as float64 per cell (NaN for no value); anything else as text. */
  numeric: boolean;
}

export interface SpatialTileCells {
  ids: bigint[];
  columns: SpatialTileColumn[];
  /** values[c][i]: column c of cell i. */
  values: unknown[][];
}

const SCHEME_CODES: Record<CellScheme, number> = { h3: 0, quadbin: 1 };

function asNumber(value: unknown): number {
  if (value === null || value === undefined || value === '') return NaN;
  return typeof value === 'number' ? value : Number(value);
}

function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function bytesOf(array: BigUint64Array | Float64Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function writeCells(tile: SpatialTileCells, pbf: Pbf): void {
  const ids = BigUint64Array.from(tile.ids);
  pbf.writeMessage(1, () => writeBytesField(pbf, 1, bytesOf(ids)), null);

  const textColumns = tile.columns.flatMap((c, index) => (c.numeric ? [] : [index]));
  if (textColumns.length > 0) {
    for (let i = 0; i < tile.ids.length; i += 1) {
      pbf.writeMessage(
        2,
        () => {
          for (const c of textColumns) {
            const text = asText(tile.values[c]![i]);
            if (text === null) continue;
            pbf.writeMessage(
              1,
              () => {
                writeTextField(pbf, 1, tile.columns[c]!.name);
                writeTextField(pbf, 2, text);
              },
              null,
            );
          }
        },
        null,
      );
    }
  }

  tile.columns.forEach((column, c) => {
    if (!column.numeric) return;
    const values = Float64Array.from(tile.values[c]!, asNumber);
    pbf.writeMessage(
      3,
      () => {
        writeTextField(pbf, 1, column.name);
        pbf.writeMessage(2, () => writeBytesField(pbf, 1, bytesOf(values)), null);
      },
      null,
    );
  });
}

/** Encodes the cells of one tile. */
export function encodeSpatialTile(scheme: CellScheme, tile: SpatialTileCells): Uint8Array {
  const pbf = new Pbf();
  pbf.writeVarintField(1, SCHEME_CODES[scheme]);
  pbf.writeMessage(2, () => writeCells(tile, pbf), null);
  return pbf.finish();
}
