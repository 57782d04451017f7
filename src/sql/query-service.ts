import { PassThrough, type Readable } from 'node:stream';
import { errors } from '../http/errors.js';
import type {
  CartoFieldType,
  WarehouseDriver,
  WarehouseField,
  WarehouseRowStream,
} from '../warehouses/driver.js';
import {
  analyzeSql,
  isRowQuery,
  wrapAsSubquery,
  type SqlShape,
} from '../warehouses/postgres-sql-text.js';

export interface QueryLimits {
  maxRows: number;
  timeoutMs: number;
  /**
   * Results up to this many bytes of JSON are answered whole, so any error (the row limit
   * included) is a proper error response; larger ones stream with flat memory.
   */
  bufferBytes: number;
}

/** The SQL API's answer, as `@carto/api-client`'s `QueryResult` types it. */
export interface SqlQueryResponse {
  rows: Record<string, unknown>[];
  schema: { name: string; type: CartoFieldType }[];
  meta: { cacheHit: boolean; location: string; totalBytesProcessed: string; rowCount: number };
}

/** A result ready to send: a whole JSON text, or a stream of it for large results. */
export type QueryAnswer =
  | { kind: 'whole'; json: string; isRowQuery: boolean }
  | { kind: 'stream'; body: Readable; isRowQuery: boolean };

/** The shape of `q`, which must hold exactly one statement; 400 naming `q` otherwise. */
export function readSingleStatement(q: string, whenSeveral: string): SqlShape {
  const shape = analyzeSql(q);
  if (shape.body.trim() === '') throw errors.invalidParameter('q', 'the query is empty');
  if (shape.hasMultipleStatements) throw errors.invalidParameter('q', whenSeveral);
  return shape;
}

function checkColumnNames(fields: WarehouseField[]): void {
  const names = fields.map((field) => field.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) {
    // Rows are keyed by column name, so a second column of the same name would be lost.
    throw errors.invalidParameter('q', `column name '${duplicate}' appears twice; alias one`);
  }
}

/** What follows the rows: `],"schema":[...],"meta":{...}}`. */
function closingJson(fields: WarehouseField[], location: string, rowCount: number): string {
  const schema = fields.map((field) => ({ name: field.name, type: field.cartoType }));
  const meta = { cacheHit: false, location, totalBytesProcessed: '0', rowCount };
  return `],"schema":${JSON.stringify(schema)},"meta":${JSON.stringify(meta)}}`;
}

/**
 * One JSON value as `JSON.stringify` writes it inside an object. Numbers, strings, booleans and
 * null, nearly every value, take a short path; anything else goes through `JSON.stringify`.
 */
function jsonValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      // undefined for values JSON has no text for (undefined, functions): the key is left out.
      return value === null ? 'null' : (JSON.stringify(value) as string | undefined);
  }
}

/**
 * `JSON.stringify(row)` for every row of a batch, joined by commas, without building a JSON
 * writer per row: the rows of one result share their keys, so each key's `"name":` text is
 * escaped once per batch. Keys come from the first row in the order `JSON.stringify` walks
 * them (integer-like names first), and a value without JSON text leaves its key out, as
 * `JSON.stringify` does.
 */
function rowsJson(rows: Record<string, unknown>[]): string {
  const first = rows[0];
  if (first === undefined) return '';
  const keys = Object.keys(first);
  const prefixes = keys.map((key, i) => `${i === 0 ? '' : ','}${JSON.stringify(key)}:`);
  const texts = new Array<string>(rows.length);
  for (let r = 0; r < rows.length; r += 1) {
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
    texts[r] = `${text}}`;
  }
  return texts.join(',');
}

/** Rows of JSON text per batch aimed at: enough to make reads few, little enough to hold. */
const TARGET_BATCH_BYTES = 2 * 1024 * 1024;
const MIN_BATCH_ROWS = 1_000;
const MAX_BATCH_ROWS = 10_000;

/**
 * The batch size that makes about `TARGET_BATCH_BYTES` of JSON, from a batch just written:
 * narrow rows are read 10,000 at a time (fewer round trips to the warehouse), wide ones stay
 * at 1,000 so a batch of large geometries does not sit in memory whole.
 */
function nextBatchRows(rows: number, jsonChars: number): number {
  const charsPerRow = Math.max(1, jsonChars / Math.max(1, rows));
  const fitting = Math.floor(TARGET_BATCH_BYTES / charsPerRow);
  return Math.min(MAX_BATCH_ROWS, Math.max(MIN_BATCH_ROWS, fitting));
}

/** Reads rows into JSON text, counting against the row limit. */
class RowWriter {
  rowCount = 0;
  private chunks: string[] = [];
  bufferedBytes = 0;

  constructor(
    private readonly maxRows: number,
    private readonly stream?: WarehouseRowStream,
  ) {}

  add(rows: Record<string, unknown>[]): void {
    if (this.rowCount + rows.length > this.maxRows) throw errors.tooManyRows(this.maxRows);
    if (rows.length === 0) return;
    const json = rowsJson(rows);
    const text = this.rowCount === 0 ? json : `,${json}`;
    this.rowCount += rows.length;
    this.chunks.push(text);
    this.bufferedBytes += text.length;
    this.stream?.setBatchRows?.(nextBatchRows(rows.length, text.length));
  }

  take(): string {
    const text = this.chunks.join('');
    this.chunks = [];
    this.bufferedBytes = 0;
    return text;
  }
}

/** Waits until the reader wants more, or has gone away (then nothing will drain). */
function drainedOrClosed(out: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
  });
}

/**
 * Pipes the rest of a result into a stream that has already sent its 200 status. An error
 * now (the row limit, the warehouse) can no longer change the status, so the stream is
 * destroyed: the client sees a broken response, never a short result that looks whole.
 */
async function pumpRest(
  out: PassThrough,
  batches: AsyncIterator<Record<string, unknown>[]>,
  writer: RowWriter,
  finish: () => string,
  stream: WarehouseRowStream,
): Promise<void> {
  try {
    for (;;) {
      const next = await batches.next();
      if (next.done) break;
      writer.add(next.value);
      if (out.destroyed) return;
      if (!out.write(writer.take())) await drainedOrClosed(out);
    }
    out.end(finish());
  } catch (error) {
    out.destroy(error as Error);
  } finally {
    await stream.close().catch(() => undefined);
  }
}

/**
 * Runs one statement of user SQL with bound parameters and the row limit. Row queries are
 * wrapped so the warehouse stops after the limit; other statements run as written.
 */
export async function runUserQuery(
  driver: WarehouseDriver,
  sqlText: string,
  params: readonly unknown[],
  limits: QueryLimits,
  signal?: AbortSignal,
): Promise<QueryAnswer> {
  const shape = readSingleStatement(sqlText, 'send one statement per request');
  const rowQuery = isRowQuery(shape);
  const sql = rowQuery
    ? `SELECT * FROM ${wrapAsSubquery(shape.body, '_q')} LIMIT ${limits.maxRows + 1}`
    : shape.body;

  const stream = await driver.stream({ sql, params, timeoutMs: limits.timeoutMs, signal });
  const location = driver.provider;
  const writer = new RowWriter(limits.maxRows, stream);
  const batches = stream.rows[Symbol.asyncIterator]();
  try {
    checkColumnNames(stream.fields);
    for (;;) {
      const next = await batches.next();
      if (next.done) {
        const closing = closingJson(stream.fields, location, writer.rowCount);
        const json = `{"rows":[${writer.take()}${closing}`;
        await stream.close();
        return { kind: 'whole', json, isRowQuery: rowQuery };
      }
      writer.add(next.value);
      if (writer.bufferedBytes > limits.bufferBytes) break;
    }
  } catch (error) {
    await stream.close().catch(() => undefined);
    throw error;
  }

  const out = new PassThrough();
  out.write(`{"rows":[${writer.take()}`);
  const finish = () => closingJson(stream.fields, location, writer.rowCount);
  void pumpRest(out, batches, writer, finish, stream);
  return { kind: 'stream', body: out, isRowQuery: rowQuery };
}

/** Formats of the streaming export (a Graticule extension of the SQL API). */
export type ExportFormat = 'ndjson' | 'csv';

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** One CSV field (RFC 4180): quoted when it holds a separator, a quote or a line break. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) || text.trim() !== text ? `"${text.replaceAll('"', '""')}"` : text;
}

function exportLines(format: ExportFormat, fields: WarehouseField[]) {
  const names = fields.map((field) => field.name);
  const header = format === 'csv' ? `${names.map(csvField).join(',')}\r\n` : '';
  const line =
    format === 'csv'
      ? (row: Record<string, unknown>) =>
          `${names.map((name) => csvField(row[name])).join(',')}\r\n`
      : (row: Record<string, unknown>) => `${JSON.stringify(row)}\n`;
  return { header, line };
}

/**
 * Streams every row of one statement as NDJSON or CSV, with flat memory and no row limit (the
 * timeout still applies). Errors before the first rows are proper API errors; a failure after
 * that cuts the response, as for large JSON answers.
 */
export async function exportUserQuery(
  driver: WarehouseDriver,
  sqlText: string,
  params: readonly unknown[],
  options: { format: ExportFormat; timeoutMs: number },
  signal?: AbortSignal,
): Promise<Readable> {
  const shape = readSingleStatement(sqlText, 'send one statement per request');
  const stream = await driver.stream({
    sql: shape.body,
    params,
    timeoutMs: options.timeoutMs,
    signal,
  });
  const batches = stream.rows[Symbol.asyncIterator]();
  let first: IteratorResult<Record<string, unknown>[]>;
  try {
    checkColumnNames(stream.fields);
    first = await batches.next();
  } catch (error) {
    await stream.close().catch(() => undefined);
    throw error;
  }
  const { header, line } = exportLines(options.format, stream.fields);
  const out = new PassThrough();
  void (async () => {
    try {
      out.write(header);
      let next = first;
      while (!next.done) {
        if (out.destroyed) return;
        if (!out.write(next.value.map(line).join(''))) await drainedOrClosed(out);
        next = await batches.next();
      }
      out.end();
    } catch (error) {
      out.destroy(error as Error);
    } finally {
      await stream.close().catch(() => undefined);
    }
  })();
  return out;
}
