/**
 * The options of a tileset creation, read and validated the same way from an HTTP body and
 * from the command line (which builds the same object from its flags).
 */
import { errors } from '../http/errors.js';
import { optionalString, readQueryParameters, requiredString } from '../http/request-params.js';
import { TILE_RESOLUTIONS, DEFAULT_TILE_RESOLUTION } from '../maps/source-definition.js';
import { schemeOf, type SpatialIndexType } from '../maps/spatial-index/cells.js';
import { parseTableName } from '../maps/table-name.js';
import type { TileFormat } from '../maps/tiles/tile-query.js';

/** Deepest zoom a tileset may hold; deeper views overzoom its last level. */
export const MAX_TILESET_ZOOM = 16;
/** Deepest zoom chosen when the caller gives no maxZoom (less when the tile limit says so). */
export const DEFAULT_MAX_ZOOM_CAP = 14;
export const DEFAULT_TILESET_FORMAT: TileFormat = 'mvt';
/** Most features one tile may carry, whatever the caller asks. */
const MAX_FEATURES_LIMIT = 1_000_000;

/** Where a tileset's features come from. */
export type TilesetSourceSpec =
  { type: 'table'; name: string } | { type: 'query'; q: string; queryParameters: unknown[] };

/**
 * What makes a spatial-index tileset, as the Maps API's h3 and quadbin sources take it: the
 * kind of cells, the select list aggregating them and how many levels below a tile they go.
 */
export interface TilesetSpatialIndexSpec {
  spatialDataType: SpatialIndexType;
  aggregationExp: string;
  /** Absent: the Maps API's default for the scheme. */
  aggregationResLevel?: string;
}

export interface TilesetOptions {
  /** The tileset table to create, as the caller wrote it. */
  target: string;
  source: TilesetSourceSpec;
  spatialDataColumn: string;
  /** Null for a vector tileset (of a geometry column). */
  spatialIndex: TilesetSpatialIndexSpec | null;
  minZoom: number;
  /** Null: the deepest zoom up to `DEFAULT_MAX_ZOOM_CAP` within the tile limit. */
  maxZoom: number | null;
  format: TileFormat;
  tileResolution: number;
  maxFeatures: number;
  overwrite: boolean;
}

/** Keys a creation request may carry; `client` and `v` are what CARTO's clients add. */
const KNOWN_KEYS = new Set([
  'name',
  'table',
  'query',
  'q',
  'queryParameters',
  'minZoom',
  'maxZoom',
  'format',
  'geomColumn',
  'spatialDataColumn',
  'spatialDataType',
  'aggregationExp',
  'aggregationResLevel',
  'tileResolution',
  'maxFeatures',
  'overwrite',
  'client',
  'v',
]);

function readInteger(
  params: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const text = optionalString(params, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw errors.invalidParameter(name, `expected an integer from ${min} to ${max}`);
  }
  return value;
}

function readBoolean(params: Record<string, unknown>, name: string): boolean {
  const text = optionalString(params, name);
  if (text === undefined) return false;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw errors.invalidParameter(name, 'expected true or false');
}

function readSource(params: Record<string, unknown>): TilesetSourceSpec {
  const table = optionalString(params, 'table');
  const query = optionalString(params, 'query') ?? optionalString(params, 'q');
  if (table !== undefined && query !== undefined) {
    throw errors.badRequest("Give either 'table' or 'query' as the tileset's source, not both");
  }
  if (table !== undefined) {
    parseTableName(table);
    return { type: 'table', name: table };
  }
  if (query === undefined || query.trim() === '') {
    throw errors.badRequest("Give the tileset's source as 'table' (a table name) or 'query' (SQL)");
  }
  return { type: 'query', q: query, queryParameters: readQueryParameters(params) };
}

const SPATIAL_INDEX_TYPES: readonly string[] = ['h3', 'h3int', 'quadbin'];

/**
 * The spatial-index part of a creation, or null for a vector tileset. `aggregationResLevel`
 * is checked against the scheme's limits where the source is read, as for the Maps API.
 */
function readSpatialIndex(params: Record<string, unknown>): TilesetSpatialIndexSpec | null {
  const type = optionalString(params, 'spatialDataType') ?? 'geo';
  const aggregationExp = optionalString(params, 'aggregationExp');
  const aggregationResLevel = optionalString(params, 'aggregationResLevel');
  if (type === 'geo') {
    for (const [name, value] of Object.entries({ aggregationExp, aggregationResLevel })) {
      if (value !== undefined) {
        throw errors.invalidParameter(name, "needs spatialDataType 'h3', 'h3int' or 'quadbin'");
      }
    }
    return null;
  }
  if (!SPATIAL_INDEX_TYPES.includes(type)) {
    throw errors.invalidParameter('spatialDataType', "expected 'geo', 'h3', 'h3int' or 'quadbin'");
  }
  if (aggregationExp === undefined || aggregationExp.trim() === '') {
    throw errors.missingParameter('aggregationExp');
  }
  const spec = { spatialDataType: type as SpatialIndexType, aggregationExp };
  return aggregationResLevel === undefined ? spec : { ...spec, aggregationResLevel };
}

/** Spatial-index tiles have one format, CARTO's binary spatial tile. */
function readFormat(params: Record<string, unknown>, isSpatialIndex: boolean): TileFormat {
  const format = optionalString(params, 'format');
  if (isSpatialIndex) {
    if (format !== undefined && format !== 'binary') {
      throw errors.invalidParameter('format', "spatial-index tilesets hold CARTO's binary tiles");
    }
    return 'binary';
  }
  if (format !== undefined && format !== 'mvt' && format !== 'binary') {
    throw errors.invalidParameter('format', "expected 'mvt' or 'binary'");
  }
  return format ?? DEFAULT_TILESET_FORMAT;
}

/** Validates a creation request; every problem is a 400 naming the parameter. */
export function readTilesetOptions(
  params: Record<string, unknown>,
  defaults: { maxFeatures: number },
): TilesetOptions {
  const unknown = Object.keys(params).filter((key) => !KNOWN_KEYS.has(key));
  if (unknown.length > 0) {
    throw errors.invalidParameter(unknown[0]!, 'not a tileset creation option');
  }
  const target = requiredString(params, 'name');
  parseTableName(target);
  const source = readSource(params);
  const spatialIndex = readSpatialIndex(params);

  const minZoom = readInteger(params, 'minZoom', 0, MAX_TILESET_ZOOM) ?? 0;
  const maxZoom = readInteger(params, 'maxZoom', 0, MAX_TILESET_ZOOM) ?? null;
  if (maxZoom !== null && maxZoom < minZoom) {
    throw errors.invalidParameter('maxZoom', `must not be below minZoom (${minZoom})`);
  }
  const format = readFormat(params, spatialIndex !== null);
  const resolutionText = optionalString(params, 'tileResolution');
  const tileResolution =
    resolutionText === undefined ? DEFAULT_TILE_RESOLUTION : Number(resolutionText);
  if (!(TILE_RESOLUTIONS as readonly number[]).includes(tileResolution)) {
    throw errors.invalidParameter(
      'tileResolution',
      `expected one of ${TILE_RESOLUTIONS.join(', ')}`,
    );
  }
  const defaultColumn = spatialIndex ? schemeOf(spatialIndex.spatialDataType) : 'geom';
  return {
    target,
    source,
    spatialDataColumn:
      optionalString(params, 'geomColumn') ??
      optionalString(params, 'spatialDataColumn') ??
      defaultColumn,
    spatialIndex,
    minZoom,
    maxZoom,
    format,
    tileResolution,
    maxFeatures: readInteger(params, 'maxFeatures', 1, MAX_FEATURES_LIMIT) ?? defaults.maxFeatures,
    overwrite: readBoolean(params, 'overwrite'),
  };
}
