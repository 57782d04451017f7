/**
 * Readers of PostgreSQL's text values for array-row streams: each turns one column's text into
 * its JSON-safe value, or straight into that value's JSON text. For the common number types
 * PostgreSQL's text already is the JSON text `JSON.stringify` would write for the parsed value,
 * so the value is never built: that is most of the cost of a large SQL API answer.
 */

import type { WarehouseColumnReader } from '../driver.js';
import { jsonTextOf } from '../json-text.js';
import { PG_TYPE_OID, keepText, type PgTextParser } from '../postgres-types.js';

// A decimal without exponent, leading zeros, trailing fraction zeros or a lone minus zero.
const PLAIN_DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;

/**
 * True when `String(Number(text))` is `text`: a plain decimal of at most 15 characters has at
 * most 15 significant digits, which a double keeps exactly (DBL_DIG), and JavaScript prints
 * the shortest decimal that reads back as the same double, without exponent from 1e-6 to
 * 1e21, a range PostgreSQL's plain output (exponent from 1e-4 to 1e15) lies within.
 */
export function isJsonNumberText(text: string): boolean {
  return text.length <= 15 && text !== '-0' && PLAIN_DECIMAL.test(text);
}

/** Integer types whose text PostgreSQL prints canonically and a double holds exactly. */
const EXACT_INTEGER_OIDS: ReadonlySet<number> = new Set([
  PG_TYPE_OID.int2,
  PG_TYPE_OID.int4,
  PG_TYPE_OID.oid,
]);

/** Number types whose text is JSON as it stands when short and plain, else parsed. */
const DECIMAL_TEXT_OIDS: ReadonlySet<number> = new Set([
  PG_TYPE_OID.float4,
  PG_TYPE_OID.float8,
  PG_TYPE_OID.numeric,
]);

/**
 * The reader of one column whose values `parse` turns into JSON-safe values. Every cell a
 * reader sees is text; null cells never reach it.
 */
export function columnReaderOf(oid: number, parse: PgTextParser): WarehouseColumnReader {
  const valueOf = (raw: unknown) => parse(raw as string);
  if (EXACT_INTEGER_OIDS.has(oid)) return { valueOf, jsonOf: (raw) => raw as string };
  if (oid === PG_TYPE_OID.int8) {
    // Up to 15 characters an int8 is below 10^15, so exact in a double.
    return {
      valueOf,
      jsonOf: (raw) => {
        const text = raw as string;
        return text.length <= 15 ? text : jsonTextOf(parse(text));
      },
    };
  }
  if (DECIMAL_TEXT_OIDS.has(oid)) {
    return {
      valueOf,
      jsonOf: (raw) => {
        const text = raw as string;
        return isJsonNumberText(text) ? text : jsonTextOf(parse(text));
      },
    };
  }
  if (oid === PG_TYPE_OID.bool) {
    return { valueOf, jsonOf: (raw) => (raw === 't' ? 'true' : 'false') };
  }
  // Text, uuid, geometry (hex EWKB), dates and other types whose text is their value.
  if (parse === keepText) return { valueOf, jsonOf: (raw) => JSON.stringify(raw) };
  return { valueOf, jsonOf: (raw) => jsonTextOf(parse(raw as string)) };
}
