/**
 * The checks of a tileset creation, made before anything is written: the options against the
 * warehouse, the target, and the tile count estimated from the source's bounds. The source is
 * inspected once here and the inspection kept for the build.
 */
import { errors } from '../http/errors.js';
import { readSourceDefinition, type SourceDefinition } from '../maps/source-definition.js';
import { inspectSource, type SourceInspection } from '../maps/source-inspector.js';
import { parseTableName, quoteTableName, type TableName } from '../maps/table-name.js';
import type { WarehouseDriver } from '../warehouses/driver.js';
import { planSpatialResolutions } from './spatial-tileset.js';
import { tilesetErrors } from './tileset-errors.js';
import { DEFAULT_MAX_ZOOM_CAP, MAX_TILESET_ZOOM, type TilesetOptions } from './tileset-options.js';
import { TilesetTable } from './tileset-table.js';
import {
  deepestZoomWithin,
  estimateTileCount,
  tileRangesOf,
  type Bounds,
  type TileRange,
} from './tile-ranges.js';

export interface TilesetLimits {
  /** Longest any one statement (inspection, tile, insert) may run. */
  timeoutMs: number;
  /** Most tiles the bounds-based estimate may reach. */
  maxTiles: number;
  /** Sources estimated larger than this get their statistics from a sample, as map sources. */
  exactStatsRows: number;
}

/** A checked creation: what to build and where, decided before any tile is built. */
export interface TilesetPlan {
  options: TilesetOptions & { maxZoom: number };
  source: SourceDefinition;
  inspection: SourceInspection;
  bounds: Bounds;
  /** The target, schema-qualified. */
  target: TableName;
  /** Whether the target exists (as a tileset; anything else was refused). */
  replacesTileset: boolean;
  /** The tiles of each zoom a vector tileset may hold; none for a spatial-index tileset. */
  ranges: TileRange[];
  /** At most this many tiles (vector); exactly this many (spatial-index). */
  estimatedTiles: number;
}

/** The SourceDefinition the maps code reads, from a tileset's source options. */
function sourceDefinitionOf(connection: string, options: TilesetOptions): SourceDefinition {
  const common = {
    spatialDataColumn: options.spatialDataColumn,
    tileResolution: String(options.tileResolution),
    formatTiles: options.format,
    ...options.spatialIndex,
  };
  const { source } = options;
  return source.type === 'table'
    ? readSourceDefinition(connection, 'table', { ...common, name: source.name })
    : readSourceDefinition(connection, 'query', {
        ...common,
        q: source.q,
        queryParameters: source.queryParameters,
      });
}

/** The target with its schema: an unqualified name goes where CREATE TABLE would put it. */
async function qualifiedTarget(
  driver: WarehouseDriver,
  name: string,
  timeoutMs: number,
): Promise<TableName> {
  const parsed = parseTableName(name);
  // PostgreSQL would silently cut a longer name, and two long names could then collide.
  for (const part of [parsed.schema, parsed.table]) {
    if (part !== null && Buffer.byteLength(part) > MAX_IDENTIFIER_BYTES) {
      throw errors.invalidParameter('name', `'${part}' is longer than 63 bytes`);
    }
  }
  const { rows } = await driver
    .query({
      sql: `SELECT coalesce($1::text, current_schema()) AS "schema",
            to_regnamespace(quote_ident(coalesce($1::text, current_schema()))) IS NOT NULL
              AS "exists",
            has_schema_privilege(coalesce($1::text, current_schema()), 'CREATE') AS "writable"
          WHERE coalesce($1::text, current_schema()) IS NOT NULL`,
      params: [parsed.schema],
      timeoutMs,
    })
    .catch(() => ({ rows: [] as Record<string, unknown>[] }));
  const schema = rows[0]?.schema;
  if (typeof schema !== 'string' || rows[0]?.exists !== true) {
    throw errors.invalidParameter(
      'name',
      parsed.schema === null
        ? 'no schema to create it in; qualify it as schema.table'
        : `schema '${parsed.schema}' does not exist`,
    );
  }
  if (rows[0]?.writable !== true) {
    throw errors.invalidParameter('name', `the connection may not create tables in '${schema}'`);
  }
  return { schema, table: parsed.table };
}

/** PostgreSQL's NAMEDATALEN − 1. */
const MAX_IDENTIFIER_BYTES = 63;

/** Refuses a target that exists, unless it is a tileset and overwriting was asked for. */
async function checkTarget(
  driver: WarehouseDriver,
  options: TilesetOptions,
  target: TableName,
  timeoutMs: number,
): Promise<boolean> {
  const table = new TilesetTable(driver, options.target, target, timeoutMs);
  if (!(await table.exists())) return false;
  if (!options.overwrite) throw tilesetErrors.tilesetExists(options.target);
  await table.readMetadata().catch((error: unknown) => {
    throw (error as { code?: string }).code === 'not_a_tileset'
      ? tilesetErrors.overwriteNotATileset(options.target)
      : error;
  });
  return true;
}

/**
 * Validates a creation against the warehouse: the source (inspected once, its result kept
 * for the build), the target, the zoom range and the tile estimate. Every refusal is an API
 * error (4xx) raised before anything is written.
 */
export async function planTileset(
  driver: WarehouseDriver,
  connection: string,
  options: TilesetOptions,
  limits: TilesetLimits,
): Promise<TilesetPlan> {
  const source = sourceDefinitionOf(connection, options);
  const target = await qualifiedTarget(driver, options.target, limits.timeoutMs);
  if (source.type === 'table' && source.fromSql === quoteTableName(target)) {
    throw errors.invalidParameter('name', 'the tileset cannot replace its own source table');
  }
  const replacesTileset = await checkTarget(driver, options, target, limits.timeoutMs);

  const inspection = await inspectSource(driver, source, {
    timeoutMs: limits.timeoutMs,
    maxTileFeatures: options.maxFeatures,
    maxZoom: MAX_TILESET_ZOOM,
    exactStatsRows: limits.exactStatsRows,
  });
  if (inspection.rowCount === 0 || inspection.bounds === null) throw tilesetErrors.emptySource();
  const bounds = inspection.bounds;
  const common = { source, inspection, bounds, target, replacesTileset };
  if (inspection.spatialIndex) {
    const { maxZoom, estimatedTiles } = await planSpatialResolutions(
      driver,
      source,
      inspection.spatialIndex,
      options,
      limits,
    );
    return { ...common, options: { ...options, maxZoom }, ranges: [], estimatedTiles };
  }

  const maxZoom =
    options.maxZoom ??
    deepestZoomWithin(bounds, options.minZoom, DEFAULT_MAX_ZOOM_CAP, limits.maxTiles);
  const estimatedTiles = estimateTileCount(bounds, options.minZoom, maxZoom);
  if (estimatedTiles > limits.maxTiles) {
    throw tilesetErrors.tooManyTiles(estimatedTiles, limits.maxTiles);
  }
  return {
    ...common,
    options: { ...options, maxZoom },
    ranges: tileRangesOf(bounds, options.minZoom, maxZoom),
    estimatedTiles,
  };
}
