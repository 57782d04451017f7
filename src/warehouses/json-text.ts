/**
 * JSON text of single JSON-safe values, written without `JSON.stringify` for the common
 * scalars: row serialization calls these once per value.
 */

/**
 * A value as `JSON.stringify` writes it inside an object: undefined for values JSON has no
 * text for (undefined, functions), whose key is then left out.
 */
export function jsonValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return value === null ? 'null' : (JSON.stringify(value) as string | undefined);
  }
}

/** A value as `JSON.stringify` writes it inside an array, where no text becomes `null`. */
export function jsonTextOf(value: unknown): string {
  return jsonValue(value) ?? 'null';
}
