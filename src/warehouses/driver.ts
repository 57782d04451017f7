/**
 * The one interface every data warehouse driver implements. Route and domain code talk to
 * warehouses only through it; a new warehouse adds a driver, never a branch in a route.
 */

import type { Readable } from 'node:stream';

/** CARTO's normalized column types, as read by `@carto/api-client` (`SchemaFieldType`). */
export type CartoFieldType =
  | 'number'
  | 'bigint'
  | 'string'
  | 'geometry'
  | 'timestamp'
  | 'object'
  | 'boolean'
  | 'variant'
  | 'unknown';

/** One column of a result, described natively and in CARTO terms. */
export interface WarehouseField {
  name: string;
  /** The warehouse's own type name, e.g. `int4`, `geometry`, `timestamptz`. */
  nativeType: string;
  cartoType: CartoFieldType;
}

export interface WarehouseQuery {
  sql: string;
  /** Positional bind values (`$1`, `$2`, ...). */
  params?: readonly unknown[];
  /** Hard limit on the statement's run time; exceeding it rejects with a `timeout` error. */
  timeoutMs: number;
  /** Aborting before the statement starts removes it from the queue. */
  signal?: AbortSignal;
  /**
   * The same text runs again and again with other bind values (a source's tiles): a driver may
   * keep it parsed in each session instead of parsing it every time. Only for statements that
   * leave no state in the session.
   */
  repeatsText?: boolean;
  /**
   * The statement reads a source (maps, widgets, stats): it runs in a read-only transaction,
   * so a source's SQL cannot change data, not even through functions (`nextval`, a user
   * function that writes). Other statements (the SQL API, jobs) run as the connection allows.
   */
  readOnly?: boolean;
}

/**
 * A result whose values are already JSON-safe: 64-bit integers beyond 2^53 and numerics that
 * do not fit a double arrive as strings, non-finite floats as null, dates and timestamps as
 * ISO-8601 strings, geometries as hex EWKB, json/jsonb as parsed values.
 */
export interface WarehouseResult {
  fields: WarehouseField[];
  rows: Record<string, unknown>[];
}

/** What made a warehouse call fail, independent of the driver. */
export type WarehouseErrorKind =
  | 'syntax'
  | 'undefined_object'
  | 'invalid_input'
  | 'permission'
  | 'timeout'
  | 'cancelled'
  | 'busy'
  | 'unavailable'
  /** The server could not be reached (refused, DNS, connect timeout); the message names it. */
  | 'unreachable'
  /** The server refused the connection's credentials. */
  | 'auth_failed'
  | 'internal';

/** A failure reported by a warehouse, classified by SQLSTATE or driver error class. */
export class WarehouseError extends Error {
  override readonly name = 'WarehouseError';

  constructor(
    readonly kind: WarehouseErrorKind,
    message: string,
    readonly sqlState?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Warehouse families Graticule has a driver for, named as CARTO's `provider_id`. */
export type WarehouseProvider = 'postgres' | 'redshift';

/** What a driver can do beyond running SQL; route code branches on these, never on providers. */
export interface WarehouseCapabilities {
  /** Builds Mapbox Vector Tiles in the warehouse (PostGIS `ST_AsMVT`). */
  nativeMvt: boolean;
  /** Aggregates a tile's features into one JSON value in SQL (`json_agg`, PostGIS GeoJSON). */
  jsonTiles: boolean;
  /** Stops a running statement on abort or timeout without disturbing other statements. */
  cancellable: boolean;
}

/**
 * A result read in batches, so a large result never sits whole in memory. `rows` yields
 * JSON-safe rows as `WarehouseResult` describes; breaking out of the loop (or `close()`)
 * stops the statement and releases its session. Errors surface from the iterator.
 */
export interface WarehouseRowStream {
  fields: WarehouseField[];
  rows: AsyncIterable<Record<string, unknown>[]>;
  close(): Promise<void>;
  /**
   * Changes the size of the batches read from now on, for a consumer that learns from the
   * first batches how large a row is; drivers that read everything at once need not have it.
   */
  setBatchRows?(rows: number): void;
}

/** How a consumer reads the cells of one column of a `WarehouseArrayRowStream`. */
export interface WarehouseColumnReader {
  /** The cell's JSON-safe value, as `WarehouseResult` describes it. */
  valueOf(cell: unknown): unknown;
  /** The JSON text `JSON.stringify` writes for that value, often without building it. */
  jsonOf(cell: unknown): string;
}

/**
 * A result read in batches of rows as arrays of cells in column order, which spares building
 * an object per row. A cell is null for SQL NULL, else in the driver's own form, read only
 * through `readers[column]`. Closing and batch sizes work as in `WarehouseRowStream`.
 */
export interface WarehouseArrayRowStream {
  fields: WarehouseField[];
  readers: WarehouseColumnReader[];
  rows: AsyncIterable<unknown[][]>;
  close(): Promise<void>;
  setBatchRows?(rows: number): void;
}

/** What `test()` found: reachable, which server, and what it offers. */
export interface WarehouseTestReport {
  /** Server version string, e.g. `PostgreSQL 15.18 on x86_64-pc-linux-gnu`. */
  serverVersion: string;
  /** PostGIS version when installed in the database, else null. */
  postgisVersion: string | null;
  /** Round trip of the check query, in milliseconds. */
  latencyMs: number;
  capabilities: WarehouseCapabilities;
}

export interface WarehouseDriver {
  /** Provider id as CARTO names it (`carto_dw` is served by the embedded `postgres` flavour). */
  readonly provider: WarehouseProvider;
  readonly capabilities: WarehouseCapabilities;
  /**
   * For drivers that learn their capabilities from the server: resolves once they are known,
   * so tile routes choose the best path from the first tile on.
   */
  ready?(): Promise<WarehouseCapabilities>;
  query(query: WarehouseQuery): Promise<WarehouseResult>;
  /** Runs one statement and reads its rows in batches of about `batchRows` (default 1,000). */
  stream(query: WarehouseQuery & { batchRows?: number }): Promise<WarehouseRowStream>;
  /** `stream` with rows as arrays, for drivers that can read them so more cheaply. */
  streamArrays?(query: WarehouseQuery & { batchRows?: number }): Promise<WarehouseArrayRowStream>;
  /**
   * For drivers whose warehouse writes CSV itself (PostgreSQL's `COPY ... TO STDOUT`): a row
   * query without bind values as CSV (RFC 4180 quoting, line feeds, a header line), streamed
   * at the reader's pace. Resolves once the warehouse has begun to answer.
   */
  copyCsv?(query: WarehouseQuery): Promise<Readable>;
  /** Connects and inspects the server; fails with a `WarehouseError` when it cannot. */
  test(): Promise<WarehouseTestReport>;
  close(): Promise<void>;
}
