/**
 * The source a widget or stats call reads: a table or a query, with its bind values, as a
 * FROM item of the connection's dialect, plus what the warehouse says about its columns.
 */
import { errors } from '../http/errors.js';
import {
  optionalJson,
  optionalString,
  readQueryParameters,
  requiredString,
} from '../http/request-params.js';
import { analyzeSql } from '../warehouses/postgres-sql-text.js';
import { dialectForProvider, type Dialect } from '../sql-builder/dialect.js';
import { allOf, identifier, render, sql, type Sql } from '../sql-builder/sql.js';
import { LRUCache } from 'lru-cache';
import { WarehouseError, type WarehouseDriver, type WarehouseField } from '../warehouses/driver.js';
import { cellResolution, type CellType, type CoverMode } from './cell-cover.js';
import { SourceColumns } from './columns.js';
import { filtersCondition, readLogicalOperator } from './filters.js';
import {
  SPATIAL_DATA_TYPES,
  spatialFiltersCondition,
  type SpatialDataType,
  type SpatialFilterContext,
} from './spatial-filter.js';

export interface WidgetSourceRequest {
  type: 'table' | 'query';
  /** Table name or SQL text, as sent. */
  source: string;
  /** The request parameter that carried `source`, named in errors about it. */
  sourceParameter: string;
  queryParameters: unknown[];
  filters: unknown;
  filtersLogicalOperator: 'and' | 'or';
  spatialDataType: SpatialDataType;
  spatialDataColumn: string;
  spatialFilters: unknown;
  spatialFiltersMode: CoverMode;
}

/** Reads the source fields every model and stats call shares. */
export function readWidgetSource(
  params: Record<string, unknown>,
  names: { type: string; source: string },
): WidgetSourceRequest {
  const type = requiredString(params, names.type);
  if (type === 'tileset') {
    throw errors.invalidParameter(
      names.type,
      'tileset widgets are computed from the tiles by the client',
    );
  }
  if (type !== 'table' && type !== 'query') {
    throw errors.invalidParameter(names.type, "expected 'table' or 'query'");
  }
  const spatialDataType = (optionalString(params, 'spatialDataType') ?? 'geo') as SpatialDataType;
  if (!SPATIAL_DATA_TYPES.includes(spatialDataType)) {
    throw errors.invalidParameter(
      'spatialDataType',
      `expected one of ${SPATIAL_DATA_TYPES.join(', ')}`,
    );
  }
  const mode = optionalString(params, 'spatialFiltersMode');
  if (mode !== undefined && !['intersects', 'contains', 'center'].includes(mode)) {
    throw errors.invalidParameter(
      'spatialFiltersMode',
      "expected 'intersects', 'contains' or 'center'",
    );
  }
  return {
    type,
    source: requiredString(params, names.source),
    sourceParameter: names.source,
    queryParameters: type === 'query' ? readQueryParameters(params) : [],
    filters: optionalJson(params, 'filters'),
    filtersLogicalOperator: readLogicalOperator(optionalString(params, 'filtersLogicalOperator')),
    spatialDataType,
    spatialDataColumn: optionalString(params, 'spatialDataColumn') ?? 'geom',
    spatialFilters: optionalJson(params, 'spatialFilters'),
    spatialFiltersMode: (mode ?? 'intersects') as CoverMode,
  };
}

/** Column names the request's filters name (model parameters are checked on use). */
function namedColumns(request: WidgetSourceRequest): string[] {
  const keys = (value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
  return [...keys(request.filters), ...keys(request.spatialFilters)];
}

export interface Execution {
  driver: WarehouseDriver;
  /** The connection's cache key: learned columns are kept per connection version. */
  cacheKey?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What a request narrows its source by. */
export type SourceFilters = Pick<
  WidgetSourceRequest,
  'filters' | 'filtersLogicalOperator' | 'spatialFilters'
>;

/** The condition of a request's filters and spatial filters together, or null. */
export async function sourceCondition(
  request: SourceFilters,
  ctx: SpatialFilterContext,
): Promise<Sql | null> {
  const filters = filtersCondition(request.filters, request.filtersLogicalOperator, ctx);
  const spatial = await spatialFiltersCondition(request.spatialFilters, ctx);
  return allOf([filters, spatial].filter((c): c is Sql => c !== null));
}

/**
 * Columns learned per source, for a short while: a dashboard sends a burst of widget calls
 * on one source, and each would otherwise ask the warehouse first. A column a request names
 * that the cached list lacks makes the list be learned again before the request fails.
 */
const learnedColumns = new LRUCache<string, WarehouseField[]>({ max: 2_000, ttl: 60_000 });

function columnsKey(request: WidgetSourceRequest, cacheKey: string): string {
  return JSON.stringify([cacheKey, request.type, request.source, request.queryParameters]);
}

/** A source ready to query: dialect, FROM item, leading bind values and columns. */
export class PreparedSource {
  private readonly srids = new Map<string, Promise<number>>();
  /** True when the columns were learned by an earlier request and may be out of date. */
  columnsFromCache = false;

  private constructor(
    readonly request: WidgetSourceRequest,
    readonly dialect: Dialect,
    readonly from: Sql,
    readonly columns: SourceColumns,
    private readonly execution: Execution,
  ) {}

  /** Resolves the source and reads its columns; 404 for a table that does not exist. */
  static async open(
    request: WidgetSourceRequest,
    execution: Execution,
    { fresh = false } = {},
  ): Promise<PreparedSource> {
    const dialect = dialectForProvider(execution.driver.provider);
    let from: Sql;
    if (request.type === 'table') {
      from = dialect.table(request.source);
    } else {
      const shape = analyzeSql(request.source);
      const parameter = request.sourceParameter;
      if (shape.body.trim() === '') throw errors.invalidParameter(parameter, 'the query is empty');
      if (shape.hasMultipleStatements) {
        throw errors.invalidParameter(parameter, 'a query source must be a single statement');
      }
      from = dialect.subquery(shape.body, '_source');
    }
    const probe = new PreparedSource(request, dialect, from, new SourceColumns([]), execution);
    const key = execution.cacheKey ? columnsKey(request, execution.cacheKey) : undefined;
    const cached = key && !fresh ? learnedColumns.get(key) : undefined;
    if (cached && namedColumns(request).every((name) => cached.some((f) => f.name === name))) {
      const source = new PreparedSource(
        request,
        dialect,
        from,
        new SourceColumns(cached),
        execution,
      );
      source.columnsFromCache = true;
      return source;
    }
    const fields = await probe.describe();
    if (key) learnedColumns.set(key, fields);
    return new PreparedSource(request, dialect, from, new SourceColumns(fields), execution);
  }

  private async describe(): Promise<WarehouseField[]> {
    try {
      return (await this.run(sql`SELECT * FROM ${this.from} LIMIT 0`)).fields;
    } catch (error) {
      const missing = error instanceof WarehouseError && error.kind === 'undefined_object';
      if (this.request.type === 'table' && missing) throw errors.tableNotFound(this.request.source);
      throw error;
    }
  }

  /** Runs a statement over this source, its own bind values first. */
  async run(statement: Sql) {
    const { text, params } = render(statement, this.dialect, this.request.queryParameters);
    return this.execution.driver.query({
      readOnly: true,
      sql: text,
      params,
      timeoutMs: this.execution.timeoutMs,
      signal: this.execution.signal,
    });
  }

  /** The condition of the request's filters and spatial filters, or null. */
  async condition(): Promise<Sql | null> {
    return sourceCondition(this.request, {
      dialect: this.dialect,
      columns: this.columns,
      spatialDataType: this.request.spatialDataType,
      spatialFiltersMode: this.request.spatialFiltersMode,
      sridOf: (column) => this.sridOf(column),
      cellResolutionOf: (column) => this.cellResolutionOf(column),
    });
  }

  /** The resolution of a spatial-index column's cells, from its first value; -1 if none. */
  async cellResolutionOf(column: string): Promise<number> {
    const ref = identifier(column);
    const result = await this.run(
      sql`SELECT ${ref} AS ${identifier('cell')} FROM ${this.from}
        WHERE ${ref} IS NOT NULL LIMIT 1`,
    );
    const cell = result.rows[0]?.cell;
    if (cell === undefined || cell === null) return -1;
    return cellResolution(this.request.spatialDataType as CellType, cell);
  }

  /** The SRID of a geometry column, read from its first non-null value (4326 if none). */
  sridOf(column: string): Promise<number> {
    let pending = this.srids.get(column);
    if (!pending) {
      pending = this.readSrid(column);
      this.srids.set(column, pending);
    }
    return pending;
  }

  private async readSrid(column: string): Promise<number> {
    const ref = identifier(column);
    const srid = this.dialect.srid(ref);
    if (!srid) return 4326;
    const result = await this.run(
      sql`SELECT ${srid} AS ${identifier('srid')} FROM ${this.from}
        WHERE ${ref} IS NOT NULL LIMIT 1`,
    );
    // SRID 0 (unknown) is kept: the shape must carry the column's SRID to be compared with it,
    // and its coordinates are read as longitude and latitude, as tiles read such columns.
    const first = result.rows[0]?.srid;
    return first === undefined || first === null ? 4326 : Number(first);
  }
}
