/**
 * Property values for the row path: the same JSON-ready values the PostGIS JSON path computes in
 * SQL (`propertyValueSql`), computed here from what a driver returns for the raw column.
 */
import type { TileProperty, TilePropertyValue } from './tile-properties.js';

/** Magnitudes a numeric may have and still become a double, as in the JSON path. */
const MIN_DOUBLE_MAGNITUDE = 1e-300;
const MAX_DOUBLE_MAGNITUDE = 1e300;

/** Drivers hand over 64-bit integers and numerics as strings when a double cannot hold them. */
function numberValue(value: unknown, property: TileProperty): TilePropertyValue {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' && typeof value !== 'bigint') return null;
  const text = String(value).trim();
  if (property.cartoType === 'bigint' && /^-?\d+$/.test(text)) {
    // Past 2^53 a bigint travels as its exact digits, as in the JSON path.
    const number = Number(text);
    return Number.isSafeInteger(number) ? number : text;
  }
  const number = Number(text);
  const magnitude = Math.abs(number);
  if (number === 0) return 0;
  return magnitude >= MIN_DOUBLE_MAGNITUDE && magnitude <= MAX_DOUBLE_MAGNITUDE ? number : null;
}

/** A date or timestamp as an ISO-8601 UTC string; zone-less text is read as UTC wall time. */
function timestampValue(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value !== 'string') return null;
  const text = value.trim().replace(' ', 'T');
  const isDateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const hasZone = /(Z|[+-]\d{2}(:?\d{2})?)$/.test(text) && text.includes('T');
  const iso = isDateOnly ? `${text}T00:00:00Z` : hasZone ? text : `${text}Z`;
  const instant = new Date(iso);
  return Number.isNaN(instant.getTime()) ? value : instant.toISOString();
}

function stringValue(value: unknown, property: TileProperty): TilePropertyValue {
  if (property.cartoType === 'timestamp') return timestampValue(value);
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return null;
  if (value instanceof Date) return timestampValue(value);
  // json, arrays and records arrive parsed; the JSON path carries their JSON text.
  return JSON.stringify(value) ?? null;
}

/** The tile value of one raw column value, or null when the feature has none. */
export function rowPropertyValue(value: unknown, property: TileProperty): TilePropertyValue {
  if (value === null || value === undefined) return null;
  switch (property.kind) {
    case 'number':
      return numberValue(value, property);
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'string':
      return stringValue(value, property);
  }
}
