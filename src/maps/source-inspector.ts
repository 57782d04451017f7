import { errors } from '../http/errors.js';
import type { WarehouseDriver, WarehouseField } from '../warehouses/driver.js';
import { quoteIdentifier } from './table-name.js';
import type { SourceDefinition } from './source-definition.js';
import { computeTilestats, scaleTilestats, type Tilestats } from './tilestats.js';
import { tilePropertyOf } from './tiles/tile-properties.js';
import { dialectForProvider } from '../sql-builder/dialect.js';
import { identifier, render } from '../sql-builder/sql.js';
import { SourceColumns } from '../widgets/columns.js';
import { filtersCondition } from '../widgets/filters.js';
import { checkedSelectListText } from '../widgets/expression.js';
import {
  inspectSpatialIndexSource,
  type SpatialIndexInspection,
} from './spatial-index/spatial-source.js';

/** What a source holds, learned once per source and cached. */
export interface SourceInspection {
  fields: WarehouseField[];
  geometryField: WarehouseField;
  /** Columns that go into tiles, in order. */
  properties: WarehouseField[];
  rowCount: number;
  /** [west, south, east, north] in WGS84, or null when no row has a usable geometry. */
  bounds: [number, number, number, number] | null;
  /** SRID of the geometries (4326 when unknown or when there are none). */
  srid: number;
  tilestats: Tilestats;
  /** Share of features left out of tiles at each zoom because of the per-tile feature cap. */
  fractionDroppedPerZoom: number[];
  /** Unix seconds when the inspection ran; it versions the URLs we hand out. */
  inspectedAt: number;
  /** FROM-able SQL of the rows tiles draw (the source with its filters), and its binds. */
  fromSql: string;
  params: unknown[];
  /** Set for h3 and quadbin sources, whose tiles are cells, not features. */
  spatialIndex?: SpatialIndexInspection;
}

export interface InspectionLimits {
  timeoutMs: number;
  maxTileFeatures: number;
  maxZoom: number;
  /** Tables the planner estimates larger than this get statistics from a sample. */
  exactStatsRows: number;
}

/** Rows a statistics sample aims at: enough for quantiles and top categories. */
const SAMPLE_ROWS = 30_000;

export async function assertTableExists(
  driver: WarehouseDriver,
  source: SourceDefinition,
  timeoutMs: number,
): Promise<void> {
  const result = await driver.query({
    readOnly: true,
    sql: 'SELECT to_regclass($1) IS NOT NULL AS "exists"',
    params: [source.fromSql],
    timeoutMs,
  });
  if (result.rows[0]?.exists !== true) throw errors.tableNotFound(source.name!);
}

function pickProperties(source: SourceDefinition, fields: WarehouseField[]): WarehouseField[] {
  // The same rule the tile encoder applies, so TileJSON lists exactly what tiles carry.
  const tileable = (f: WarehouseField) =>
    f.name !== source.spatialDataColumn && tilePropertyOf(f) !== null;
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
  SELECT n AS "rowCount", srid AS "srid", ST_XMin(e) AS "west", ST_YMin(e) AS "south",
         ST_XMax(e) AS "east", ST_YMax(e) AS "north"
  FROM (
    SELECT count(*)::float8 AS n,
           coalesce(nullif(max(ST_SRID(g)), 0), 4326) AS srid,
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
): Promise<Pick<SourceInspection, 'rowCount' | 'bounds' | 'srid'>> {
  const result = await driver.query({
    readOnly: true,
    sql: boundsSql(source.fromSql, quoteIdentifier(source.spatialDataColumn)),
    params: source.queryParameters,
    timeoutMs,
  });
  const row = result.rows[0];
  if (!row) return { rowCount: 0, bounds: null, srid: 4326 };
  const box = [row.west, row.south, row.east, row.north].map((v) => (v === null ? NaN : Number(v)));
  const isFinite = box.every((v) => Number.isFinite(v));
  return {
    rowCount: Number(row.rowCount),
    srid: Number(row.srid),
    bounds: isFinite ? (box as [number, number, number, number]) : null,
  };
}

/** Zoom levels covered by one counting pass; the per-cell counts roll up to coarser zooms. */
const ZOOMS_PER_PASS = 8;

/**
 * Estimates, zoom by zoom, the share of features a tile leaves out because of the feature cap.
 * Features are counted once per cell of the finest zoom of a pass (by the centre of their
 * bounding box), and the counts are rolled up to each coarser zoom, so one scan covers eight
 * zooms. A further pass runs only while tiles at the finest zoom are still over the cap.
 */
async function estimateDroppedFractions(
  driver: WarehouseDriver,
  source: SourceDefinition,
  rowCount: number,
  srid: number,
  limits: InspectionLimits,
  /** Rows each row of `source` stands for (a sample stands for the whole table). */
  scale = 1,
): Promise<number[]> {
  const fractions = new Array<number>(limits.maxZoom + 1).fill(0);
  if (rowCount <= limits.maxTileFeatures) return fractions;
  for (let first = 0; first <= limits.maxZoom; first += ZOOMS_PER_PASS) {
    const last = Math.min(limits.maxZoom, first + ZOOMS_PER_PASS);
    const result = await driver.query({
      readOnly: true,
      sql: droppedFractionSql(source, srid, first, last, limits.maxTileFeatures, scale),
      params: source.queryParameters,
      timeoutMs: limits.timeoutMs,
    });
    for (const row of result.rows) {
      const fraction = Number(row.fraction);
      fractions[Number(row.z)] = Number.isFinite(fraction) ? Math.round(fraction * 1e4) / 1e4 : 0;
    }
    if (fractions[last] === 0) break;
  }
  return fractions;
}

function droppedFractionSql(
  source: SourceDefinition,
  srid: number,
  firstZoom: number,
  lastZoom: number,
  cap: number,
  scale: number,
): string {
  const column = quoteIdentifier(source.spatialDataColumn);
  const geom = srid === 4326 ? column : `ST_Transform(${column}, 4326)`;
  return `
  WITH "_cells" AS (
    SELECT floor(u * ${2 ** lastZoom})::bigint AS cx, floor(v * ${2 ** lastZoom})::bigint AS cy,
           count(*) * ${scale}::float8 AS n
    FROM (
      SELECT (lon + 180) / 360 AS u,
             (1 - ln(tan(radians(lat)) + 1 / cos(radians(lat))) / pi()) / 2 AS v
      FROM (
        SELECT (ST_XMin(g) + ST_XMax(g)) / 2 AS lon,
               greatest(-85.05, least(85.05, (ST_YMin(g) + ST_YMax(g)) / 2)) AS lat
        FROM (SELECT ${geom} AS g FROM ${source.fromSql}) AS "_geoms"
        WHERE g IS NOT NULL AND NOT ST_IsEmpty(g)
      ) AS "_centres"
    ) AS "_normalized"
    GROUP BY 1, 2
  )
  SELECT z, sum(greatest(n - ${cap}, 0))::float8 / nullif(sum(n), 0) AS "fraction"
  FROM (
    SELECT z, sum(n) AS n
    FROM "_cells" CROSS JOIN generate_series(${firstZoom}, ${lastZoom}) AS z
    GROUP BY z, cx >> (${lastZoom} - z), cy >> (${lastZoom} - z)
  ) AS "_tiles"
  GROUP BY z`;
}

/**
 * The source narrowed by its CARTO filters, built by the same builder as the widgets so a
 * widget counts what the map draws; the source itself when it has none.
 */
function applyFilters(
  driver: WarehouseDriver,
  source: SourceDefinition,
  fields: WarehouseField[],
): SourceDefinition {
  if (!source.filters) return source;
  const dialect = dialectForProvider(driver.provider);
  const condition = filtersCondition(source.filters, source.filtersLogicalOperator, {
    dialect,
    columns: new SourceColumns(fields),
  });
  if (!condition) return source;
  const { text, params } = render(condition, dialect, source.queryParameters);
  return {
    ...source,
    fromSql: `(SELECT * FROM ${source.fromSql} WHERE ${text}) AS "_filtered"`,
    queryParameters: params,
  };
}

/** The property every tile feature carries for clients to deduplicate and pick it by. */
export const FEATURE_ID_FIELD: WarehouseField = {
  name: '_carto_feature_id',
  nativeType: 'text',
  cartoType: 'string',
};

/**
 * The drawn rows with CARTO's `_carto_feature_id` (a hash of the geometry, the same in every
 * tile), unless the source has a column of that name. PostgreSQL folds the wrapper into the
 * tile query, so only the features of a tile are hashed.
 */
function withFeatureIds(
  driver: WarehouseDriver,
  source: SourceDefinition,
  fields: WarehouseField[],
): SourceDefinition {
  if (fields.some((f) => f.name === FEATURE_ID_FIELD.name)) return source;
  const dialect = dialectForProvider(driver.provider);
  const id = render(dialect.featureId(identifier(source.spatialDataColumn)), dialect).text;
  return {
    ...source,
    fromSql:
      `(SELECT *, ${id} AS "${FEATURE_ID_FIELD.name}" FROM ${source.fromSql}) ` + 'AS "_features"',
  };
}

/** The fields of a source's rows, read without reading rows. */
async function describe(
  driver: WarehouseDriver,
  source: Pick<SourceDefinition, 'fromSql' | 'queryParameters'>,
  timeoutMs: number,
): Promise<WarehouseField[]> {
  const described = await driver.query({
    readOnly: true,
    sql: `SELECT * FROM ${source.fromSql} LIMIT 0`,
    params: source.queryParameters,
    timeoutMs,
  });
  return described.fields;
}

/**
 * A geometry source with `aggregationExp`: one row per distinct geometry, carrying the
 * aggregates of the rows that share it.
 */
function aggregateGeometries(source: SourceDefinition): SourceDefinition {
  if (source.aggregationExp === null) return source;
  const selectList = checkedSelectListText(source.aggregationExp, 'aggregationExp');
  const geom = quoteIdentifier(source.spatialDataColumn);
  return {
    ...source,
    fromSql:
      `(SELECT ${geom}, ${selectList} FROM ${source.fromSql} GROUP BY ${geom}) ` +
      'AS "_aggregated"',
  };
}

async function inspectSpatialIndex(
  driver: WarehouseDriver,
  source: SourceDefinition,
  fields: WarehouseField[],
  limits: InspectionLimits,
): Promise<SourceInspection> {
  const drawn = applyFilters(driver, source, fields);
  const estimate = await plannerRowEstimate(driver, source, limits.timeoutMs);
  const sample =
    estimate !== null && estimate > limits.exactStatsRows
      ? { fromSql: sampleOf(source, estimate), estimatedRows: estimate }
      : undefined;
  const summary = await inspectSpatialIndexSource(
    driver,
    source,
    drawn,
    fields,
    limits.timeoutMs,
    sample,
  );
  return {
    fields,
    geometryField: fields.find((f) => f.name === source.spatialDataColumn)!,
    properties: summary.spatialIndex.columns,
    rowCount: summary.rowCount,
    bounds: summary.bounds,
    srid: 4326,
    tilestats: summary.tilestats,
    fractionDroppedPerZoom: [],
    inspectedAt: Math.floor(Date.now() / 1000),
    fromSql: drawn.fromSql,
    params: drawn.queryParameters,
    spatialIndex: summary.spatialIndex,
  };
}

/**
 * The planner's row estimate of a plain table (no filters, no grouped geometries), or null when
 * there is none (never analysed, a view, a query source).
 */
async function plannerRowEstimate(
  driver: WarehouseDriver,
  source: SourceDefinition,
  timeoutMs: number,
): Promise<number | null> {
  const groupsGeometries = source.spatialDataType === 'geo' && source.aggregationExp !== null;
  if (source.type !== 'table' || source.filters || groupsGeometries) return null;
  const result = await driver.query({
    readOnly: true,
    sql: `SELECT reltuples::float8 AS "rows" FROM pg_class
          WHERE oid = to_regclass($1) AND relkind IN ('r', 'm')`,
    params: [source.fromSql],
    timeoutMs,
  });
  const rows = Number(result.rows[0]?.rows ?? -1);
  return rows > 0 ? Math.round(rows) : null;
}

/** A block sample of about SAMPLE_ROWS rows of a table, the same on every call. */
function sampleOf(source: SourceDefinition, estimatedRows: number): string {
  const percent = Math.min(100, (100 * SAMPLE_ROWS) / estimatedRows);
  return (
    `(SELECT * FROM ${source.fromSql} TABLESAMPLE SYSTEM (${percent.toFixed(6)}) ` +
    'REPEATABLE (0)) AS "_sample"'
  );
}

/** WGS84 bounds from PostGIS's column statistics, or null when it has none. */
async function estimatedBounds(
  driver: WarehouseDriver,
  source: SourceDefinition,
  srid: number,
  timeoutMs: number,
): Promise<[number, number, number, number] | null> {
  try {
    const result = await driver.query({
      readOnly: true,
      sql: `SELECT ST_XMin(e) AS "west", ST_YMin(e) AS "south", ST_XMax(e) AS "east",
                   ST_YMax(e) AS "north"
            FROM (
              SELECT ST_Transform(ST_SetSRID(
                       ST_EstimatedExtent(n.nspname, c.relname, $2)::geometry, $3::int4), 4326) AS e
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.oid = to_regclass($1)
            ) AS "_estimate"`,
      params: [source.fromSql, source.spatialDataColumn, srid],
      timeoutMs,
    });
    const row = result.rows[0];
    const box = [row?.west, row?.south, row?.east, row?.north].map((v) =>
      v === null || v === undefined ? NaN : Number(v),
    );
    return box.every((v) => Number.isFinite(v)) ? (box as [number, number, number, number]) : null;
  } catch {
    // No statistics for the column yet: the caller scans instead.
    return null;
  }
}

/**
 * Count, bounds and statistics of a large table without reading all of it: the planner's row
 * estimate, PostGIS's estimated extent, and tilestats and dropped fractions from a block
 * sample of about SAMPLE_ROWS rows, scaled up. Minimum, maximum and quantiles are the
 * sample's; the TileJSON says so in `tilestats.sampled`.
 */
async function readSampledStatistics(
  driver: WarehouseDriver,
  source: SourceDefinition,
  properties: WarehouseField[],
  estimatedRows: number,
  limits: InspectionLimits,
) {
  const sample: SourceDefinition = { ...source, fromSql: sampleOf(source, estimatedRows) };
  const sampled = await readCountAndBounds(driver, sample, limits.timeoutMs);
  const bounds =
    (await estimatedBounds(driver, source, sampled.srid, limits.timeoutMs)) ??
    (await readCountAndBounds(driver, source, limits.timeoutMs)).bounds;
  const scale = estimatedRows / Math.max(1, sampled.rowCount);
  const tilestats = scaleTilestats(
    await computeTilestats(driver, sample, properties, estimatedRows, limits.timeoutMs),
    scale,
  );
  const fractionDroppedPerZoom = await estimateDroppedFractions(
    driver,
    sample,
    estimatedRows,
    sampled.srid,
    limits,
    scale,
  );
  return {
    rowCount: estimatedRows,
    bounds,
    srid: sampled.srid,
    tilestats: { ...tilestats, sampled: true },
    fractionDroppedPerZoom,
  };
}

/** Exact count, bounds and statistics, from full scans of the drawn rows. */
async function readExactStatistics(
  driver: WarehouseDriver,
  drawn: SourceDefinition,
  properties: WarehouseField[],
  limits: InspectionLimits,
) {
  const { rowCount, bounds, srid } = await readCountAndBounds(driver, drawn, limits.timeoutMs);
  const tilestats = await computeTilestats(driver, drawn, properties, rowCount, limits.timeoutMs);
  const fractionDroppedPerZoom = await estimateDroppedFractions(
    driver,
    drawn,
    rowCount,
    srid,
    limits,
  );
  return { rowCount, bounds, srid, tilestats, fractionDroppedPerZoom };
}

/** The property deck.gl's label layers read a feature's whole extent from. */
export const FEATURE_BBOX_FIELD: WarehouseField = {
  name: '_carto_bbox',
  nativeType: 'text',
  cartoType: 'string',
};

/**
 * The drawn rows with `_carto_bbox`, `west,south,east,north` of the whole geometry in WGS84
 * (not of the part a tile clips), so a label lands on the feature's centre in every tile.
 */
function withFeatureBboxes(source: SourceDefinition): SourceDefinition {
  const geom = quoteIdentifier(source.spatialDataColumn);
  const box = '"_carto_bbox_box"';
  const envelope = `CASE WHEN ST_SRID(${geom}) IN (0, 4326) THEN ST_Envelope(${geom})
      ELSE ST_Transform(ST_Envelope(${geom}), 4326) END`;
  const corners = ['ST_XMin', 'ST_YMin', 'ST_XMax', 'ST_YMax'].map((f) => `${f}(${box})`);
  return {
    ...source,
    fromSql: `(SELECT *, concat_ws(',', ${corners.join(', ')}) AS "${FEATURE_BBOX_FIELD.name}"
      FROM (SELECT *, ${envelope} AS ${box} FROM ${source.fromSql}) AS "_boxed") AS "_bboxes"`,
  };
}

/**
 * Longitude/latitude rows whose geometries reach past ±180 (a Pacific polygon stored from 170
 * to 190) also appear shifted by 360 degrees, so tiles on both sides of the antimeridian draw
 * them; the copies keep the original's properties and feature id. Sources within ±180 are
 * left as they are. Each copy's rows are found through the spatial index.
 */
function withCopiesAcrossAntimeridian(
  source: SourceDefinition,
  bounds: [number, number, number, number] | null,
  srid: number,
  properties: WarehouseField[],
): SourceDefinition {
  if (!bounds || (srid !== 4326 && srid !== 0)) return source;
  const [west, , east] = bounds;
  if (west >= -180 && east <= 180) return source;
  const geom = quoteIdentifier(source.spatialDataColumn);
  const others = properties
    .filter((f) => f.name !== source.spatialDataColumn)
    .map((f) => quoteIdentifier(f.name));
  const select = (shape: string, where: string) =>
    `SELECT ${[`${shape} AS ${geom}`, ...others].join(', ')} FROM ${source.fromSql}${where}`;
  const beyond = (from: number, to: number) =>
    ` WHERE ${geom} && ST_MakeEnvelope(${from}, -90, ${to}, 90, ${srid})`;
  const parts = [select(geom, '')];
  if (east > 180) parts.push(select(`ST_Translate(${geom}, -360, 0)`, beyond(180, 1e9)));
  if (west < -180) parts.push(select(`ST_Translate(${geom}, 360, 0)`, beyond(-1e9, -180)));
  return { ...source, fromSql: `(${parts.join('\n  UNION ALL ')}) AS "_wrapped"` };
}

/** Reads columns, bounds, counts and tilestats of a source. */
export async function inspectSource(
  driver: WarehouseDriver,
  source: SourceDefinition,
  limits: InspectionLimits,
): Promise<SourceInspection> {
  if (source.type === 'table') await assertTableExists(driver, source, limits.timeoutMs);
  const sourceFields = await describe(driver, source, limits.timeoutMs);
  if (source.spatialDataType !== 'geo') {
    return inspectSpatialIndex(driver, source, sourceFields, limits);
  }
  const geometryField = sourceFields.find((f) => f.name === source.spatialDataColumn);
  if (!geometryField || geometryField.cartoType !== 'geometry') {
    throw errors.noGeometryColumn(source.spatialDataColumn);
  }
  if (geometryField.nativeType !== 'geometry') {
    // TODO: serve geography columns directly; they answer 400 with the workaround for now.
    throw errors.unsupportedParameter(
      'spatialDataColumn',
      `'${source.spatialDataColumn}' is a ${geometryField.nativeType}; ` +
        'use a query source that casts it to geometry',
    );
  }
  const filtered = applyFilters(driver, source, sourceFields);
  // Filters narrow the rows before identical geometries are aggregated.
  const drawn = aggregateGeometries(filtered);
  const fields =
    drawn === filtered ? sourceFields : await describe(driver, drawn, limits.timeoutMs);
  // The aggregates are the properties of an aggregated source, whatever `columns` says.
  const properties = pickProperties(
    drawn === filtered ? source : { ...drawn, columns: null },
    fields,
  );
  const identified = withFeatureIds(driver, drawn, fields);
  const labelled = source.featureBbox ? withFeatureBboxes(identified) : identified;
  const extra = [
    ...(identified === drawn ? [] : [FEATURE_ID_FIELD]),
    ...(source.featureBbox ? [FEATURE_BBOX_FIELD] : []),
  ];

  const estimate = await plannerRowEstimate(driver, source, limits.timeoutMs);
  const { rowCount, bounds, srid, tilestats, fractionDroppedPerZoom } =
    estimate !== null && estimate > limits.exactStatsRows
      ? await readSampledStatistics(driver, drawn, properties, estimate, limits)
      : await readExactStatistics(driver, drawn, properties, limits);
  const tileProperties = [...properties, ...extra];
  const wrapped = withCopiesAcrossAntimeridian(labelled, bounds, srid, tileProperties);
  return {
    fields: sourceFields,
    geometryField,
    properties: tileProperties,
    rowCount,
    // The world's width when copies stand on both sides of the antimeridian.
    bounds: wrapped === labelled || !bounds ? bounds : [-180, bounds[1], 180, bounds[3]],
    srid,
    tilestats,
    fractionDroppedPerZoom,
    inspectedAt: Math.floor(Date.now() / 1000),
    fromSql: wrapped.fromSql,
    params: wrapped.queryParameters,
  };
}
