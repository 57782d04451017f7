import { PassThrough, type Readable } from 'node:stream';
import { errors } from '../http/errors.js';
import type { CartoFieldType, WarehouseDriver, WarehouseField } from '../warehouses/driver.js';
import {
  analyzeSql,
  isRowQuery,
  wrapAsSubquery,
  type SqlShape,
} from '../warehouses/postgres-sql-text.js';
import { openJsonRows, type JsonRowSource } from './json-rows.js';

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

/** Rows of JSON text per batch aimed at: enough to make reads few, little enough to hold. */
const TARGET_BATCH_BYTES = 2 * 1024 * 1024;
const MIN_BATCH_ROWS = 1_000;
const MAX_BATCH_ROWS = 2_500;

/**
 * The batch size that makes about `TARGET_BATCH_BYTES` of JSON, from a batch just written:
 * narrow rows are read 2,500 at a time, wide ones 1,000 so a batch of large geometries does
 * not sit in memory whole. Larger batches of narrow rows measured slower: the driver reads the
 * next batch while this one is written, so round trips cost little, while rows held longer
 * survive into V8's old generation and cost full collections.
 */
function nextBatchRows(rows: number, jsonChars: number): number {
  const charsPerRow = Math.max(1, jsonChars / Math.max(1, rows));
  const fitting = Math.floor(TARGET_BATCH_BYTES / charsPerRow);
  return Math.min(MAX_BATCH_ROWS, Math.max(MIN_BATCH_ROWS, fitting));
}

/**
 * Characters of JSON text per piece written. A piece stays well under V8's limit for objects
 * in the young generation (128 KiB), where a short-lived string is cheapest to collect; one
 * large string per batch would be allocated in old space and kept until a full collection.
 */
const TARGET_PIECE_CHARS = 32 * 1024;

/** Reads rows into JSON text pieces, counting against the row limit. */
class RowWriter {
  rowCount = 0;
  private pieces: string[] = [];
  private pieceRows = 100;
  bufferedBytes = 0;

  constructor(
    private readonly maxRows: number,
    private readonly source: JsonRowSource,
  ) {}

  add(rows: readonly unknown[]): void {
    if (this.rowCount + rows.length > this.maxRows) throw errors.tooManyRows(this.maxRows);
    if (rows.length === 0) return;
    let chars = 0;
    for (let start = 0, end = 0; start < rows.length; start = end) {
      end = Math.min(rows.length, start + this.pieceRows);
      const json = this.source.rowsJson(rows, start, end);
      const text = this.rowCount === 0 && start === 0 ? json : `,${json}`;
      this.pieces.push(text);
      chars += text.length;
      this.pieceRows = Math.max(1, Math.floor((TARGET_PIECE_CHARS * (end - start)) / text.length));
    }
    this.rowCount += rows.length;
    this.bufferedBytes += chars;
    this.source.setBatchRows?.(nextBatchRows(rows.length, chars));
  }

  /** The text written since the last call, as one string. */
  take(): string {
    const text = this.pieces.join('');
    this.pieces = [];
    this.bufferedBytes = 0;
    return text;
  }

  /** The pieces written since the last call. */
  takePieces(): string[] {
    const pieces = this.pieces;
    this.pieces = [];
    this.bufferedBytes = 0;
    return pieces;
  }
}

/** Writes pieces of text; false when the reader wants no more for now. */
function writePieces(out: PassThrough, pieces: string[]): boolean {
  let wantsMore = true;
  for (const piece of pieces) wantsMore = out.write(piece);
  return wantsMore;
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
  source: JsonRowSource,
  writer: RowWriter,
  finish: () => string,
): Promise<void> {
  try {
    for (;;) {
      const next = await source.batches.next();
      if (next.done) break;
      writer.add(next.value);
      if (out.destroyed) return;
      if (!writePieces(out, writer.takePieces())) await drainedOrClosed(out);
    }
    out.end(finish());
  } catch (error) {
    out.destroy(error as Error);
  } finally {
    await source.close().catch(() => undefined);
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

  const source = await openJsonRows(driver, { sql, params, timeoutMs: limits.timeoutMs, signal });
  const location = driver.provider;
  const writer = new RowWriter(limits.maxRows, source);
  try {
    checkColumnNames(source.fields);
    for (;;) {
      const next = await source.batches.next();
      if (next.done) {
        const closing = closingJson(source.fields, location, writer.rowCount);
        const json = `{"rows":[${writer.take()}${closing}`;
        await source.close();
        return { kind: 'whole', json, isRowQuery: rowQuery };
      }
      writer.add(next.value);
      if (writer.bufferedBytes > limits.bufferBytes) break;
    }
  } catch (error) {
    await source.close().catch(() => undefined);
    throw error;
  }

  const out = new PassThrough();
  out.write('{"rows":[');
  writePieces(out, writer.takePieces());
  const finish = () => closingJson(source.fields, location, writer.rowCount);
  void pumpRest(out, source, writer, finish);
  return { kind: 'stream', body: out, isRowQuery: rowQuery };
}

/** Formats of the streaming export (a Graticule extension of the SQL API). */
export type ExportFormat = 'ndjson' | 'csv';

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/**
 * One CSV field (RFC 4180), quoted as PostgreSQL's COPY quotes: when it holds a separator, a
 * quote or a line break, when it is empty (an empty field unquoted is NULL), and `\.` alone
 * on its line. Lines end in a line feed, as PostgreSQL and psql end them, so both ways of
 * exporting write the same bytes.
 */
function csvField(value: unknown, isOnlyColumn = false): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const quoted = text === '' || /[",\r\n]/.test(text) || (isOnlyColumn && text === '\\.');
  return quoted ? `"${text.replaceAll('"', '""')}"` : text;
}

function exportLines(format: ExportFormat, fields: WarehouseField[]) {
  const names = fields.map((field) => field.name);
  const single = names.length === 1;
  const header =
    format === 'csv' ? `${names.map((name) => csvField(name, single)).join(',')}\n` : '';
  const line =
    format === 'csv'
      ? (row: Record<string, unknown>) =>
          `${names.map((name) => csvField(row[name], single)).join(',')}\n`
      : (row: Record<string, unknown>) => `${JSON.stringify(row)}\n`;
  return { header, line };
}

/** Types whose PostgreSQL text is what the SQL API writes for them, byte for byte. */
const COPIED_AS_WRITTEN = new Set([
  'int2',
  'int4',
  'int8',
  'oid',
  'text',
  'varchar',
  'bpchar',
  'name',
  'uuid',
  'citext',
  'char',
  'date',
  'time',
  'timetz',
  'interval',
  'bytea',
  'geometry',
  'geography',
]);

const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A column as the SQL API writes it, in SQL over the wrapped query; undefined for types whose
 * text the SQL API changes (timestamps, JSON, arrays, numeric, ...), which PostgreSQL cannot
 * write the same way. Booleans read `true`/`false`; non-finite floats are empty and -0 is 0,
 * as in JSON.
 */
function copiedColumn(field: WarehouseField): string | undefined {
  const name = `"_q".${quoteName(field.name)}`;
  const as = ` AS ${quoteName(field.name)}`;
  if (COPIED_AS_WRITTEN.has(field.nativeType)) return `${name}${as}`;
  if (field.nativeType === 'bool') {
    return `CASE WHEN ${name} THEN 'true' WHEN NOT ${name} THEN 'false' END${as}`;
  }
  if (field.nativeType === 'float4' || field.nativeType === 'float8') {
    // JSON has no -0 either: `String(-0)` is `0`.
    const nonFinite = `${name} IN ('NaN', 'Infinity', '-Infinity')`;
    return `CASE WHEN ${nonFinite} THEN NULL WHEN ${name} = 0 THEN 0 ELSE ${name} END${as}`;
  }
  return undefined;
}

/**
 * CSV written by the warehouse itself, when it can and the result allows: a plain SELECT (a
 * WITH could hold a data change, which must not run twice), no bind values (COPY takes
 * none), every column of a type written the same way. Undefined otherwise; the rows are then
 * read and written here.
 */
async function copiedCsv(
  driver: WarehouseDriver,
  shape: SqlShape,
  params: readonly unknown[],
  options: { timeoutMs: number },
  signal?: AbortSignal,
): Promise<Readable | undefined> {
  if (!driver.copyCsv || params.length > 0 || shape.firstKeyword !== 'select') return undefined;
  const wrapped = wrapAsSubquery(shape.body, '_q');
  // No row is read: LIMIT 0 only names the columns and their types.
  const described = await driver.query({
    sql: `SELECT * FROM ${wrapped} LIMIT 0`,
    timeoutMs: options.timeoutMs,
    signal,
  });
  checkColumnNames(described.fields);
  const columns = described.fields.map(copiedColumn);
  if (columns.length === 0 || columns.some((column) => column === undefined)) return undefined;
  const body = await driver.copyCsv({
    sql: `SELECT ${columns.join(', ')} FROM ${wrapped}`,
    timeoutMs: options.timeoutMs,
    signal,
  });
  return body;
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
  if (options.format === 'csv') {
    const copied = await copiedCsv(driver, shape, params, options, signal);
    if (copied) return copied;
  }
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
