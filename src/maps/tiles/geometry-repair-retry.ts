/**
 * The retry every tile path shares when invalid geometries break a tile query: GEOS fails on
 * some invalid input (zero-area rings crossing the clip box, self-intersections). Repairing
 * every geometry up front is slow, so the repair is the second attempt, not the first.
 */
import { WarehouseError } from '../../warehouses/driver.js';

/** An attempt's result, or undefined when the statement ended without one. */
export type TileAttempt<T> = (repair: boolean, timeoutMs: number) => Promise<T | undefined>;

/**
 * SQLSTATE XX000 is how PostGIS reports a GEOS failure; drivers that cannot tell classify it as
 * `internal`. Everything else (timeouts, cancels, SQL errors) is not the data's fault.
 */
function isGeometryFailure(error: unknown): boolean {
  return (
    error instanceof WarehouseError && (error.kind === 'internal' || error.sqlState === 'XX000')
  );
}

function runWithin<T>(attempt: TileAttempt<T>, repair: boolean, timeoutMs: number) {
  if (timeoutMs <= 0) throw new WarehouseError('timeout', 'The tile query ran out of time');
  return attempt(repair, timeoutMs);
}

/**
 * Runs `attempt` as is, then once more with geometries repaired, within what is left of
 * `timeoutMs`, when the first failed on geometry or ended without a result (how PGlite ends a
 * statement that GEOS failed in).
 */
export async function retryWithRepairedGeometries<T>(
  attempt: TileAttempt<T>,
  timeoutMs: number,
): Promise<{ result: T; repaired: boolean }> {
  const deadline = Date.now() + timeoutMs;
  try {
    const result = await runWithin(attempt, false, timeoutMs);
    if (result !== undefined) return { result, repaired: false };
  } catch (error) {
    if (!isGeometryFailure(error)) throw error;
  }
  const result = await runWithin(attempt, true, deadline - Date.now());
  if (result === undefined) {
    throw new WarehouseError('internal', 'The tile query ended without a result');
  }
  return { result, repaired: true };
}
