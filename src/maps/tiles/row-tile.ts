/**
 * The row path, for warehouses that cannot aggregate a tile into one JSON value (Redshift): read
 * one row per feature in the tile's buffered box, then clip and encode in Node.
 */
import type { WarehouseDriver } from '../../warehouses/driver.js';
import { retryWithRepairedGeometries } from './geometry-repair-retry.js';
import type { EncodedTile } from './encode-tile.js';
import type { FeatureRow } from './encode-row-tile.js';
import { encodeRowTileOffThread } from './row-tile-encoder-pool.js';
import {
  WKB_COLUMN,
  buildRowTileQuery,
  propertyColumn,
  type RowTileQuery,
} from './row-tile-sql.js';
import type { TileRequest, TileSource } from './tile-query.js';

async function readFeatureRows(
  driver: WarehouseDriver,
  query: RowTileQuery,
  attempt: { timeoutMs: number; signal: AbortSignal | undefined },
): Promise<FeatureRow[]> {
  const { rows } = await driver.query({
    sql: query.sql,
    params: query.params,
    ...attempt,
    readOnly: true,
  });
  return rows.map((row) => ({
    wkb: row[WKB_COLUMN],
    values: query.properties.map((_, i) => row[propertyColumn(i)]),
  }));
}

/**
 * Builds tile z/x/y from per-feature rows; an empty tile has a null body. Should the spatial
 * test fail on invalid input, the retry compares bounding boxes, which are always valid; the
 * clip in Node drops whatever lies outside.
 */
export async function buildRowTile(
  driver: WarehouseDriver,
  source: TileSource,
  tile: TileRequest,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<EncodedTile & { repaired: boolean }> {
  const { signal } = options;
  let query = buildRowTileQuery(source, tile);
  const { result: rows, repaired } = await retryWithRepairedGeometries((repair, timeoutMs) => {
    if (repair) query = buildRowTileQuery(source, tile, { compareEnvelopes: true });
    return readFeatureRows(driver, query, { timeoutMs, signal });
  }, options.timeoutMs);

  const encoded = await encodeRowTileOffThread({
    rows,
    format: tile.format,
    grid: query.grid,
    mvtExtent: query.mvtExtent,
    properties: query.properties,
    maxFeatures: tile.maxFeatures,
  });
  return { ...encoded, repaired };
}
