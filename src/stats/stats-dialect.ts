/**
 * Quantile SQL for the Stats API, by dialect name. Every warehouse spells percentiles its own
 * way and only stats needs them, so they live here rather than in the shared dialect: exact
 * `percentile_disc` over an array of fractions on PostGIS, approximate functions elsewhere
 * (one call per fraction where the function takes a single fraction).
 */
import { QUANTILE_FRACTIONS } from '../maps/tilestats.js';
import type { DialectName } from '../sql-builder/dialect.js';
import { identifier, raw, sql, type Sql } from '../sql-builder/sql.js';

export interface QuantileSql {
  /** Select items holding the breaks of `expr` at every quantile fraction. */
  items(expr: Sql, alias: string): Sql[];
  /** The breaks read back from a result row, in the order of `QUANTILE_FRACTIONS`. */
  read(row: Record<string, unknown>, alias: string): unknown[] | null;
}

/** BigQuery's APPROX_QUANTILES cuts into this many parts; a fraction reads the nearest cut. */
const BIGQUERY_PARTS = 1000;

/** The fractions as SQL number literals; they are constants of this code, never input. */
const FRACTION_LITERALS = QUANTILE_FRACTIONS.map((fraction) => raw(String(fraction)));
const FRACTION_LIST = raw(QUANTILE_FRACTIONS.join(', '));

function fractionAlias(alias: string, index: number): string {
  return `${alias}_${index}`;
}

/** Dialects whose function takes one fraction: one select item per fraction. */
function perFraction(call: (expr: Sql, fraction: Sql) => Sql): QuantileSql {
  return {
    items: (expr, alias) =>
      FRACTION_LITERALS.map(
        (fraction, i) => sql`${call(expr, fraction)} AS ${identifier(fractionAlias(alias, i))}`,
      ),
    read: (row, alias) => QUANTILE_FRACTIONS.map((_, i) => row[fractionAlias(alias, i)] ?? null),
  };
}

/** Dialects whose function returns every break at once, as an array. */
function asArray(call: (expr: Sql) => Sql): QuantileSql {
  return {
    items: (expr, alias) => [sql`${call(expr)} AS ${identifier(alias)}`],
    read: (row, alias) => (Array.isArray(row[alias]) ? (row[alias] as unknown[]) : null),
  };
}

const bigQueryQuantiles: QuantileSql = {
  items: (expr, alias) => [
    sql`APPROX_QUANTILES(${expr}, ${raw(String(BIGQUERY_PARTS))}) AS ${identifier(alias)}`,
  ],
  read: (row, alias) => {
    const cuts = row[alias];
    if (!Array.isArray(cuts) || cuts.length !== BIGQUERY_PARTS + 1) return null;
    return QUANTILE_FRACTIONS.map((fraction) => cuts[Math.round(fraction * BIGQUERY_PARTS)]);
  },
};

const QUANTILES: Record<DialectName, QuantileSql> = {
  postgis: asArray((expr) => {
    const fractions = sql`CAST(ARRAY[${FRACTION_LIST}] AS DOUBLE PRECISION[])`;
    return sql`percentile_disc(${fractions}) WITHIN GROUP (ORDER BY ${expr})`;
  }),
  redshift: perFraction(
    (expr, fraction) =>
      sql`APPROXIMATE PERCENTILE_DISC(${fraction}) WITHIN GROUP (ORDER BY ${expr})`,
  ),
  bigquery: bigQueryQuantiles,
  snowflake: perFraction((expr, fraction) => sql`APPROX_PERCENTILE(${expr}, ${fraction})`),
  databricks: asArray((expr) => sql`approx_percentile(${expr}, array(${FRACTION_LIST}))`),
};

/** The quantile SQL of a dialect. */
export function quantileSqlFor(dialect: DialectName): QuantileSql {
  return QUANTILES[dialect];
}

/**
 * The mean of a number column. Redshift's AVG of an integer column is an integer, so it
 * averages the values as doubles there. PostgreSQL's AVG of doubles also sums their squares,
 * which overflows (an error) from about 1.3e154: there the mean is the sum over the count.
 */
export function averageOf(dialect: DialectName, expr: Sql): Sql {
  if (dialect === 'redshift') return sql`avg(CAST(${expr} AS DOUBLE PRECISION))`;
  if (dialect === 'postgis') {
    return sql`CAST(sum(${expr}) AS DOUBLE PRECISION) / NULLIF(count(${expr}), 0)`;
  }
  return sql`avg(${expr})`;
}
