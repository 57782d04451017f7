/**
 * The one interface every data warehouse driver implements. Route and domain code talk to
 * warehouses only through it; a new warehouse adds a driver, never a branch in a route.
 */

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

export interface WarehouseDriver {
  /** Provider id as CARTO names it (`carto_dw` is served by the embedded `postgres` flavour). */
  readonly provider: 'postgres';
  query(query: WarehouseQuery): Promise<WarehouseResult>;
  close(): Promise<void>;
}
