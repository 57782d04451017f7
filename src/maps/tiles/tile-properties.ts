/**
 * Which source columns travel as tile properties, and the SQL that turns each into a JSON value
 * both tile formats can carry: numbers, strings and booleans only.
 */
import type { CartoFieldType, WarehouseField } from '../../warehouses/driver.js';
import { quoteIdentifier } from '../table-name.js';

/** How a property's values are encoded in tiles. */
export type TileValueKind = 'number' | 'string' | 'boolean';

export interface TileProperty {
  name: string;
  kind: TileValueKind;
  cartoType: CartoFieldType;
}

/** One value of a feature's property; null means the feature has no value for it. */
export type TilePropertyValue = number | string | boolean | null;

/** Native types left out whatever CARTO type a driver gives them: no faithful scalar form. */
const NATIVE_TYPES_LEFT_OUT = new Set(['bytea', 'interval', 'geometry', 'geography', 'raster']);
const INTEGER_TYPES = new Set(['int2', 'smallint', 'int4', 'integer', 'int', 'oid']);
const BIGINT_TYPES = new Set(['int8', 'bigint']);
const FLOAT_TYPES = new Set(['float4', 'real', 'float8', 'double precision', 'float']);
const TIMESTAMP_TZ_TYPES = new Set(['timestamptz', 'timestamp with time zone']);
const TIMESTAMP_TYPES = new Set(['timestamp', 'timestamp without time zone']);

/** Largest integer a double holds exactly; larger bigints travel as strings to stay exact. */
const MAX_SAFE_BIGINT = '9007199254740991';

/** ISO-8601 in UTC with milliseconds, the form `Date.prototype.toISOString` produces. */
const ISO_UTC_FORMAT = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

function baseNativeType(nativeType: string): string {
  return nativeType
    .toLowerCase()
    .replace(/\(.*\)$/, '')
    .trim();
}

/**
 * How `field` is encoded in tiles, or null when tiles leave it out: geometries (tiles carry
 * one), and types with no faithful scalar form (bytea, interval, unknown).
 */
export function tilePropertyOf(field: WarehouseField): TileProperty | null {
  if (NATIVE_TYPES_LEFT_OUT.has(baseNativeType(field.nativeType))) return null;
  switch (field.cartoType) {
    case 'number':
    case 'bigint':
      return { name: field.name, kind: 'number', cartoType: field.cartoType };
    case 'boolean':
      return { name: field.name, kind: 'boolean', cartoType: field.cartoType };
    case 'string':
    case 'timestamp':
    case 'object':
      return { name: field.name, kind: 'string', cartoType: field.cartoType };
    default:
      return null;
  }
}

function numberSql(column: string, nativeType: string, cartoType: CartoFieldType): string {
  const type = baseNativeType(nativeType);
  if (INTEGER_TYPES.has(type)) return column;
  if (cartoType === 'bigint' || BIGINT_TYPES.has(type)) {
    return `CASE
  WHEN ${column} BETWEEN -${MAX_SAFE_BIGINT} AND ${MAX_SAFE_BIGINT} THEN to_json(${column})
  ELSE to_json(${column}::text)
END`;
  }
  if (FLOAT_TYPES.has(type)) {
    // JSON has no NaN or Infinity; PostgreSQL sorts NaN above Infinity, so both tests fail.
    return `CASE WHEN ${column} < 'Infinity' AND ${column} > '-Infinity' THEN ${column} END`;
  }
  // numeric and anything else numeric-like: a double, or null when it cannot be one, since
  // the cast raises an error outside the double range and would fail the whole tile.
  return `CASE
  WHEN ${column}::numeric = 0 THEN 0::float8
  WHEN abs(${column}::numeric) BETWEEN 1e-300 AND 1e300 THEN ${column}::float8
END`;
}

function timestampSql(column: string, nativeType: string): string {
  const type = baseNativeType(nativeType);
  if (TIMESTAMP_TZ_TYPES.has(type)) {
    return `to_char(${column} AT TIME ZONE 'UTC', ${ISO_UTC_FORMAT})`;
  }
  // Timestamps without a zone and dates are read as UTC wall-clock values.
  if (TIMESTAMP_TYPES.has(type) || type === 'date') {
    return `to_char(${column}::timestamp, ${ISO_UTC_FORMAT})`;
  }
  return `${column}::text`;
}

/** SQL expression giving the JSON-ready value of `field` (already accepted by tilePropertyOf). */
export function propertyValueSql(field: WarehouseField): string {
  const column = quoteIdentifier(field.name);
  switch (field.cartoType) {
    case 'number':
    case 'bigint':
      return numberSql(column, field.nativeType, field.cartoType);
    case 'timestamp':
      return timestampSql(column, field.nativeType);
    case 'object':
      // json, jsonb, arrays, records: their JSON text, carried as a string.
      return `to_json(${column})::text`;
    case 'boolean':
      return column;
    default:
      return `${column}::text`;
  }
}
