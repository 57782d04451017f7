/**
 * A statement's rows as the JSON text of the SQL API's `rows`: rows read as arrays when the
 * driver can (each cell written through its column's reader), else as objects, and written
 * exactly as `JSON.stringify` writes each row object.
 */
import type {
  WarehouseColumnReader,
  WarehouseDriver,
  WarehouseField,
  WarehouseQuery,
} from '../warehouses/driver.js';
import { jsonValue } from '../warehouses/json-text.js';

/**
 * `JSON.stringify(row)` for every row of a batch, joined by commas, without building a JSON
 * writer per row: the rows of one result share their keys, so each key's `"name":` text is
 * escaped once per batch. Keys come from the first row in the order `JSON.stringify` walks
 * them (integer-like names first), and a value without JSON text leaves its key out, as
 * `JSON.stringify` does.
 */
function rowsJson(rows: readonly Record<string, unknown>[], start: number, end: number): string {
  const first = rows[start];
  if (first === undefined || end <= start) return '';
  const keys = Object.keys(first);
  const prefixes = keys.map((key, i) => `${i === 0 ? '' : ','}${JSON.stringify(key)}:`);
  const texts = new Array<string>(end - start);
  for (let r = start; r < end; r += 1) {
    const row = rows[r]!;
    let text = '{';
    let isFirst = true;
    for (let i = 0; i < keys.length; i += 1) {
      const json = jsonValue(row[keys[i]!]);
      if (json === undefined) continue;
      // A left-out first key must not leave the next one with a leading comma.
      const prefix = isFirst && i > 0 ? prefixes[i]!.slice(1) : prefixes[i]!;
      text += prefix + json;
      isFirst = false;
    }
    texts[r - start] = `${text}}`;
  }
  return texts.join(',');
}

/**
 * Column positions in the order `JSON.stringify` writes an object's keys: integer-like names
 * first, ascending, then the others in column order. Array rows are written in that order so
 * they read exactly as object rows do.
 */
function jsonKeyOrder(names: string[]): number[] {
  const keys = Object.keys(Object.fromEntries(names.map((name) => [name, null])));
  return keys.map((key) => names.indexOf(key));
}

/**
 * Writes array rows as the JSON objects `rowsJson` would write for their object form: the
 * `"name":` text of each column is made once, and each cell becomes JSON through its column's
 * reader, which for most types copies the warehouse's text instead of building a value.
 */
function arrayRowsJsonWriter(
  fields: WarehouseField[],
  readers: WarehouseColumnReader[],
): (rows: readonly unknown[][], start: number, end: number) => string {
  const order = jsonKeyOrder(fields.map((field) => field.name));
  const prefixes = order.map(
    (column, i) => `${i === 0 ? '' : ','}${JSON.stringify(fields[column]!.name)}:`,
  );
  const jsonOf = order.map((column) => readers[column]!.jsonOf);
  return (rows, start, end) => {
    const texts = new Array<string>(end - start);
    for (let r = start; r < end; r += 1) {
      const row = rows[r]!;
      let text = '{';
      for (let i = 0; i < order.length; i += 1) {
        const cell = row[order[i]!];
        text += prefixes[i]! + (cell === null || cell === undefined ? 'null' : jsonOf[i]!(cell));
      }
      texts[r - start] = `${text}}`;
    }
    // One flat string: a string built by `+=` is a tree of pieces, several times larger.
    return texts.join(',');
  };
}

/** A statement's rows, read in batches and written as JSON text a batch at a time. */
export interface JsonRowSource {
  fields: WarehouseField[];
  batches: AsyncIterator<readonly unknown[]>;
  /** Rows `start` to `end` (exclusive) of a batch as JSON objects joined by commas. */
  rowsJson(rows: readonly unknown[], start: number, end: number): string;
  close(): Promise<void>;
  setBatchRows?(rows: number): void;
}

/** Opens a statement's rows as arrays when the driver can, else as objects. */
export async function openJsonRows(
  driver: WarehouseDriver,
  query: WarehouseQuery,
): Promise<JsonRowSource> {
  if (driver.streamArrays) {
    const stream = await driver.streamArrays(query);
    const writeArrays = arrayRowsJsonWriter(stream.fields, stream.readers);
    return {
      fields: stream.fields,
      batches: stream.rows[Symbol.asyncIterator](),
      rowsJson: (rows, start, end) => writeArrays(rows as unknown[][], start, end),
      close: () => stream.close(),
      setBatchRows: stream.setBatchRows && ((rows) => stream.setBatchRows?.(rows)),
    };
  }
  const stream = await driver.stream(query);
  return {
    fields: stream.fields,
    batches: stream.rows[Symbol.asyncIterator](),
    rowsJson: (rows, start, end) => rowsJson(rows as Record<string, unknown>[], start, end),
    close: () => stream.close(),
    setBatchRows: stream.setBatchRows && ((rows) => stream.setBatchRows?.(rows)),
  };
}
