/**
 * The native MVT path: PostGIS builds the whole tile with ST_AsMVT and Graticule passes its
 * bytes through, for warehouses that declare `nativeMvt`.
 */
import type { WarehouseDriver } from '../../warehouses/driver.js';
import { retryWithRepairedGeometries } from './geometry-repair-retry.js';
import type { EncodedTile } from './encode-tile.js';
import type { TileRequest, TileSource } from './tile-query.js';
import { buildMvtTileQuery } from './tile-mvt-sql.js';

/**
 * A bytea value as drivers return it: `\x`-prefixed hex text (node-postgres' text mode, which
 * must stay: its binary mode corrupts bytea when parameters are bound) or bytes (PGlite).
 */
export function bytesOfBytea(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) return value;
  if (typeof value !== 'string' || !value.startsWith('\\x')) return null;
  return Buffer.from(value.slice(2), 'hex');
}

interface MvtRow {
  featureCount: number;
  mvt: Uint8Array | null;
}

async function runMvtQuery(
  driver: WarehouseDriver,
  source: TileSource,
  tile: TileRequest,
  attempt: { repair: boolean; timeoutMs: number; signal: AbortSignal | undefined },
): Promise<MvtRow | undefined> {
  const query = buildMvtTileQuery(source, tile, { repairGeometries: attempt.repair });
  // One text per source and attempt, whatever the tile: worth keeping prepared.
  const { rows } = await driver.query({ ...query, ...attempt, repeatsText: true, readOnly: true });
  const row = rows[0];
  if (!row) return undefined;
  return { featureCount: Number(row.feature_count ?? 0), mvt: bytesOfBytea(row.mvt) };
}

/** Builds tile z/x/y as MVT in the warehouse; an empty tile has a null body. */
export async function buildNativeMvtTile(
  driver: WarehouseDriver,
  source: TileSource,
  tile: TileRequest,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<EncodedTile & { repaired: boolean }> {
  const { signal } = options;
  const { result, repaired } = await retryWithRepairedGeometries(
    (repair, timeoutMs) => runMvtQuery(driver, source, tile, { repair, timeoutMs, signal }),
    options.timeoutMs,
  );

  const featureCount = Math.min(result.featureCount, tile.maxFeatures);
  const isEmpty = featureCount === 0 || !result.mvt || result.mvt.length === 0;
  return {
    body: isEmpty ? null : result.mvt,
    featureCount: isEmpty ? 0 : featureCount,
    truncated: result.featureCount > tile.maxFeatures,
    repaired,
  };
}
