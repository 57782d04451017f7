/**
 * CARTO's properties tile, the data half of a boundary tile as deck.gl's
 * `CartoPropertiesTileLoader` reads it (`@deck.gl/carto` `layers/schema/carto-properties-tile`):
 *
 * Tile { 1: Properties*; 2: NumericPropKV* }
 * Properties { 1: KeyValue { 1: key; 2: value }* }   one per feature: `geoid` and text values
 * NumericPropKV { 1: key; 2: { 1: bytes (float64 LE) } }   indexed by the geometry tile's
 *                                                           global feature id, NaN for none
 *
 * deck.gl joins string properties by `geoid`, but reads numbers at the global feature id of the
 * geometry tile fetched beside it, so the numeric arrays follow that tile's feature order.
 */
import Pbf from 'pbf';
import { writeBytesField, writeTextField } from '../maps/tiles/pbf-writing.js';
import { GEOID } from './boundary-source.js';

export const PROPERTIES_TILE_CONTENT_TYPE = 'application/vnd.carto-properties-tile';

/** One data row: its key, its text values (null: none) and its numbers (null: none). */
export interface PropertiesRow {
  geoid: string;
  strings: (string | null)[];
  numbers: (number | null)[];
}

function float64Bytes(values: Float64Array): Uint8Array {
  // Explicit little-endian: the reader copies these bytes straight into a Float64Array.
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat64(i * 8, value, true));
  return bytes;
}

/**
 * The properties tile of a geometry tile whose features hold the keys `keys` (by global id):
 * a `Properties` for each key found in `rows` (the first row of a key wins) and, for each
 * numeric column, the value of each feature's row at its global id. Null when no feature has
 * data, which answers 204 as an empty tile does.
 */
export function encodePropertiesTile(
  keys: ReadonlyMap<number, string>,
  rows: readonly PropertiesRow[],
  columns: { strings: readonly string[]; numbers: readonly string[] },
): Uint8Array | null {
  const byKey = new Map<string, PropertiesRow>();
  for (const row of rows) if (!byKey.has(row.geoid)) byKey.set(row.geoid, row);
  if (byKey.size === 0) return null;

  let length = 0;
  for (const globalId of keys.keys()) length = Math.max(length, globalId + 1);
  const numbers = columns.numbers.map(() => new Float64Array(length).fill(NaN));
  for (const [globalId, key] of keys) {
    const row = byKey.get(key);
    if (!row) continue;
    row.numbers.forEach((value, i) => {
      if (value !== null && Number.isFinite(value)) numbers[i]![globalId] = value;
    });
  }

  const pbf = new Pbf();
  for (const row of byKey.values()) {
    pbf.writeMessage(1, () => {
      pbf.writeMessage(1, () => {
        writeTextField(pbf, 1, GEOID);
        writeTextField(pbf, 2, row.geoid);
      });
      row.strings.forEach((value, i) => {
        if (value === null) return;
        pbf.writeMessage(1, () => {
          writeTextField(pbf, 1, columns.strings[i]!);
          writeTextField(pbf, 2, value);
        });
      });
    });
  }
  columns.numbers.forEach((name, i) => {
    const entry = new Pbf();
    writeTextField(entry, 1, name);
    const value = new Pbf();
    writeBytesField(value, 1, float64Bytes(numbers[i]!));
    writeBytesField(entry, 2, value.finish());
    writeBytesField(pbf, 2, entry.finish());
  });
  return pbf.finish();
}
