/**
 * The answers of the Stats API. One column's answer has the shape of one entry of TileJSON
 * tilestats `layers[0].attributes` (fetchMap swaps it in), except for a geometry column,
 * which answers its WGS84 extent as `getExtent()` reads it. Filters always apply.
 */
import {
  QUANTILE_FRACTIONS,
  tilestatsType,
  toQuantiles,
  type TilestatsType,
} from '../maps/tilestats.js';
import type { WarehouseField } from '../warehouses/driver.js';
import type { PreparedSource } from '../widgets/widget-source.js';
import { errors } from '../http/errors.js';
import {
  BOUNDS_RESOLUTION,
  ancestorSql,
  boundsOfCells,
  cellAsBigintSql,
  schemeOf,
  type SpatialIndexType,
} from '../maps/spatial-index/cells.js';
import { quoteIdentifier } from '../maps/table-name.js';
import { identifier, raw, sql } from '../sql-builder/sql.js';
import { quantileSqlFor } from './stats-dialect.js';
import {
  categoriesStatement,
  summaryAlias,
  summaryStatement,
  type ExtentKey,
  type StatsSource,
  type SummaryColumn,
} from './stats-sql.js';

export type Extent = Record<ExtentKey, number | null>;

export interface AttributeStats {
  attribute: string;
  type: TilestatsType;
  min?: number | string | null;
  max?: number | string | null;
  avg?: number | null;
  sum?: number | null;
  /** Bucket count (3..20) → its break values; null when the column has no finite value. */
  quantiles?: Record<string, number[]> | null;
  categories?: { category: unknown; frequency: number }[];
}

export type ColumnStats = AttributeStats | { extent: Extent };

export interface SourceStats {
  /** Rows of the source that pass the filters. */
  count: number;
  /** One entry per column that is not a geometry, in the source's order. */
  attributes: AttributeStats[];
  /** The extent of the source's spatial column, when it has one. */
  extent?: Extent;
}

type Row = Record<string, unknown>;

/** What is computed for a column: one-pass statistics, a grouping, or nothing. */
type ColumnPlan =
  | { kind: 'number' | 'time' | 'extent' }
  | { kind: 'categories'; asText: boolean }
  | { kind: 'none' };

/** Native types of bytes: their values have no useful categories (raster bands among them). */
const BINARY_TYPES = new Set(['bytea', 'BYTES', 'BINARY', 'binary', 'varbyte']);

function planFor(field: WarehouseField): ColumnPlan {
  if (field.cartoType === 'geometry') return { kind: 'extent' };
  if (BINARY_TYPES.has(field.nativeType)) return { kind: 'none' };
  switch (tilestatsType(field)) {
    case 'Number':
      return { kind: 'number' };
    case 'Timestamp':
      return { kind: 'time' };
    default:
      // JSON and arrays have no useful categories; types the driver does not know are
      // grouped by their text, which every warehouse can compare.
      if (field.cartoType === 'object') return { kind: 'none' };
      return {
        kind: 'categories',
        asText: field.cartoType === 'unknown' || field.cartoType === 'variant',
      };
  }
}

function finiteNumber(raw: unknown): number | null {
  if (raw === null || raw === undefined) return null;
  const number = Number(raw);
  return Number.isFinite(number) ? number : null;
}

function timeValue(raw: unknown): string | number | null {
  if (raw instanceof Date) return raw.toISOString();
  if (typeof raw === 'string' || typeof raw === 'number') return raw;
  return null;
}

function quantilesFrom(breaks: unknown[] | null): Record<string, number[]> | null {
  if (breaks?.length !== QUANTILE_FRACTIONS.length) return null;
  if (!breaks.every((b) => finiteNumber(b) !== null)) return null;
  return toQuantiles(breaks) ?? null;
}

function extentFrom(row: Row, index: number): Extent {
  const read = (key: ExtentKey) => finiteNumber(row[summaryAlias(index, key)]);
  return { xmin: read('xmin'), ymin: read('ymin'), xmax: read('xmax'), ymax: read('ymax') };
}

function numberStats(source: StatsSource, field: WarehouseField, row: Row, index: number) {
  const read = (statistic: string) => finiteNumber(row[summaryAlias(index, statistic)]);
  const breaks = quantileSqlFor(source.dialect.name).read(row, summaryAlias(index, 'q'));
  return {
    attribute: field.name,
    type: 'Number' as const,
    avg: read('avg'),
    sum: read('sum'),
    min: read('min'),
    max: read('max'),
    quantiles: quantilesFrom(breaks),
  };
}

function timeStats(field: WarehouseField, row: Row, index: number): AttributeStats {
  return {
    attribute: field.name,
    type: 'Timestamp',
    min: timeValue(row[summaryAlias(index, 'min')]),
    max: timeValue(row[summaryAlias(index, 'max')]),
  };
}

async function categoryStats(
  source: PreparedSource,
  target: StatsSource,
  field: WarehouseField,
  asText: boolean,
): Promise<AttributeStats> {
  const { rows } = await source.run(categoriesStatement(target, field, asText));
  return {
    attribute: field.name,
    type: tilestatsType(field),
    categories: rows.map((r) => ({ category: r.category, frequency: Number(r.frequency) })),
  };
}

async function summaryColumnOf(
  source: PreparedSource,
  field: WarehouseField,
  kind: 'number' | 'time' | 'extent',
): Promise<SummaryColumn> {
  if (kind !== 'extent') return { kind, field };
  const srid = field.nativeType === 'geography' ? 4326 : await source.sridOf(field.name);
  return { kind, field, srid };
}

async function statsSourceOf(source: PreparedSource): Promise<StatsSource> {
  return { dialect: source.dialect, from: source.from, where: await source.condition() };
}

/** The statistics of one column; 400 "Column not found" when the source has no such column. */
export async function columnStats(source: PreparedSource, column: string): Promise<ColumnStats> {
  const field = source.columns.field(column);
  const target = await statsSourceOf(source);
  const plan = planFor(field);

  if (plan.kind === 'none') return { attribute: field.name, type: tilestatsType(field) };
  if (plan.kind === 'categories') return categoryStats(source, target, field, plan.asText);
  const summary = await summaryColumnOf(source, field, plan.kind);
  const [row = {}] = (await source.run(summaryStatement(target, [summary]))).rows;
  if (summary.kind === 'extent') return { extent: extentFrom(row, 0) };
  return summary.kind === 'number' ? numberStats(target, field, row, 0) : timeStats(field, row, 0);
}

/**
 * The statistics of every column: one pass for numbers, times and the extent of the spatial
 * column, then one grouping per text or boolean column. Geometry columns other than the
 * spatial column are left out.
 */
export async function sourceStats(source: PreparedSource): Promise<SourceStats> {
  const target = await statsSourceOf(source);
  const fields = source.columns.fields.filter((f) => f.cartoType !== 'geometry');
  const spatial = source.columns.fields.find(
    (f) => f.cartoType === 'geometry' && f.name === source.request.spatialDataColumn,
  );

  const summarised = fields.filter((f) => ['number', 'time'].includes(planFor(f).kind));
  const summaries = await Promise.all(
    summarised.map((f) => summaryColumnOf(source, f, planFor(f).kind as 'number' | 'time')),
  );
  if (spatial) summaries.push(await summaryColumnOf(source, spatial, 'extent'));
  const [summaryRows, ...grouped] = await Promise.all([
    source.run(summaryStatement(target, summaries)).then((r) => r.rows),
    ...fields.map((f) => {
      const plan = planFor(f);
      return plan.kind === 'categories' ? categoryStats(source, target, f, plan.asText) : null;
    }),
  ]);

  const row = summaryRows[0] ?? {};
  const attributes = fields.map((field, i): AttributeStats => {
    const index = summarised.indexOf(field);
    if (index < 0) return grouped[i] ?? { attribute: field.name, type: tilestatsType(field) };
    return summaries[index]!.kind === 'number'
      ? numberStats(target, field, row, index)
      : timeStats(field, row, index);
  });
  const answer: SourceStats = { count: finiteNumber(row.count) ?? 0, attributes };
  if (spatial) answer.extent = extentFrom(row, summaries.length - 1);
  return answer;
}

/**
 * `getExtent()` of an h3 or quadbin source: the WGS84 box of its cells (filters applied),
 * from their distinct ancestors at a coarse resolution, as the Maps API's TileJSON bounds.
 */
export async function cellExtent(source: PreparedSource, column: string): Promise<ColumnStats> {
  if (source.dialect.name !== 'postgis') {
    throw errors.unsupportedParameter(
      'spatialDataType',
      'the extent of cells is computed on PostgreSQL connections only',
    );
  }
  const type = source.request.spatialDataType as SpatialIndexType;
  const scheme = schemeOf(type);
  source.columns.field(column);
  const resolution = await source.cellResolutionOf(column);
  const none = { xmin: null, ymin: null, xmax: null, ymax: null };
  if (resolution < 0) return { extent: none };
  const coarse = Math.min(resolution, BOUNDS_RESOLUTION[scheme]);
  const cell = cellAsBigintSql(type, quoteIdentifier(column));
  const condition = await source.condition();
  const { rows } = await source.run(
    sql`SELECT DISTINCT ${raw(`${ancestorSql(scheme, cell, coarse)}::text`)} AS ${identifier('c')}
      FROM ${source.from}
      WHERE ${identifier(column)} IS NOT NULL AND ${condition ?? raw('TRUE')}`,
  );
  const bounds = boundsOfCells(
    scheme,
    rows.map((r) => BigInt(String(r.c))),
  );
  if (!bounds) return { extent: none };
  const [xmin, ymin, xmax, ymax] = bounds;
  return { extent: { xmin, ymin, xmax, ymax } };
}
