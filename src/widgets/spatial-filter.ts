/**
 * `spatialFilters`: a viewport or a drawn shape (GeoJSON Polygon or MultiPolygon in WGS84)
 * keeps the rows whose geometry intersects it; a list of cells keeps the rows of those cells
 * in spatial-index sources. The shape is checked and bounded here and bound as GeoJSON text.
 */
import { errors } from '../http/errors.js';
import type { Dialect } from '../sql-builder/dialect.js';
import { join, sql, value, type Sql } from '../sql-builder/sql.js';
import type { WarehouseField } from '../warehouses/driver.js';
import { isNumeric, type SourceColumns } from './columns.js';
import { coverShape, type CellType, type CoverMode } from './cell-cover.js';

export type SpatialDataType = 'geo' | 'h3' | 'h3int' | 'quadbin';
export const SPATIAL_DATA_TYPES: readonly SpatialDataType[] = ['geo', 'h3', 'h3int', 'quadbin'];

/** Most vertices a spatial filter may have: a detailed country outline fits. */
export const MAX_FILTER_VERTICES = 100_000;
/** Most cells a cell-list filter may have. */
export const MAX_FILTER_CELLS = 100_000;

type Position = [number, number];

function checkRing(ring: unknown, name: string): number {
  if (!Array.isArray(ring) || ring.length < 4) {
    throw errors.invalidParameter(name, 'a polygon ring needs at least 4 positions');
  }
  for (const position of ring) {
    if (
      !Array.isArray(position) ||
      position.length < 2 ||
      !position.every((c) => typeof c === 'number' && Number.isFinite(c))
    ) {
      throw errors.invalidParameter(name, 'positions must be [longitude, latitude] numbers');
    }
    const [lon, lat] = position as Position;
    if (lat < -90 || lat > 90 || lon < -540 || lon > 540) {
      throw errors.invalidParameter(name, 'positions must be WGS84 longitude and latitude');
    }
  }
  const first = ring[0] as Position;
  const last = ring[ring.length - 1] as Position;
  if (first[0] !== last[0] || first[1] !== last[1]) {
    throw errors.invalidParameter(name, 'a polygon ring must end where it starts');
  }
  return ring.length;
}

function checkPolygon(rings: unknown, name: string): number {
  if (!Array.isArray(rings) || rings.length === 0) {
    throw errors.invalidParameter(name, 'a polygon needs at least one ring');
  }
  return rings.reduce((sum: number, ring) => sum + checkRing(ring, name), 0);
}

/** Validates a GeoJSON Polygon or MultiPolygon and returns it as compact text. */
export function checkedGeoJson(geometry: unknown, name: string): string {
  const shape = geometry as { type?: unknown; coordinates?: unknown } | null;
  if (shape === null || typeof shape !== 'object') {
    throw errors.invalidParameter(name, 'expected a GeoJSON Polygon or MultiPolygon');
  }
  let vertices: number;
  if (shape.type === 'Polygon') {
    vertices = checkPolygon(shape.coordinates, name);
  } else if (shape.type === 'MultiPolygon') {
    if (!Array.isArray(shape.coordinates) || shape.coordinates.length === 0) {
      throw errors.invalidParameter(name, 'a MultiPolygon needs at least one polygon');
    }
    vertices = shape.coordinates.reduce((sum: number, p) => sum + checkPolygon(p, name), 0);
  } else {
    throw errors.invalidParameter(name, 'expected a GeoJSON Polygon or MultiPolygon');
  }
  if (vertices > MAX_FILTER_VERTICES) {
    throw errors.invalidParameter(name, `more than ${MAX_FILTER_VERTICES} vertices`);
  }
  return JSON.stringify({ type: shape.type, coordinates: shape.coordinates });
}

function cellCondition(
  ctx: SpatialFilterContext,
  ref: Sql,
  filter: { indexes?: unknown; type?: unknown },
  name: string,
): Sql {
  const { spatialDataType } = ctx;
  const indexes = filter.indexes;
  if (!Array.isArray(indexes) || !indexes.every((i) => typeof i === 'string' && i !== '')) {
    throw errors.invalidParameter(name, "'indexes' must be a list of cell ids");
  }
  if (indexes.length > MAX_FILTER_CELLS) {
    throw errors.invalidParameter(name, `more than ${MAX_FILTER_CELLS} cells`);
  }
  if (filter.type !== spatialDataType) {
    throw errors.invalidParameter(
      name,
      `cells of type '${String(filter.type)}' on a ${spatialDataType} source`,
    );
  }
  const pattern = spatialDataType === 'h3' ? /^[0-9a-fA-F]{15,16}$/ : /^(0x[0-9a-fA-F]+|\d+)$/;
  if (!indexes.every((i) => pattern.test(i))) {
    throw errors.invalidParameter(name, `not ${spatialDataType} cell ids`);
  }
  const ids = spatialDataType === 'h3' ? indexes : indexes.map((i) => BigInt(i).toString());
  return ctx.dialect.inCells(ref, ids, spatialDataType !== 'h3');
}

/** H3 cells are text; H3 integers and quadbin cells are 64-bit numbers. */
function checkCellColumn(field: WarehouseField, type: SpatialDataType, name: string): void {
  const fits = type === 'h3' ? field.cartoType === 'string' : isNumeric(field);
  if (!fits) {
    throw errors.invalidParameter(
      name,
      `'${field.name}' is a ${field.nativeType}, not ${type} cells`,
    );
  }
}

/** The cells of an h3 or quadbin source that a shape selects, as a condition. */
async function shapeCellsCondition(
  ctx: SpatialFilterContext,
  column: string,
  ref: Sql,
  filter: object,
  name: string,
): Promise<Sql> {
  const shape = JSON.parse(checkedGeoJson(filter, name)) as { type: string; coordinates: unknown };
  if (!ctx.cellResolutionOf) {
    throw errors.unsupportedParameter(name, 'shapes cannot filter this spatial-index source');
  }
  const resolution = await ctx.cellResolutionOf(column);
  if (resolution < 0) return sql`1 = 0`;
  const type = ctx.spatialDataType as CellType;
  const mode = ctx.spatialFiltersMode ?? 'intersects';
  const cells = coverShape(shape, type, resolution, mode, MAX_FILTER_CELLS, name);
  return ctx.dialect.inCells(ref, cells, type !== 'h3');
}

export interface SpatialFilterContext {
  dialect: Dialect;
  columns: SourceColumns;
  spatialDataType: SpatialDataType;
  /** How a shape selects cells of an h3 or quadbin source; `intersects` by default. */
  spatialFiltersMode?: CoverMode;
  /** The SRID of a geometry column, learned on demand. */
  sridOf(column: string): Promise<number>;
  /** The resolution of the cells of a spatial-index column, learned on demand. */
  cellResolutionOf?(column: string): Promise<number>;
}

/** The condition of a `spatialFilters` object (one entry per spatial column), or null. */
export async function spatialFiltersCondition(
  spatialFilters: unknown,
  ctx: SpatialFilterContext,
): Promise<Sql | null> {
  if (spatialFilters === undefined || spatialFilters === null) return null;
  if (typeof spatialFilters !== 'object' || Array.isArray(spatialFilters)) {
    throw errors.invalidParameter('spatialFilters', 'expected an object keyed by column');
  }
  const conditions: Sql[] = [];
  for (const [column, filter] of Object.entries(spatialFilters)) {
    const name = `spatialFilters.${column}`;
    const field = ctx.columns.field(column, 'spatialFilters');
    const ref = ctx.columns.ref(column);
    if (filter === null || typeof filter !== 'object') {
      throw errors.invalidParameter(name, 'expected GeoJSON or a list of cells');
    }
    if (ctx.spatialDataType !== 'geo') checkCellColumn(field, ctx.spatialDataType, name);
    if ('indexes' in filter) {
      if (ctx.spatialDataType === 'geo') {
        throw errors.invalidParameter(name, 'cell lists filter h3 and quadbin sources only');
      }
      conditions.push(cellCondition(ctx, ref, filter, name));
      continue;
    }
    if (ctx.spatialDataType !== 'geo') {
      conditions.push(await shapeCellsCondition(ctx, column, ref, filter, name));
      continue;
    }
    if (field.cartoType !== 'geometry') {
      throw errors.noGeometryColumn(column);
    }
    const geojson = checkedGeoJson(filter, name);
    const srid = field.nativeType === 'geography' ? 4326 : await ctx.sridOf(column);
    const subject = field.nativeType === 'geography' ? sql`CAST(${ref} AS geometry)` : ref;
    conditions.push(
      ctx.dialect.intersects(subject, ctx.dialect.geometryFromGeoJson(value(geojson), srid)),
    );
  }
  return conditions.length === 0
    ? null
    : conditions.length === 1
      ? conditions[0]!
      : sql`(${join(conditions, ' AND ')})`;
}
