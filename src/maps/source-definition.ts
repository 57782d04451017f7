import { createHash } from 'node:crypto';
import { errors } from '../http/errors.js';
import {
  optionalJson,
  optionalString,
  readQueryParameters,
  requiredString,
} from '../http/request-params.js';
import { readSingleStatement } from '../sql/query-service.js';
import { wrapAsSubquery } from '../warehouses/postgres-sql-text.js';
import { readLogicalOperator, type LogicalOperator } from '../widgets/filters.js';
import { parseTableName, quoteTableName } from './table-name.js';
import { schemeOf, type SpatialIndexType } from './spatial-index/cells.js';

export type SourceType = 'table' | 'query';
export type TileFormat = 'mvt' | 'binary';
export type SpatialDataType = 'geo' | SpatialIndexType;

const SPATIAL_DATA_TYPES: readonly SpatialDataType[] = ['geo', 'h3', 'h3int', 'quadbin'];
/** CARTO's default cell levels below a tile, and the deepest we aggregate to. */
const AGGREGATION_RES_LEVEL = {
  h3: { default: 4, max: 8 },
  quadbin: { default: 6, max: 12 },
} as const;

/** `tileResolution` values CARTO's clients send; grid = 1024 × value pixels per tile. */
export const TILE_RESOLUTIONS = [0.25, 0.5, 1, 2, 4] as const;
export const DEFAULT_TILE_RESOLUTION = 0.5;
export const DEFAULT_TILE_FORMAT: TileFormat = 'binary';

/** Everything that defines a map source; the same values travel in every URL we hand out. */
export interface SourceDefinition {
  connection: string;
  type: SourceType;
  /** Table name as the client sent it (table sources). */
  name?: string;
  /** SQL as the client sent it (query sources). */
  q?: string;
  queryParameters: unknown[];
  spatialDataColumn: string;
  spatialDataType: SpatialDataType;
  /** A select list aggregating the rows of a cell, or of an identical geometry; or null. */
  aggregationExp: string | null;
  /** Spatial-index sources: how many resolutions below a tile its cells are. */
  aggregationResLevel: number;
  /** Features carry `_carto_bbox`, their whole WGS84 bounding box, for label placement. */
  featureBbox: boolean;
  tileResolution: number;
  columns: string[] | null;
  /** CARTO filters applied to tiles and TileJSON, or null; checked against the columns later. */
  filters: Record<string, unknown> | null;
  filtersLogicalOperator: LogicalOperator;
  formatTiles: TileFormat;
  /** FROM-able SQL for the source. */
  fromSql: string;
}

function readTileResolution(params: Record<string, unknown>): number {
  const raw = optionalString(params, 'tileResolution');
  if (raw === undefined) return DEFAULT_TILE_RESOLUTION;
  const value = Number(raw);
  if (!(TILE_RESOLUTIONS as readonly number[]).includes(value)) {
    throw errors.invalidParameter(
      'tileResolution',
      `expected one of ${TILE_RESOLUTIONS.join(', ')}`,
    );
  }
  return value;
}

/** `filters`: an object keyed by column, or null when absent or empty. */
export function readFilters(params: Record<string, unknown>): Record<string, unknown> | null {
  const filters = optionalJson(params, 'filters');
  if (filters === undefined || filters === null) return null;
  if (typeof filters !== 'object' || Array.isArray(filters)) {
    throw errors.invalidParameter('filters', 'expected an object keyed by column');
  }
  return Object.keys(filters).length > 0 ? (filters as Record<string, unknown>) : null;
}

function readColumns(params: Record<string, unknown>): string[] | null {
  const raw = params.columns;
  if (raw === undefined || raw === null || raw === '') return null;
  const list = Array.isArray(raw) ? raw : String(raw).split(',');
  const columns = list.map((c) => String(c).trim()).filter((c) => c !== '');
  return columns.length > 0 ? [...new Set(columns)] : null;
}

/** `featureBbox=true` (sent for `prepareLabels`): features carry their whole bounding box. */
function readFeatureBbox(params: Record<string, unknown>): boolean {
  const value = optionalString(params, 'featureBbox');
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw errors.invalidParameter('featureBbox', "expected 'true' or 'false'");
}

/**
 * The spatial column and its kind: `spatialDataColumn`/`spatialDataType` (API 3.3 on), or the
 * legacy `geo_column`, `geom` or `<type>:<column>` such as `h3:hex`.
 */
function readSpatialColumn(params: Record<string, unknown>): {
  spatialDataColumn: string;
  spatialDataType: SpatialDataType;
} {
  const legacy = optionalString(params, 'geo_column');
  if (legacy !== undefined) {
    const version = Number(optionalString(params, 'v') ?? '0');
    if (version >= 3.3) {
      throw errors.invalidParameter('geo_column', 'use spatialDataColumn and spatialDataType');
    }
    const colon = legacy.indexOf(':');
    if (colon < 0) return { spatialDataColumn: legacy, spatialDataType: 'geo' };
    const type = legacy.slice(0, colon);
    if (type !== 'h3' && type !== 'quadbin') {
      throw errors.invalidParameter(
        'geo_column',
        "expected '<column>', 'h3:<column>' or 'quadbin:<column>'",
      );
    }
    return { spatialDataColumn: legacy.slice(colon + 1), spatialDataType: type };
  }
  const type = optionalString(params, 'spatialDataType') ?? 'geo';
  if (!(SPATIAL_DATA_TYPES as readonly string[]).includes(type)) {
    throw errors.invalidParameter(
      'spatialDataType',
      `expected one of ${SPATIAL_DATA_TYPES.join(', ')}`,
    );
  }
  const spatialDataType = type as SpatialDataType;
  const fallback = spatialDataType === 'geo' ? 'geom' : schemeOf(spatialDataType);
  return {
    spatialDataColumn: optionalString(params, 'spatialDataColumn') ?? fallback,
    spatialDataType,
  };
}

function readAggregationExp(params: Record<string, unknown>, type: SpatialDataType): string | null {
  const text = optionalString(params, 'aggregationExp');
  if (text !== undefined && text.trim() !== '') return text;
  if (type !== 'geo') throw errors.missingParameter('aggregationExp');
  return null;
}

/** Cell levels below a tile; fetchMap may send fractions (it rescales by tileResolution). */
function readAggregationResLevel(params: Record<string, unknown>, type: SpatialDataType): number {
  if (type === 'geo') return 0;
  const limits = AGGREGATION_RES_LEVEL[schemeOf(type)];
  const raw = optionalString(params, 'aggregationResLevel');
  if (raw === undefined) return limits.default;
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value) || value > limits.max) {
    throw errors.invalidParameter(
      'aggregationResLevel',
      `expected a number from 0 to ${limits.max} for ${type} sources`,
    );
  }
  return Math.floor(value);
}

/** Reads and validates a map source from request parameters. */
export function readSourceDefinition(
  connection: string,
  type: string,
  params: Record<string, unknown>,
): SourceDefinition {
  if (type === 'tileset' || type === 'raster' || type === 'boundary') {
    // These sources have routes of their own; only a path they do not have lands here.
    throw errors.invalidParameter(
      'path',
      `${type} sources are /v3/maps/{connection}/${type} and the tiles its TileJSON names`,
    );
  }
  if (type !== 'table' && type !== 'query') {
    throw errors.invalidParameter(
      'source type',
      `'${type}' is not one; expected table, query, tileset, raster or boundary`,
    );
  }
  const formatTiles = optionalString(params, 'formatTiles') ?? DEFAULT_TILE_FORMAT;
  if (formatTiles !== 'mvt' && formatTiles !== 'binary') {
    throw errors.invalidParameter('formatTiles', "expected 'mvt' or 'binary'");
  }
  const spatial = readSpatialColumn(params);
  const base = {
    // Spatial-index tiles have one format, CARTO's spatial tile.
    formatTiles: spatial.spatialDataType === 'geo' ? formatTiles : DEFAULT_TILE_FORMAT,
    connection,
    type,
    ...spatial,
    aggregationExp: readAggregationExp(params, spatial.spatialDataType),
    aggregationResLevel: readAggregationResLevel(params, spatial.spatialDataType),
    featureBbox: readFeatureBbox(params),
    tileResolution: readTileResolution(params),
    columns: readColumns(params),
    filters: readFilters(params),
    filtersLogicalOperator: readLogicalOperator(optionalString(params, 'filtersLogicalOperator')),
  } as const;

  if (type === 'table') {
    const name = requiredString(params, 'name');
    return { ...base, name, queryParameters: [], fromSql: quoteTableName(parseTableName(name)) };
  }
  const q = requiredString(params, 'q');
  const shape = readSingleStatement(q, 'a query source must be a single statement');
  return {
    ...base,
    q,
    queryParameters: readQueryParameters(params),
    fromSql: wrapAsSubquery(shape.body, '_src'),
  };
}

/** The parameters that recreate this source, in a stable order, for the URLs we return. */
export function sourceUrlParameters(source: SourceDefinition): URLSearchParams {
  const params = new URLSearchParams();
  if (source.type === 'table') params.set('name', source.name!);
  else params.set('q', source.q!);
  if (source.queryParameters.length > 0) {
    params.set('queryParameters', JSON.stringify(source.queryParameters));
  }
  params.set('spatialDataColumn', source.spatialDataColumn);
  params.set('spatialDataType', source.spatialDataType);
  if (source.aggregationExp !== null) params.set('aggregationExp', source.aggregationExp);
  if (source.spatialDataType !== 'geo') {
    params.set('aggregationResLevel', String(source.aggregationResLevel));
  }
  params.set('tileResolution', String(source.tileResolution));
  if (source.columns) params.set('columns', source.columns.join(','));
  if (source.featureBbox) params.set('featureBbox', 'true');
  if (source.filters) {
    params.set('filters', JSON.stringify(source.filters));
    params.set('filtersLogicalOperator', source.filtersLogicalOperator);
  }
  return params;
}

/** A stable key for caching what we learn about a source (not its tile format). */
export function sourceKey(source: SourceDefinition, connectionKey: string): string {
  const identity = JSON.stringify([
    connectionKey,
    source.type,
    source.name ?? source.q,
    source.queryParameters,
    source.spatialDataColumn,
    source.spatialDataType,
    source.aggregationExp,
    source.aggregationResLevel,
    source.featureBbox,
    source.columns,
    source.filters,
    source.filtersLogicalOperator,
  ]);
  return createHash('sha256').update(identity).digest('base64url').slice(0, 22);
}
