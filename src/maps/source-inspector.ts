import { errors } from '../http/errors.js';
import type { WarehouseDriver, WarehouseField } from '../warehouses/driver.js';
import { quoteIdentifier } from './table-name.js';
import type { SourceDefinition } from './source-definition.js';
import { computeTilestats, type Tilestats } from './tilestats.js';

/** What a source holds, learned once per source and cached. */
export interface SourceInspection {
  fields: WarehouseField[];
  geometryField: WarehouseField;
  /** Columns that go into tiles, in order. */
  properties: WarehouseField[];
  rowCount: number;
  /** [west, south, east, north] in WGS84, or null when no row has a usable geometry. */
  bounds: [number, number, number, number] | null;
  tilestats: Tilestats;
  /** Share of features left out of tiles at each zoom because of the per-tile feature cap. */
  fractionDroppedPerZoom: number[];
  /** Unix seconds when the inspection ran; it versions the URLs we hand out. */
  inspectedAt: number;
}

export interface InspectionLimits {
  timeoutMs: number;
  maxTileFeatures: number;
  maxZoom: number;
}

/** Types tiles can carry; others (bytea, interval, extra geometries) are left out. */
const TILE_PROPERTY_TYPES = new Set(['number', 'bigint', 'string', 'boolean', 'timestamp', 'object']);

async function assertTableExists(
  driver: WarehouseDriver,
  source: SourceDefinition,
  timeoutMs: number,
): Promise<void> {
  const result = await driver.query({
    sql: 'SELECT to_regclass($1) IS NOT NULL AS "exists"',
    params: [source.fromSql],
    timeoutMs,
  });
  if (result.rows[0]?.exists !== true) throw errors.tableNotFound(source.name!);
}

function pickProperties(source: SourceDefinition, fields: WarehouseField[]): WarehouseField[] {
  const tileable = (f: WarehouseField) =>
    f.name !== source.spatialDataColumn && TILE_PROPERTY_TYPES.has(f.cartoType);
  if (!source.columns) return fields.filter(tileable);
  return source.columns
    .filter((name) => name !== source.spatialDataColumn)
    .map((name) => {
      const field = fields.find((f) => f.name === name);
      if (!field) throw errors.columnNotFound(name);
      return field;
    })
    .filter(tileable);
}

const boundsSql = (fromSql: string, geom: string) => `
  SELECT n AS "rowCount", ST_XMin(e) AS "west", ST_YMin(e) AS "south",
         ST_XMax(e) AS "east", ST_YMax(e) AS "north"
  FROM (
    SELECT count(*)::float8 AS n,
           ST_Transform(
             ST_SetSRID(ST_Extent(g)::geometry, coalesce(nullif(max(ST_SRID(g)), 0), 4326)),
             4326
           ) AS e
    FROM (
      SELECT CASE
               WHEN ${geom} IS NULL OR ST_IsEmpty(${geom}) THEN NULL
               WHEN ST_XMax(${geom}) < 'Infinity' AND ST_XMin(${geom}) > '-Infinity'
                AND ST_YMax(${geom}) < 'Infinity' AND ST_YMin(${geom}) > '-Infinity'
               THEN ${geom}
             END AS g
      FROM ${fromSql}
    ) AS "_geoms"
  ) AS "_extent"`;

async function readCountAndBounds(
  driver: WarehouseDriver,
  source: SourceDefinition,
  timeoutMs: number,
): Promise<{ rowCount: number; bounds: SourceInspection['bounds'] }> {
  const result = await driver.query({
    sql: boundsSql(source.fromSql, quoteIdentifier(source.spatialDataColumn)),
    params: source.queryParameters,
    timeoutMs,
  });
  const row = result.rows[0];
  if (!row) return { rowCount: 0, bounds: null };
  const box = [row.west, row.south, row.east, row.north].map((v) => (v === null ? NaN : Number(v)));
  const isFinite = box.every((v) => Number.isFinite(v));
  return {
    rowCount: Number(row.rowCount),
    bounds: isFinite ? (box as [number, number, number, number]) : null,
  };
}

/**
 * Estimates, zoom by zoom, the share of features a tile leaves out because of the feature cap,
 * by counting features per tile of a representative point. Stops at the first zoom where no
 * tile is over the cap: deeper tiles only get emptier.
 */
async function estimateDroppedFractions(
  driver: WarehouseDriver,
  source: SourceDefinition,
  rowCount: number,
  limits: InspectionLimits,
): Promise<number[]> {
  const fractions = new Array<number>(limits.maxZoom + 1).fill(0);
  if (rowCount <= limits.maxTileFeatures) return fractions;
  const geom = quoteIdentifier(source.spatialDataColumn);
  for (let z = 0; z <= limits.maxZoom; z += 1) {
    const result = await driver.query({
      sql: droppedFractionSql(source.fromSql, geom, z, limits.maxTileFeatures),
      params: source.queryParameters,
      timeoutMs: limits.timeoutMs,
    });
    const fraction = Number(result.rows[0]?.fraction ?? 0);
    fractions[z] = Number.isFinite(fraction) ? Math.round(fraction * 1e4) / 1e4 : 0;
    if (fractions[z] === 0) break;
  }
  return fractions;
}

const droppedFractionSql = (fromSql: string, geom: string, z: number, cap: number) => `
  SELECT sum(greatest(n - ${cap}, 0))::float8 / nullif(sum(n), 0) AS "fraction"
  FROM (
    SELECT count(*) AS n
    FROM (
      SELECT ST_Transform(ST_PointOnSurface(${geom}), 3857) AS p
      FROM ${fromSql}
      WHERE ${geom} IS NOT NULL AND NOT ST_IsEmpty(${geom})
    ) AS "_points"
    GROUP BY floor((ST_X(p) + 20037508.342789244) / (40075016.685578488 / ${2 ** z})),
             floor((20037508.342789244 - ST_Y(p)) / (40075016.685578488 / ${2 ** z}))
  ) AS "_tiles"`;

/** Reads columns, bounds, counts and tilestats of a source. */
export async function inspectSource(
  driver: WarehouseDriver,
  source: SourceDefinition,
  limits: InspectionLimits,
): Promise<SourceInspection> {
  if (source.type === 'table') await assertTableExists(driver, source, limits.timeoutMs);
  const described = await driver.query({
    sql: `SELECT * FROM ${source.fromSql} LIMIT 0`,
    params: source.queryParameters,
    timeoutMs: limits.timeoutMs,
  });
  const fields = described.fields;
  const geometryField = fields.find((f) => f.name === source.spatialDataColumn);
  if (!geometryField || geometryField.cartoType !== 'geometry') {
    throw errors.noGeometryColumn(source.spatialDataColumn);
  }
  const properties = pickProperties(source, fields);

  const { rowCount, bounds } = await readCountAndBounds(driver, source, limits.timeoutMs);
  const tilestats = await computeTilestats(driver, source, properties, rowCount, limits.timeoutMs);
  const fractionDroppedPerZoom = await estimateDroppedFractions(driver, source, rowCount, limits);
  return {
    fields,
    geometryField,
    properties,
    rowCount,
    bounds,
    tilestats,
    fractionDroppedPerZoom,
    inspectedAt: Math.floor(Date.now() / 1000),
  };
}
