/**
 * A cheap estimate of how many bytes a result occupies once sent as JSON, used to refuse results
 * that would otherwise be copied to the main thread and serialized whole.
 */

/** Numbers, booleans, nulls and the punctuation around a value. */
const BYTES_PER_SCALAR = 8;
const BYTES_PER_MIB = 1024 * 1024;

function estimateValueBytes(value: unknown, budget: number): number {
  if (typeof value === 'string') return value.length + 2;
  if (value === null || typeof value !== 'object') return BYTES_PER_SCALAR;

  // Arrays and parsed json/jsonb; stop descending once the budget is spent.
  let bytes = BYTES_PER_SCALAR;
  const entries = Array.isArray(value) ? value : Object.entries(value);
  for (const entry of entries) {
    bytes += estimateValueBytes(entry, budget - bytes);
    if (bytes > budget) return bytes;
  }
  return bytes;
}

/**
 * True when `rows` would take more than `maxBytes`: string lengths plus a constant per other
 * value and per column name. Stops counting as soon as the budget is exceeded.
 */
export function exceedsResultBudget(rows: readonly Record<string, unknown>[], maxBytes: number) {
  let bytes = 0;
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      bytes += name.length + estimateValueBytes(value, maxBytes - bytes);
      if (bytes > maxBytes) return true;
    }
  }
  return false;
}

/** The message for a refused result, with the budget in MiB as people read it. */
export function resultTooLargeMessage(maxBytes: number): string {
  const mib = Number((maxBytes / BYTES_PER_MIB).toFixed(2));
  return (
    `The result is larger than ${mib} MiB; select fewer rows or columns, ` +
    'or aggregate or shorten large values in SQL'
  );
}
