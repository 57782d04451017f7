/**
 * PostgreSQL value and type normalization shared by every PostgreSQL-flavoured driver. Parsers
 * take the text PostgreSQL prints for a value (text protocol, `DateStyle = ISO`) and return the
 * JSON-safe value that `WarehouseResult` promises.
 */

import type { CartoFieldType } from './driver.js';

/** Built-in type OIDs; these are fixed in PostgreSQL's catalog and never change between versions. */
export const PG_TYPE_OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  jsonb: 3802,
} as const;

/** Turns the text form of one PostgreSQL value into its JSON-safe form. */
export type PgTextParser = (text: string) => unknown;

/** The `pg_type` columns that decide a CARTO type. */
export interface PgTypeInfo {
  typname: string;
  /** `pg_type.typcategory`: `A` array, `C` composite, `E` enum, ... */
  typcategory: string;
}

const NUMBER_TYPES = new Set(['int2', 'int4', 'float4', 'float8', 'numeric', 'oid']);
const STRING_TYPES = new Set(['text', 'varchar', 'bpchar', 'name', 'uuid', 'citext', 'char']);
const TIMESTAMP_TYPES = new Set(['date', 'timestamp', 'timestamptz', 'time', 'timetz']);
const OBJECT_TYPES = new Set(['json', 'jsonb', 'record']);

/** Maps a PostgreSQL type to the CARTO field type that `@carto/api-client` understands. */
export function cartoTypeOf(type: PgTypeInfo): CartoFieldType {
  const { typname, typcategory } = type;
  if (typcategory === 'A' || typcategory === 'C' || OBJECT_TYPES.has(typname)) return 'object';
  if (NUMBER_TYPES.has(typname)) return 'number';
  if (typname === 'int8') return 'bigint';
  if (STRING_TYPES.has(typname) || typcategory === 'E') return 'string';
  if (typname === 'geometry' || typname === 'geography') return 'geometry';
  if (TIMESTAMP_TYPES.has(typname)) return 'timestamp';
  if (typname === 'bool') return 'boolean';
  return 'unknown';
}

/** int8 as a number while it is exact in a double, else as its decimal string. */
export function parseInt8Text(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
}

/**
 * numeric as a number when finite in a double; digits beyond a double's precision are
 * rounded. Non-finite numerics ('NaN', '±Infinity') become null like non-finite floats, and a
 * magnitude beyond a double's range stays a decimal string.
 */
export function parseNumericText(text: string): number | string | null {
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}

/**
 * numeric as a number while its integer part is exact in a double (magnitude up to 2^53), else
 * as its decimal string, so no integer digit is ever lost, as with int8. Fractional digits
 * beyond a double's precision are rounded as for float8; non-finite numerics become null.
 */
export function parseNumericTextKeepingIntegerDigits(text: string): number | string | null {
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return null;
  const value = Number(text);
  return Math.abs(value) <= Number.MAX_SAFE_INTEGER ? value : text;
}

/** float4/float8; JSON has no NaN or infinities, so those become null. */
export function parseFloatText(text: string): number | null {
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

// DateStyle ISO output: `2024-03-30 23:30:00.123456+05:30`, years beyond 9999 have more
// digits, historical zones print seconds in the offset, and BC dates end in ` BC`.
const TIMESTAMP_TEXT =
  /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?)?( BC)?$/;

/**
 * timestamp and timestamptz as ISO-8601 UTC with millisecond precision
 * (`2024-03-30T23:30:00.000Z`); a timestamp without zone is read as UTC. Values a JS Date
 * cannot hold ('infinity', years beyond ±275760) keep PostgreSQL's text.
 */
export function parseTimestampText(text: string): string {
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match) return text;

  const [, year, month, day, hour, minute, second, fraction, sign, offH, offM, offS, bc] = match;
  const fullYear = bc ? 1 - Number(year) : Number(year);
  const millis = Number(((fraction ?? '') + '000').slice(0, 3));
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not move years 0-99 into the 1900s.
  date.setUTCFullYear(fullYear, Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), millis);
  const offsetSeconds =
    (sign === '-' ? -1 : 1) *
    (Number(offH ?? 0) * 3600 + Number(offM ?? 0) * 60 + Number(offS ?? 0));
  const time = date.getTime() - offsetSeconds * 1000;
  return Number.isNaN(time) || Math.abs(time) > 8.64e15 ? text : new Date(time).toISOString();
}

/** The parser of every type whose values keep PostgreSQL's text as they are. */
export function keepText(text: string): string {
  return text;
}

function parseJsonText(text: string): unknown {
  return JSON.parse(text);
}

/**
 * Text parsers keyed by type OID. Types absent here (text, uuid, interval, geometry as hex
 * EWKB, ...) keep PostgreSQL's text, which is already what the API returns. date and time
 * keep their text because `YYYY-MM-DD` and `HH:MM:SS` are already ISO-8601; bytea keeps its
 * `\x…` hex text.
 */
export const PG_TEXT_PARSERS: Readonly<Record<number, PgTextParser>> = {
  [PG_TYPE_OID.bool]: (text) => text === 't',
  [PG_TYPE_OID.bytea]: keepText,
  [PG_TYPE_OID.int8]: parseInt8Text,
  [PG_TYPE_OID.int2]: (text) => Number(text),
  [PG_TYPE_OID.int4]: (text) => Number(text),
  [PG_TYPE_OID.oid]: (text) => Number(text),
  [PG_TYPE_OID.json]: parseJsonText,
  [PG_TYPE_OID.jsonb]: parseJsonText,
  [PG_TYPE_OID.float4]: parseFloatText,
  [PG_TYPE_OID.float8]: parseFloatText,
  [PG_TYPE_OID.numeric]: parseNumericText,
  [PG_TYPE_OID.date]: keepText,
  [PG_TYPE_OID.time]: keepText,
  [PG_TYPE_OID.timetz]: keepText,
  [PG_TYPE_OID.interval]: keepText,
  [PG_TYPE_OID.timestamp]: parseTimestampText,
  [PG_TYPE_OID.timestamptz]: parseTimestampText,
};
