/**
 * Spatial-index map sources (H3 as text or integers, quadbin): what inspecting one learns
 * (cell resolution, bounds, the columns `aggregationExp` yields and their tilestats), and the
 * tiles: the source's cells under a tile, grouped by their ancestor `aggregationResLevel`
 * resolutions below the tile and aggregated by `aggregationExp`, in the warehouse.
 */
import { errors } from '../../http/errors.js';
import type { WarehouseDriver, WarehouseField } from '../../warehouses/driver.js';
import { isNumeric } from '../../widgets/columns.js';
import { checkedSelectListText } from '../../widgets/expression.js';
import type { SourceDefinition } from '../source-definition.js';
import { quoteIdentifier } from '../table-name.js';
import { computeTilestats, scaleTilestats, type Tilestats } from '../tilestats.js';
import {
  BOUNDS_RESOLUTION,
  ancestorSql,
  boundsOfCells,
  cellAsBigintSql,
  cellAsStored,
  descendantRange,
  MAX_RESOLUTION,
  resolutionOf,
  schemeOf,
  type CellScheme,
  type SpatialIndexType,
} from './cells.js';
import { encodeSpatialTile, type SpatialTileColumn } from './spatial-tile-encoder.js';

export const SPATIAL_TILE_CONTENT_TYPE = 'application/vnd.carto-spatial-tile';

/** The alias of the cell id in aggregation queries; `aggregationExp` may not use it. */
const CELL = '__carto_cell';

export interface SpatialIndexInspection {
  type: SpatialIndexType;
  scheme: CellScheme;
  /** Resolution of the source's cells; -1 when it has none. */
  resolution: number;
  /** FROM-able SQL of the filtered source, and its binds. */
  fromSql: string;
  params: unknown[];
  /** The checked `aggregationExp` select list. */
  selectList: string;
  /** The columns the select list yields, in order. */
  columns: WarehouseField[];
}

export interface SpatialIndexSummary {
  spatialIndex: SpatialIndexInspection;
  rowCount: number;
  bounds: [number, number, number, number] | null;
  tilestats: Tilestats;
}

function checkCellColumn(field: WarehouseField | undefined, source: SourceDefinition): void {
  const type = source.spatialDataType as SpatialIndexType;
  if (!field) throw errors.columnNotFound(source.spatialDataColumn);
  const fits = type === 'h3' ? field.cartoType === 'string' : isNumeric(field);
  if (!fits) {
    throw errors.invalidParameter(
      'spatialDataColumn',
      `'${field.name}' is a ${field.nativeType}, not ${type} cells`,
    );
  }
}

/**
 * Learns what a spatial-index source holds. `drawn` is the source with its filters applied;
 * `fields` its columns.
 */
export async function inspectSpatialIndexSource(
  driver: WarehouseDriver,
  source: SourceDefinition,
  drawn: { fromSql: string; queryParameters: unknown[] },
  fields: WarehouseField[],
  timeoutMs: number,
  /**
   * For large tables: a sample of `drawn` and the planner's row estimate. Bounds and
   * tilestats then come from the sample (sums and frequencies scaled), not a full scan.
   */
  sample?: { fromSql: string; estimatedRows: number },
): Promise<SpatialIndexSummary> {
  if (driver.provider !== 'postgres') {
    throw errors.unsupportedParameter(
      'spatialDataType',
      `${source.spatialDataType} sources are served from PostgreSQL connections only`,
    );
  }
  const type = source.spatialDataType as SpatialIndexType;
  const scheme = schemeOf(type);
  checkCellColumn(
    fields.find((f) => f.name === source.spatialDataColumn),
    source,
  );
  const selectList = checkedSelectListText(source.aggregationExp, 'aggregationExp');
  const column = quoteIdentifier(source.spatialDataColumn);
  const cell = cellAsBigintSql(type, column);
  const run = (sql: string) =>
    driver.query({ sql, params: drawn.queryParameters, timeoutMs, readOnly: true }).then((r) => r);

  const described = await run(
    `SELECT ${cell} AS "${CELL}", ${selectList} FROM ${drawn.fromSql} GROUP BY 1 LIMIT 0`,
  );
  const columns = described.fields.slice(1);
  if (columns.some((f) => f.name === CELL || f.name === source.spatialDataColumn)) {
    throw errors.invalidParameter(
      'aggregationExp',
      `an alias may not be '${CELL}' or the cell column`,
    );
  }

  const statsFrom = sample?.fromSql ?? drawn.fromSql;
  const [counts] = (
    await run(`SELECT count(*)::float8 AS "rowCount",
        (SELECT ${cell}::text FROM ${drawn.fromSql} WHERE ${column} IS NOT NULL LIMIT 1) AS "first"
      FROM ${statsFrom}`)
  ).rows;
  const counted = Number(counts?.rowCount ?? 0);
  const rowCount = sample ? sample.estimatedRows : counted;
  const first = counts?.first;
  let resolution = -1;
  if (first !== null && first !== undefined) {
    resolution = resolutionOf(scheme, BigInt(String(first)));
    if (resolution < 0) {
      throw errors.badRequest(
        `The column '${source.spatialDataColumn}' does not hold ${type} cells`,
      );
    }
  }

  const spatialIndex: SpatialIndexInspection = {
    type,
    scheme,
    resolution,
    fromSql: drawn.fromSql,
    params: drawn.queryParameters,
    selectList,
    columns,
  };
  if (resolution < 0) {
    return { spatialIndex, rowCount, bounds: null, tilestats: emptyTilestats(rowCount) };
  }

  const coarse = Math.min(resolution, BOUNDS_RESOLUTION[scheme]);
  const ancestors = await run(
    `SELECT DISTINCT ${ancestorSql(scheme, cell, coarse)}::text AS "c"
     FROM ${statsFrom} WHERE ${column} IS NOT NULL`,
  );
  const bounds = boundsOfCells(
    scheme,
    ancestors.rows.map((r) => BigInt(String(r.c))),
  );

  // Tilestats describe the cells at the source's own resolution, aggregated as tiles are.
  const perCell = {
    ...source,
    fromSql: `(SELECT ${cell} AS "${CELL}", ${selectList} FROM ${statsFrom}
      WHERE ${column} IS NOT NULL GROUP BY 1) AS "_cells"`,
    queryParameters: drawn.queryParameters,
  };
  const tilestats = await computeTilestats(driver, perCell, columns, rowCount, timeoutMs, false);
  if (!sample) return { spatialIndex, rowCount, bounds, tilestats };
  const scale = sample.estimatedRows / Math.max(1, counted);
  const scaled = { ...scaleTilestats(tilestats, scale), sampled: true };
  return { spatialIndex, rowCount, bounds, tilestats: scaled };
}

function emptyTilestats(count: number): Tilestats {
  return {
    layerCount: 1,
    layers: [{ layer: 'default', count, geometry: null, attributeCount: 0, attributes: [] }],
  };
}

/** The resolutions a client may ask tiles at: the source's own, less the level below tiles. */
export function tileResolutions(
  inspection: SpatialIndexInspection,
  aggregationResLevel: number,
): { min: number; max: number } {
  const data =
    inspection.resolution < 0 ? MAX_RESOLUTION[inspection.scheme] : inspection.resolution;
  return { min: 0, max: Math.max(0, data - aggregationResLevel) };
}

export interface SpatialTileRequest {
  cell: bigint;
  z: number;
  aggregationResLevel: number;
  maxCells: number;
}

/** One spatial-index tile, or a null body when no cell of the source lies under it. */
export async function buildSpatialTile(
  driver: WarehouseDriver,
  inspection: SpatialIndexInspection,
  source: SourceDefinition,
  request: SpatialTileRequest,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<{ body: Uint8Array | null; cellCount: number; truncated: boolean }> {
  const { resolution, scheme, type } = inspection;
  if (resolution < 0 || request.z > resolution)
    return { body: null, cellCount: 0, truncated: false };
  const target = Math.min(resolution, request.z + request.aggregationResLevel);
  const [low, high] = descendantRange(scheme, request.cell, request.z, resolution);
  const column = quoteIdentifier(source.spatialDataColumn);
  const cast = type === 'h3' ? 'text' : 'bigint';
  const n = inspection.params.length;
  const sql = `
    SELECT ${ancestorSql(scheme, cellAsBigintSql(type, column), target)}::text AS "${CELL}",
           ${inspection.selectList}
    FROM ${inspection.fromSql}
    WHERE ${column} BETWEEN $${n + 1}::${cast} AND $${n + 2}::${cast}
    GROUP BY 1
    LIMIT ${request.maxCells + 1}`;
  const result = await driver.query({
    readOnly: true,
    sql,
    params: [...inspection.params, cellAsStored(type, low), cellAsStored(type, high)],
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    repeatsText: true,
  });
  const truncated = result.rows.length > request.maxCells;
  const rows = truncated ? result.rows.slice(0, request.maxCells) : result.rows;
  if (rows.length === 0) return { body: null, cellCount: 0, truncated: false };
  const columns: SpatialTileColumn[] = inspection.columns.map((f) => ({
    name: f.name,
    numeric: isNumeric(f),
  }));
  const body = encodeSpatialTile(scheme, {
    ids: rows.map((r) => BigInt(String(r[CELL]))),
    columns,
    values: inspection.columns.map((f) => rows.map((r) => r[f.name])),
  });
  return { body, cellCount: rows.length, truncated };
}
