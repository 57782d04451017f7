import type { WarehouseDriver, WarehouseField } from '../warehouses/driver.js';
import type { SourceDefinition } from './source-definition.js';
import { quoteIdentifier } from './table-name.js';

/** TileJSON attribute types, as CARTO's clients read them. */
export type TilestatsType = 'Number' | 'String' | 'Boolean' | 'Timestamp';

export interface TilestatsAttribute {
  attribute: string;
  type: TilestatsType;
  min?: number | string | null;
  max?: number | string | null;
  sum?: number | null;
  avg?: number | null;
  /** Bucket count (3..20) → the bucket-count − 1 break values. */
  quantiles?: Record<string, number[]>;
  categories?: { category: unknown; frequency: number }[];
}

export interface Tilestats {
  /** True when the figures come from a sample of a large table (sums and counts scaled). */
  sampled?: boolean;
  layerCount: 1;
  layers: [
    {
      layer: 'default';
      count: number;
      geometry: string | null;
      attributeCount: number;
      attributes: TilestatsAttribute[];
    },
  ];
}

const MIN_BUCKETS = 3;
const MAX_BUCKETS = 20;
/** Most categories a text or boolean attribute lists, most frequent first. */
export const TOP_CATEGORIES = 20;

/** Every break fraction k/n for n in 3..20, each once, in ascending order. */
export const QUANTILE_FRACTIONS = [
  ...new Set(
    Array.from({ length: MAX_BUCKETS - MIN_BUCKETS + 1 }, (_, i) => i + MIN_BUCKETS).flatMap((n) =>
      Array.from({ length: n - 1 }, (_, k) => Math.round(((k + 1) / n) * 1e12) / 1e12),
    ),
  ),
].sort((a, b) => a - b);

export function tilestatsType(field: WarehouseField): TilestatsType {
  switch (field.cartoType) {
    case 'number':
    case 'bigint':
      return 'Number';
    case 'boolean':
      return 'Boolean';
    case 'timestamp':
      return 'Timestamp';
    default:
      return 'String';
  }
}

/** Bit flags for the geometry families found in a source, OR-ed together in SQL. */
const GEOMETRY_FLAGS = `bit_or(CASE
             WHEN "g" IS NULL OR ST_IsEmpty("g") THEN 0
             ELSE CASE replace(ST_GeometryType("g"), 'ST_Multi', 'ST_')
               WHEN 'ST_Point' THEN 1 WHEN 'ST_LineString' THEN 2 WHEN 'ST_Polygon' THEN 4
               ELSE 8 END
           END)`;

/** One TileJSON geometry type from the flags; mixed or exotic sources are 'Unknown'. */
function summarizeGeometryTypes(flags: unknown): string | null {
  const names: Record<number, string> = { 1: 'Point', 2: 'LineString', 4: 'Polygon' };
  const value = Number(flags ?? 0);
  if (!value) return null;
  return names[value] ?? 'Unknown';
}

const finite = (expr: string) =>
  `nullif(nullif(nullif((${expr})::float8, 'NaN'), 'Infinity'), '-Infinity')`;

/**
 * One pass over the source for the geometry types and every numeric column's figures. The mean
 * is the sum over the count: PostgreSQL's `avg` of doubles also sums their squares, which
 * overflows (an error, failing the whole TileJSON) from about 1.3e154.
 */
function numericStatsSql(fromSql: string, geom: string, numeric: WarehouseField[]): string {
  const fractions = `ARRAY[${QUANTILE_FRACTIONS.join(',')}]::float8[]`;
  const values = numeric.map((f, i) => `${finite(quoteIdentifier(f.name))} AS "v${i}"`);
  const aggregates = numeric.map(
    (_, i) => `min("v${i}") AS "min${i}", max("v${i}") AS "max${i}", sum("v${i}") AS "sum${i}",
           sum("v${i}") / nullif(count("v${i}"), 0) AS "avg${i}",
           percentile_disc(${fractions}) WITHIN GROUP (ORDER BY "v${i}") AS "q${i}"`,
  );
  return `
    SELECT ${[`${GEOMETRY_FLAGS} AS "geometryFlags"`, ...aggregates].join(',\n           ')}
    FROM (
      SELECT ${[`${geom} AS "g"`, ...values].join(',\n             ')}
      FROM ${fromSql}
    ) AS "_values"`;
}

const categoriesSql = (fromSql: string, column: string) => `
  SELECT ${column} AS "category", count(*)::float8 AS "frequency"
  FROM ${fromSql}
  WHERE ${column} IS NOT NULL
  GROUP BY 1
  ORDER BY 2 DESC, 1
  LIMIT ${TOP_CATEGORIES}`;

const timeRangeSql = (fromSql: string, column: string) => `
  SELECT min(${column}) AS "min", max(${column}) AS "max" FROM ${fromSql}`;

/**
 * The quantiles of an attribute from its break values, one per `QUANTILE_FRACTIONS` entry in
 * that order; undefined when there are none (no finite values).
 */
export function toQuantiles(breaks: unknown): Record<string, number[]> | undefined {
  if (!Array.isArray(breaks) || breaks.some((b) => b === null)) return undefined;
  const byFraction = new Map(QUANTILE_FRACTIONS.map((f, i) => [f, Number(breaks[i])]));
  const quantiles: Record<string, number[]> = {};
  for (let n = MIN_BUCKETS; n <= MAX_BUCKETS; n += 1) {
    quantiles[String(n)] = Array.from({ length: n - 1 }, (_, k) =>
      byFraction.get(Math.round(((k + 1) / n) * 1e12) / 1e12)!,
    );
  }
  return quantiles;
}

/**
 * Computes TileJSON tilestats in the warehouse: geometry type, numeric min/max/sum/avg and
 * quantiles in one pass, then the most frequent values of each text or boolean column.
 * Non-finite numbers are ignored, so NaN never reaches the JSON.
 */
export async function computeTilestats(
  driver: WarehouseDriver,
  source: SourceDefinition,
  properties: WarehouseField[],
  rowCount: number,
  timeoutMs: number,
  /** False for sources without geometries (spatial-index cells): no geometry type. */
  hasGeometry = true,
): Promise<Tilestats> {
  const run = (sql: string) =>
    driver
      .query({ sql, params: source.queryParameters, timeoutMs, readOnly: true })
      .then((r) => r.rows);
  const numeric = properties.filter((f) => tilestatsType(f) === 'Number');
  const geom = hasGeometry ? quoteIdentifier(source.spatialDataColumn) : 'NULL::geometry';
  const [stats = {}] = await run(numericStatsSql(source.fromSql, geom, numeric));

  const attributes: TilestatsAttribute[] = [];
  for (const field of properties) {
    const type = tilestatsType(field);
    const column = quoteIdentifier(field.name);
    const attribute: TilestatsAttribute = { attribute: field.name, type };
    if (type === 'Number') {
      const i = numeric.indexOf(field);
      const num = (key: string) => (stats[key] === null ? null : Number(stats[key]));
      Object.assign(attribute, {
        min: num(`min${i}`),
        max: num(`max${i}`),
        sum: num(`sum${i}`),
        avg: num(`avg${i}`),
      });
      const quantiles = toQuantiles(stats[`q${i}`]);
      if (quantiles) attribute.quantiles = quantiles;
    } else if (type === 'Timestamp') {
      const [range] = await run(timeRangeSql(source.fromSql, column));
      Object.assign(attribute, { min: range?.min ?? null, max: range?.max ?? null });
    } else if (field.cartoType !== 'object') {
      const rows = await run(categoriesSql(source.fromSql, column));
      attribute.categories = rows.map((r) => ({
        category: r.category,
        frequency: Number(r.frequency),
      }));
    }
    attributes.push(attribute);
  }
  return {
    layerCount: 1,
    layers: [
      {
        layer: 'default',
        count: rowCount,
        geometry: summarizeGeometryTypes(stats.geometryFlags),
        attributeCount: attributes.length,
        attributes,
      },
    ],
  };
}

/** Sums and frequencies of a sample's tilestats, scaled to the whole table. */
export function scaleTilestats(tilestats: Tilestats, scale: number): Tilestats {
  const [layer] = tilestats.layers;
  const attributes = layer.attributes.map((a) => ({
    ...a,
    ...(typeof a.sum === 'number' ? { sum: a.sum * scale } : {}),
    ...(a.categories
      ? {
          categories: a.categories.map((c) => ({
            ...c,
            frequency: Math.round(c.frequency * scale),
          })),
        }
      : {}),
  }));
  return { ...tilestats, layers: [{ ...layer, attributes }] };
}
