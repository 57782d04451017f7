/**
 * The statements of the Stats API, built with the connection's dialect: one pass over the
 * source for every number, time and geometry column asked about (row count, min, max, sum,
 * mean, quantiles, time range, extent), and one grouping per text or boolean column for its
 * most frequent values. Filters arrive as a condition; column names only as identifiers.
 */
import { TOP_CATEGORIES } from '../maps/tilestats.js';
import type { Dialect } from '../sql-builder/dialect.js';
import { identifier, join, raw, sql, EMPTY, type Sql } from '../sql-builder/sql.js';
import type { WarehouseField } from '../warehouses/driver.js';
import { finiteValue } from '../widgets/columns.js';
import { averageOf, quantileSqlFor } from './stats-dialect.js';

/** The source a statement reads: its dialect, FROM item and filter condition. */
export interface StatsSource {
  dialect: Dialect;
  from: Sql;
  where: Sql | null;
}

/** A column summarised in the one-pass statement, by what is computed for it. */
export type SummaryColumn =
  | { kind: 'number'; field: WarehouseField }
  | { kind: 'time'; field: WarehouseField }
  | { kind: 'extent'; field: WarehouseField; srid: number };

export const EXTENT_KEYS = ['xmin', 'ymin', 'xmax', 'ymax'] as const;
export type ExtentKey = (typeof EXTENT_KEYS)[number];

/** Result columns of the one-pass statement are named by position, never by column name. */
export function summaryAlias(index: number, statistic: string): string {
  return `c${index}_${statistic}`;
}

function whereClause(source: StatsSource, extra?: Sql): Sql {
  const conditions: Sql[] = [];
  if (source.where) conditions.push(sql`(${source.where})`);
  if (extra) conditions.push(extra);
  return conditions.length === 0 ? EMPTY : sql` WHERE ${join(conditions, ' AND ')}`;
}

/** The value a column contributes: numbers without NaN/±Infinity, geography as geometry. */
function valueOf(source: StatsSource, column: SummaryColumn): Sql {
  const ref = identifier(column.field.name);
  if (column.kind === 'number') return finiteValue(column.field, (e) => source.dialect.finite(e));
  if (column.kind === 'extent' && column.field.nativeType === 'geography') {
    return sql`CAST(${ref} AS geometry)`;
  }
  return ref;
}

function aggregatesOf(source: StatsSource, column: SummaryColumn, index: number): Sql[] {
  const v = identifier(`v${index}`);
  const as = (expr: Sql, statistic: string) =>
    sql`${expr} AS ${identifier(summaryAlias(index, statistic))}`;
  switch (column.kind) {
    case 'number':
      return [
        as(sql`min(${v})`, 'min'),
        as(sql`max(${v})`, 'max'),
        as(sql`sum(${v})`, 'sum'),
        as(averageOf(source.dialect.name, v), 'avg'),
        ...quantileSqlFor(source.dialect.name).items(v, summaryAlias(index, 'q')),
      ];
    case 'time':
      return [as(sql`min(${v})`, 'min'), as(sql`max(${v})`, 'max')];
    case 'extent':
      return source.dialect
        .extent(v, column.srid)
        .map((expr, i) => as(expr, EXTENT_KEYS[i] ?? String(i)));
  }
}

/**
 * One pass over the source: `count` (rows passing the filters) and, per column, its
 * statistics named by `summaryAlias`. The values are read in a subquery first, so each
 * column's expression (the non-finite check) is written once.
 */
export function summaryStatement(source: StatsSource, columns: readonly SummaryColumn[]): Sql {
  const values = columns.map((c, i) => sql`${valueOf(source, c)} AS ${identifier(`v${i}`)}`);
  const aggregates = columns.flatMap((c, i) => aggregatesOf(source, c, i));
  const inner = values.length > 0 ? join(values) : raw('1');
  return sql`SELECT ${join([sql`count(*) AS ${identifier('count')}`, ...aggregates])}
FROM (SELECT ${inner} FROM ${source.from}${whereClause(source)}) AS ${identifier('_values')}`;
}

/**
 * The most frequent non-null values of a column, most frequent first, ties by value. Columns
 * of types a warehouse may not group (`asText`) are grouped by their text.
 */
export function categoriesStatement(
  source: StatsSource,
  field: WarehouseField,
  asText = false,
): Sql {
  const ref = identifier(field.name);
  const category = asText ? source.dialect.text(ref) : ref;
  return sql`SELECT ${category} AS ${identifier('category')}, count(*) AS ${identifier('frequency')}
FROM ${source.from}${whereClause(source, sql`${ref} IS NOT NULL`)}
GROUP BY 1 ORDER BY 2 DESC, 1 ${source.dialect.paging(TOP_CATEGORIES, 0)}`;
}
