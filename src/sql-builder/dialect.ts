/**
 * What differs between warehouses when Graticule writes SQL for them: quoting, bind markers,
 * and the functions for time, text and geometry. Route code never branches on a provider; it
 * asks the connection's dialect. PostGIS and Redshift statements run in the tests; the
 * others are pinned by golden SQL until their drivers exist.
 */
import { errors } from '../http/errors.js';
import { wrapAsSubquery } from '../warehouses/postgres-sql-text.js';
import { join, raw, sql, value, type Sql, type SqlRenderer } from './sql.js';

export type DialectName = 'postgis' | 'redshift' | 'bigquery' | 'snowflake' | 'databricks';

export const TIME_STEPS = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'] as const;
export type TimeStep = (typeof TIME_STEPS)[number];

/** How a column holds time, which decides how it becomes an instant. */
export type TimeKind = 'timestamptz' | 'timestamp' | 'date' | 'epoch_ms';

export interface Dialect extends SqlRenderer {
  readonly name: DialectName;
  /** A table as a client names it (`schema.table`, quoted parts kept), ready for FROM. */
  table(name: string): Sql;
  /** A query source's statement as a FROM item. */
  subquery(body: string, alias: string): Sql;
  /** The number, or NULL when it is NaN or infinite. */
  finite(expr: Sql): Sql;
  /** The value as text. */
  text(expr: Sql): Sql;
  /** A bound number that may not fit the column's integer type, compared exactly. */
  decimal(expr: Sql): Sql;
  /** Text with the accents of Latin letters removed, as CARTO's clients match searches. */
  foldDiacritics(expr: Sql): Sql;
  /** A regular-expression match of `expr` against the bound `pattern`. */
  regexMatch(expr: Sql, pattern: Sql, caseSensitive: boolean): Sql;
  /** The instant a column holds, by how it holds time. */
  instant(expr: Sql, kind: TimeKind): Sql;
  /** The instant at the bound number of milliseconds since 1970 (UTC). */
  instantFromEpochMs(ms: Sql): Sql;
  /**
   * The start of the step (`multiplier` steps wide, counted from 1970) that holds `instant`,
   * cut on the wall clock of the bound IANA `timezone`, as an instant.
   */
  timeBucket(instant: Sql, step: TimeStep, multiplier: number, timezone: Sql): Sql;
  /** The bin of `expr` among ascending `ticks`: 0 below the first, n at or above the last. */
  bucketIndex(expr: Sql, ticks: readonly number[]): Sql;
  /** A WGS84 geometry from bound GeoJSON text, in the column's SRID where SRIDs exist. */
  geometryFromGeoJson(geojson: Sql, srid: number): Sql;
  intersects(column: Sql, filter: Sql): Sql;
  /**
   * CARTO's `_carto_feature_id`: a hash of a feature's geometry, the same in every tile and
   * zoom, by which clients deduplicate features and ask for them again (`pick`).
   */
  featureId(geometry: Sql): Sql;
  /** The SRID of one geometry, or null where geometries carry none (spherical only). */
  srid(column: Sql): Sql | null;
  /**
   * `[xmin, ymin, xmax, ymax]` select items of the WGS84 extent of a geometry column; SRID 0
   * (unknown) is read as longitude and latitude.
   */
  extent(column: Sql, srid: number): Sql[];
  nullSafeEquals(a: Sql, b: Sql): Sql;
  paging(limit: number, offset: number): Sql;
  /**
   * `expr` is one of `cells` (spatial-index ids: hex or decimal digits only, checked by the
   * caller), which may be many: one bound array where the warehouse binds arrays.
   */
  inCells(expr: Sql, cells: readonly string[], numeric: boolean): Sql;
}

/** `expr IN ($1, $2, ...)`, for warehouses that bind no arrays. */
function inBoundList(expr: Sql, cells: readonly string[]): Sql {
  if (cells.length === 0) return raw('1 = 0');
  return sql`${expr} IN (${join(cells.map((cell) => value(cell)))})`;
}

/** Splits a dotted name, honouring the dialect's quote character; unquoted parts are folded. */
export function splitTableName(
  text: string,
  quote: string,
  fold: (part: string) => string,
  maxParts: number,
  parameter = 'source',
): string[] {
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    let part = '';
    if (text[i] === quote) {
      i += 1;
      for (;;) {
        if (i >= text.length) throw errors.invalidParameter(parameter, 'unterminated quoted name');
        if (text[i] === quote && text[i + 1] === quote) {
          part += quote;
          i += 2;
        } else if (text[i] === quote) {
          i += 1;
          break;
        } else {
          part += text[i];
          i += 1;
        }
      }
    } else {
      const end = text.indexOf('.', i);
      const rawPart = text.slice(i, end < 0 ? text.length : end).trim();
      if (/["`\s;]/.test(rawPart)) {
        throw errors.invalidParameter(parameter, `bad table name part '${rawPart}'`);
      }
      part = fold(rawPart);
      i = end < 0 ? text.length : end;
    }
    if (part === '') throw errors.invalidParameter(parameter, 'empty table name part');
    parts.push(part);
    if (i >= text.length) break;
    if (text[i] !== '.') throw errors.invalidParameter(parameter, `unexpected '${text[i]}'`);
    i += 1;
  }
  if (parts.length > maxParts) {
    throw errors.invalidParameter(parameter, `a table name has at most ${maxParts} parts`);
  }
  return parts;
}

/** Latin letters with accents and what they fold to, for a TRANSLATE every warehouse has. */
export const DIACRITIC_FOLD = (() => {
  let from = '';
  let to = '';
  for (let code = 0xc0; code <= 0x24f; code += 1) {
    const char = String.fromCodePoint(code);
    const folded = char.normalize('NFD').replace(/\p{Diacritic}/gu, '');
    if (folded.length === 1 && folded !== char) {
      from += char;
      to += folded;
    }
  }
  return { from, to };
})();

/** Removes accents the way CARTO's clients do before matching a search. */
export function foldDiacriticsInText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .normalize('NFC');
}

const STEP_SECONDS: Record<Exclude<TimeStep, 'year' | 'month'>, number> = {
  week: 7 * 86_400,
  day: 86_400,
  hour: 3_600,
  minute: 60,
  second: 1,
};
/** 1970-01-05 was a Monday: weeks start on Mondays, as `date_trunc('week')` does. */
const WEEK_ORIGIN_SECONDS = 4 * 86_400;

/** A number written into SQL text: only for numbers this code computed or validated. */
const num = (value: number): Sql => raw(String(value));

/** `fn(expr, '<accented letters>', '<their plain letters>')`: a TRANSLATE call. */
const translateDiacritics = (fn: string, expr: Sql): Sql =>
  sql`${raw(fn)}(${expr}, ${raw(`'${DIACRITIC_FOLD.from}'`)}, ${raw(`'${DIACRITIC_FOLD.to}'`)})`;

function ticksCase(expr: Sql, ticks: readonly number[]): Sql {
  let out = sql`CASE WHEN ${expr} IS NULL THEN NULL`;
  ticks.forEach((tick, i) => {
    out = sql`${out} WHEN ${expr} < ${tick} THEN ${num(i)}`;
  });
  return sql`${out} ELSE ${num(ticks.length)} END`;
}

/** PostgreSQL and its relatives: double-quoted identifiers folded to lower case, `$n` binds. */
class PostgresFamilyDialect implements Dialect {
  constructor(readonly name: 'postgis' | 'redshift') {}

  quoteIdentifier(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
  }

  placeholder(index: number): string {
    return `$${index}`;
  }

  table(name: string): Sql {
    const parts = splitTableName(name, '"', (p) => p.toLowerCase(), 3);
    // A three-part name starts with the connection's own database, which PostgreSQL omits.
    return raw(
      parts
        .slice(-2)
        .map((p) => this.quoteIdentifier(p))
        .join('.'),
    );
  }

  subquery(body: string, alias: string): Sql {
    return raw(wrapAsSubquery(body, alias));
  }

  finite(expr: Sql): Sql {
    return sql`CASE WHEN ${expr} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE ${expr} END`;
  }

  text(expr: Sql): Sql {
    return sql`CAST(${expr} AS VARCHAR)`;
  }

  decimal(expr: Sql): Sql {
    // Redshift's NUMERIC defaults to no decimals; a double keeps 5000.5 as it is.
    return this.name === 'redshift'
      ? sql`CAST(${expr} AS DOUBLE PRECISION)`
      : sql`CAST(${expr} AS NUMERIC)`;
  }

  foldDiacritics(expr: Sql): Sql {
    return translateDiacritics('translate', expr);
  }

  regexMatch(expr: Sql, pattern: Sql, caseSensitive: boolean): Sql {
    return caseSensitive ? sql`${expr} ~ ${pattern}` : sql`${expr} ~* ${pattern}`;
  }

  instant(expr: Sql, kind: TimeKind): Sql {
    switch (kind) {
      case 'timestamptz':
        return expr;
      case 'timestamp':
        return sql`(${expr} AT TIME ZONE 'UTC')`;
      case 'date':
        return sql`(CAST(${expr} AS TIMESTAMP) AT TIME ZONE 'UTC')`;
      case 'epoch_ms':
        return this.instantFromEpochMs(expr);
    }
  }

  instantFromEpochMs(ms: Sql): Sql {
    const seconds = sql`CAST(${ms} AS DOUBLE PRECISION) / 1000`;
    return sql`(TIMESTAMP 'epoch' + ${seconds} * INTERVAL '1 second') AT TIME ZONE 'UTC'`;
  }

  timeBucket(instant: Sql, step: TimeStep, multiplier: number, timezone: Sql): Sql {
    const local = sql`(${instant} AT TIME ZONE ${timezone})`;
    let start: Sql;
    if (step === 'year' || step === 'month') {
      const months = step === 'year' ? multiplier * 12 : multiplier;
      const year = sql`CAST(EXTRACT(YEAR FROM ${local}) AS INTEGER)`;
      const month = sql`CAST(EXTRACT(MONTH FROM ${local}) AS INTEGER)`;
      const index = sql`(${year} * 12 + ${month} - 1)`;
      const monthStart = sql`date_trunc('month', ${local})`;
      const back = sql`MOD(${index}, ${num(months)})`;
      start =
        this.name === 'redshift'
          ? sql`add_months(${monthStart}, -${back})`
          : sql`(${monthStart} - ${back} * INTERVAL '1 month')`;
    } else {
      const width = STEP_SECONDS[step] * multiplier;
      const origin = step === 'week' ? WEEK_ORIGIN_SECONDS : 0;
      const seconds = sql`EXTRACT(EPOCH FROM ${local})`;
      const floored = sql`FLOOR((${seconds} - ${num(origin)}) / ${num(width)}) * ${num(width)}
        + ${num(origin)}`;
      start = sql`(TIMESTAMP 'epoch' + (${floored}) * INTERVAL '1 second')`;
    }
    return sql`(${start} AT TIME ZONE ${timezone})`;
  }

  bucketIndex(expr: Sql, ticks: readonly number[]): Sql {
    if (this.name === 'postgis') {
      const thresholds = `{${ticks.join(',')}}`;
      const bounds = sql`CAST(${thresholds} AS DOUBLE PRECISION[])`;
      return sql`width_bucket(CAST(${expr} AS DOUBLE PRECISION), ${bounds})`;
    }
    return ticksCase(expr, ticks);
  }

  geometryFromGeoJson(geojson: Sql, srid: number): Sql {
    const wgs84 = sql`ST_SetSRID(ST_GeomFromGeoJSON(${geojson}), 4326)`;
    // Parts past ±180° (a viewport across the antimeridian) are moved onto the other side.
    const shape =
      this.name === 'redshift' ? wgs84 : sql`ST_WrapX(ST_WrapX(${wgs84}, 180, -360), -180, 360)`;
    if (srid === 4326) return shape;
    // SRID 0 marks coordinates of unknown system, read as longitude and latitude.
    if (srid === 0) return sql`ST_SetSRID(${shape}, 0)`;
    return sql`ST_Transform(${shape}, ${num(srid)})`;
  }

  srid(column: Sql): Sql | null {
    return sql`ST_SRID(${column})`;
  }

  featureId(geometry: Sql): Sql {
    return this.name === 'redshift'
      ? sql`MD5(ST_AsHexWKB(${geometry}))`
      : sql`md5(ST_AsBinary(${geometry}))`;
  }

  intersects(column: Sql, filter: Sql): Sql {
    return sql`ST_Intersects(${column}, ${filter})`;
  }

  extent(column: Sql, srid: number): Sql[] {
    const box =
      srid === 4326 || srid === 0
        ? sql`ST_Extent(${column})`
        : sql`ST_Extent(ST_Transform(${column}, 4326))`;
    return [sql`ST_XMin(${box})`, sql`ST_YMin(${box})`, sql`ST_XMax(${box})`, sql`ST_YMax(${box})`];
  }

  nullSafeEquals(a: Sql, b: Sql): Sql {
    return this.name === 'redshift'
      ? sql`(${a} = ${b} OR (${a} IS NULL AND ${b} IS NULL))`
      : sql`${a} IS NOT DISTINCT FROM ${b}`;
  }

  paging(limit: number, offset: number): Sql {
    return raw(`LIMIT ${limit} OFFSET ${offset}`);
  }

  inCells(expr: Sql, cells: readonly string[], numeric: boolean): Sql {
    if (this.name === 'redshift') return inBoundList(expr, cells);
    const list = `{${cells.join(',')}}`;
    return sql`${expr} = ANY(CAST(${list} AS ${raw(numeric ? 'BIGINT[]' : 'TEXT[]')}))`;
  }
}

/** Backquoted identifiers, as BigQuery and Databricks write them. */
function backquote(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

class BigQueryDialect implements Dialect {
  readonly name = 'bigquery';

  quoteIdentifier(name: string): string {
    return backquote(name);
  }

  placeholder(index: number): string {
    return `@p${index}`;
  }

  table(name: string): Sql {
    const parts = splitTableName(name, '`', (p) => p, 3);
    return raw(parts.map(backquote).join('.'));
  }

  subquery(body: string, alias: string): Sql {
    return raw(`(\n${body}\n) AS ${backquote(alias)}`);
  }

  finite(expr: Sql): Sql {
    return sql`IF(IS_NAN(${expr}) OR IS_INF(${expr}), NULL, ${expr})`;
  }

  text(expr: Sql): Sql {
    return sql`CAST(${expr} AS STRING)`;
  }

  decimal(expr: Sql): Sql {
    return sql`CAST(${expr} AS FLOAT64)`;
  }

  foldDiacritics(expr: Sql): Sql {
    return sql`REGEXP_REPLACE(NORMALIZE(${expr}, NFD), r'\\pM', '')`;
  }

  regexMatch(expr: Sql, pattern: Sql, caseSensitive: boolean): Sql {
    return caseSensitive
      ? sql`REGEXP_CONTAINS(${expr}, ${pattern})`
      : sql`REGEXP_CONTAINS(${expr}, CONCAT('(?i)', ${pattern}))`;
  }

  instant(expr: Sql, kind: TimeKind): Sql {
    switch (kind) {
      case 'timestamptz':
        return expr;
      case 'timestamp':
      case 'date':
        return sql`TIMESTAMP(${expr})`;
      case 'epoch_ms':
        return this.instantFromEpochMs(expr);
    }
  }

  instantFromEpochMs(ms: Sql): Sql {
    return sql`TIMESTAMP_MILLIS(CAST(${ms} AS INT64))`;
  }

  timeBucket(instant: Sql, step: TimeStep, multiplier: number, timezone: Sql): Sql {
    const local = sql`DATETIME(${instant}, ${timezone})`;
    const unit = raw(step === 'week' ? 'WEEK(MONDAY)' : step.toUpperCase());
    if (multiplier === 1) return sql`TIMESTAMP(DATETIME_TRUNC(${local}, ${unit}), ${timezone})`;
    const interval =
      step === 'week' ? `${multiplier * 7} DAY` : `${multiplier} ${step.toUpperCase()}`;
    return sql`TIMESTAMP(DATETIME_BUCKET(${local}, INTERVAL ${raw(interval)}), ${timezone})`;
  }

  bucketIndex(expr: Sql, ticks: readonly number[]): Sql {
    return sql`RANGE_BUCKET(${expr}, ${[...ticks]})`;
  }

  geometryFromGeoJson(geojson: Sql): Sql {
    return sql`ST_GEOGFROMGEOJSON(${geojson}, make_valid => TRUE)`;
  }

  srid(): Sql | null {
    return null;
  }

  featureId(geometry: Sql): Sql {
    return sql`TO_HEX(MD5(ST_ASBINARY(${geometry})))`;
  }

  intersects(column: Sql, filter: Sql): Sql {
    return sql`ST_INTERSECTS(${column}, ${filter})`;
  }

  extent(column: Sql): Sql[] {
    // Per-row boxes folded with MIN/MAX: no union of every geography.
    const box = sql`ST_BOUNDINGBOX(${column})`;
    return [
      sql`MIN(${box}.xmin)`,
      sql`MIN(${box}.ymin)`,
      sql`MAX(${box}.xmax)`,
      sql`MAX(${box}.ymax)`,
    ];
  }

  nullSafeEquals(a: Sql, b: Sql): Sql {
    return sql`${a} IS NOT DISTINCT FROM ${b}`;
  }

  paging(limit: number, offset: number): Sql {
    return raw(`LIMIT ${limit} OFFSET ${offset}`);
  }

  inCells(expr: Sql, cells: readonly string[], numeric: boolean): Sql {
    const list = numeric ? cells.map((cell) => BigInt(cell).toString()) : [...cells];
    return numeric
      ? sql`${expr} IN UNNEST(ARRAY(SELECT CAST(c AS INT64) FROM UNNEST(${list}) AS c))`
      : sql`${expr} IN UNNEST(${list})`;
  }
}

class SnowflakeDialect implements Dialect {
  readonly name = 'snowflake';

  quoteIdentifier(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
  }

  placeholder(index: number): string {
    return `:${index}`;
  }

  table(name: string): Sql {
    const parts = splitTableName(name, '"', (p) => p.toUpperCase(), 3);
    return raw(parts.map((p) => this.quoteIdentifier(p)).join('.'));
  }

  subquery(body: string, alias: string): Sql {
    return raw(wrapAsSubquery(body, alias));
  }

  finite(expr: Sql): Sql {
    return sql`IFF(${expr} IN ('NaN'::FLOAT, 'inf'::FLOAT, '-inf'::FLOAT), NULL, ${expr})`;
  }

  text(expr: Sql): Sql {
    return sql`TO_VARCHAR(${expr})`;
  }

  decimal(expr: Sql): Sql {
    return sql`CAST(${expr} AS DOUBLE)`;
  }

  foldDiacritics(expr: Sql): Sql {
    return translateDiacritics('TRANSLATE', expr);
  }

  regexMatch(expr: Sql, pattern: Sql, caseSensitive: boolean): Sql {
    const flags = raw(caseSensitive ? "'c'" : "'i'");
    return sql`REGEXP_INSTR(${expr}, ${pattern}, 1, 1, 0, ${flags}) > 0`;
  }

  instant(expr: Sql, kind: TimeKind): Sql {
    switch (kind) {
      case 'timestamptz':
        return sql`CONVERT_TIMEZONE('UTC', ${expr})`;
      case 'timestamp':
      case 'date':
        return sql`CAST(${expr} AS TIMESTAMP_NTZ)`;
      case 'epoch_ms':
        return this.instantFromEpochMs(expr);
    }
  }

  instantFromEpochMs(ms: Sql): Sql {
    return sql`TO_TIMESTAMP_NTZ(CAST(${ms} AS NUMBER), 3)`;
  }

  timeBucket(instant: Sql, step: TimeStep, multiplier: number, timezone: Sql): Sql {
    const local = sql`CONVERT_TIMEZONE('UTC', ${timezone}, ${instant})`;
    const unit = raw(`'${step.toUpperCase()}'`);
    const slice = sql`TIME_SLICE(${local}, ${num(multiplier)}, ${unit})`;
    return sql`CONVERT_TIMEZONE(${timezone}, 'UTC', ${slice})`;
  }

  bucketIndex(expr: Sql, ticks: readonly number[]): Sql {
    return ticksCase(expr, ticks);
  }

  geometryFromGeoJson(geojson: Sql): Sql {
    return sql`TO_GEOGRAPHY(${geojson}, TRUE)`;
  }

  srid(column: Sql): Sql | null {
    return sql`ST_SRID(${column})`;
  }

  featureId(geometry: Sql): Sql {
    return sql`MD5(ST_ASWKB(${geometry}))`;
  }

  intersects(column: Sql, filter: Sql): Sql {
    return sql`ST_INTERSECTS(${column}, ${filter})`;
  }

  extent(column: Sql): Sql[] {
    return [
      sql`MIN(ST_XMIN(${column}))`,
      sql`MIN(ST_YMIN(${column}))`,
      sql`MAX(ST_XMAX(${column}))`,
      sql`MAX(ST_YMAX(${column}))`,
    ];
  }

  nullSafeEquals(a: Sql, b: Sql): Sql {
    return sql`${a} IS NOT DISTINCT FROM ${b}`;
  }

  paging(limit: number, offset: number): Sql {
    return raw(`LIMIT ${limit} OFFSET ${offset}`);
  }

  inCells(expr: Sql, cells: readonly string[]): Sql {
    return inBoundList(expr, cells);
  }
}

class DatabricksDialect implements Dialect {
  readonly name = 'databricks';

  quoteIdentifier(name: string): string {
    return backquote(name);
  }

  placeholder(index: number): string {
    return `:p${index}`;
  }

  table(name: string): Sql {
    const parts = splitTableName(name, '`', (p) => p.toLowerCase(), 3);
    return raw(parts.map(backquote).join('.'));
  }

  subquery(body: string, alias: string): Sql {
    return raw(`(\n${body}\n) AS ${backquote(alias)}`);
  }

  finite(expr: Sql): Sql {
    const special = sql`isnan(${expr}) OR abs(${expr}) = double('infinity')`;
    return sql`CASE WHEN ${special} THEN NULL ELSE ${expr} END`;
  }

  text(expr: Sql): Sql {
    return sql`CAST(${expr} AS STRING)`;
  }

  decimal(expr: Sql): Sql {
    return sql`CAST(${expr} AS DOUBLE)`;
  }

  foldDiacritics(expr: Sql): Sql {
    return translateDiacritics('translate', expr);
  }

  regexMatch(expr: Sql, pattern: Sql, caseSensitive: boolean): Sql {
    return caseSensitive
      ? sql`${expr} RLIKE ${pattern}`
      : sql`${expr} RLIKE concat('(?i)', ${pattern})`;
  }

  instant(expr: Sql, kind: TimeKind): Sql {
    switch (kind) {
      case 'timestamptz':
      case 'timestamp':
        return expr;
      case 'date':
        return sql`CAST(${expr} AS TIMESTAMP)`;
      case 'epoch_ms':
        return this.instantFromEpochMs(expr);
    }
  }

  instantFromEpochMs(ms: Sql): Sql {
    return sql`timestamp_millis(CAST(${ms} AS BIGINT))`;
  }

  timeBucket(instant: Sql, step: TimeStep, multiplier: number, timezone: Sql): Sql {
    const local = sql`from_utc_timestamp(${instant}, ${timezone})`;
    if (multiplier === 1) {
      const unit = raw(`'${step.toUpperCase()}'`);
      return sql`to_utc_timestamp(date_trunc(${unit}, ${local}), ${timezone})`;
    }
    if (step === 'year' || step === 'month') {
      const months = step === 'year' ? multiplier * 12 : multiplier;
      const index = sql`(year(${local}) * 12 + month(${local}) - 1)`;
      const back = sql`pmod(${index}, ${num(months)})`;
      const start = sql`add_months(date_trunc('MONTH', ${local}), -${back})`;
      return sql`to_utc_timestamp(${start}, ${timezone})`;
    }
    const width = STEP_SECONDS[step] * multiplier;
    const origin = step === 'week' ? WEEK_ORIGIN_SECONDS : 0;
    const seconds = sql`unix_timestamp(${local}) - ${num(origin)}`;
    const floored = sql`floor((${seconds}) / ${num(width)}) * ${num(width)} + ${num(origin)}`;
    const start = sql`timestamp_seconds(${floored})`;
    return sql`to_utc_timestamp(${start}, ${timezone})`;
  }

  bucketIndex(expr: Sql, ticks: readonly number[]): Sql {
    return ticksCase(expr, ticks);
  }

  geometryFromGeoJson(geojson: Sql, srid: number): Sql {
    const wgs84 = sql`st_geomfromgeojson(${geojson})`;
    return srid === 4326 ? wgs84 : sql`st_transform(st_setsrid(${wgs84}, 4326), ${num(srid)})`;
  }

  srid(column: Sql): Sql | null {
    return sql`st_srid(${column})`;
  }

  featureId(geometry: Sql): Sql {
    return sql`md5(st_asbinary(${geometry}))`;
  }

  intersects(column: Sql, filter: Sql): Sql {
    return sql`st_intersects(${column}, ${filter})`;
  }

  extent(column: Sql, srid: number): Sql[] {
    const geom = srid === 4326 || srid === 0 ? column : sql`st_transform(${column}, 4326)`;
    return [
      sql`min(st_xmin(${geom}))`,
      sql`min(st_ymin(${geom}))`,
      sql`max(st_xmax(${geom}))`,
      sql`max(st_ymax(${geom}))`,
    ];
  }

  nullSafeEquals(a: Sql, b: Sql): Sql {
    return sql`${a} <=> ${b}`;
  }

  paging(limit: number, offset: number): Sql {
    return raw(`LIMIT ${limit} OFFSET ${offset}`);
  }

  inCells(expr: Sql, cells: readonly string[]): Sql {
    return inBoundList(expr, cells);
  }
}

const DIALECTS: Record<DialectName, Dialect> = {
  postgis: new PostgresFamilyDialect('postgis'),
  redshift: new PostgresFamilyDialect('redshift'),
  bigquery: new BigQueryDialect(),
  snowflake: new SnowflakeDialect(),
  databricks: new DatabricksDialect(),
};

export function dialectNamed(name: DialectName): Dialect {
  return DIALECTS[name];
}

/** The dialect of a driver's provider; the embedded warehouse speaks PostGIS. */
export function dialectForProvider(provider: string): Dialect {
  if (provider === 'redshift') return DIALECTS.redshift;
  if (provider === 'postgres') return DIALECTS.postgis;
  if (provider in DIALECTS) return DIALECTS[provider as DialectName];
  throw new Error(`No SQL dialect for provider '${provider}'`);
}
