/**
 * One vector tile from a PostGIS source: query the warehouse, then encode the features as
 * MVT or as CARTO's binary format.
 */
import { WarehouseError, type WarehouseDriver } from '../../warehouses/driver.js';
import { encodeTileOffThread } from './tile-encoder-pool.js';
import {
  buildTileQuery,
  type TileFormat,
  type TileQuery,
  type TileRequest,
  type TileSource,
} from './tile-query.js';

/** MIME types deck.gl's loaders select their decoder by. */
export const TILE_CONTENT_TYPES: Record<TileFormat, string> = {
  mvt: 'application/vnd.mapbox-vector-tile',
  binary: 'application/vnd.carto-vector-tile',
};

export interface BuiltTile {
  /** The encoded tile, or null when it has no features (the route answers 204). */
  body: Uint8Array | null;
  featureCount: number;
  /** True when the source had more features in this tile than `maxFeatures`. */
  truncated: boolean;
  contentType: string;
  /** True when the first attempt failed on invalid geometries and they were repaired. */
  geometriesRepaired: boolean;
}

interface TileOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The tile query's single json value, or undefined when the statement gave no row. */
async function runTileQuery(
  driver: WarehouseDriver,
  query: TileQuery,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  if (timeoutMs <= 0) throw new WarehouseError('timeout', 'The tile query ran out of time');
  const result = await driver.query({ sql: query.sql, params: query.params, timeoutMs, signal });
  const row = result.rows[0];
  if (!row) return undefined;
  // The query sends JSON text, parsed where it is encoded; a driver may hand it back parsed.
  return row.features ?? null;
}

/**
 * Runs the tile query. An aggregate always yields one row, so no row or a silent stop (how
 * PGlite ends a statement that GEOS failed in) or SQLSTATE XX000 (how PostGIS reports it)
 * means invalid input broke the clip: the query runs once more with the geometries
 * repaired, within what is left of the time budget.
 */
async function queryTile(
  driver: WarehouseDriver,
  source: TileSource,
  tile: TileRequest,
  { timeoutMs, signal }: TileOptions,
): Promise<{ json: unknown; query: TileQuery; repaired: boolean }> {
  const deadline = Date.now() + timeoutMs;
  const query = buildTileQuery(source, tile);
  try {
    const json = await runTileQuery(driver, query, timeoutMs, signal);
    if (json !== undefined) return { json, query, repaired: false };
  } catch (error) {
    const isGeometryFailure =
      error instanceof WarehouseError && (error.kind === 'internal' || error.sqlState === 'XX000');
    if (!isGeometryFailure) throw error;
  }
  const repairedQuery = buildTileQuery(source, tile, { repairGeometries: true });
  const json = await runTileQuery(driver, repairedQuery, deadline - Date.now(), signal);
  if (json === undefined) {
    throw new WarehouseError('internal', 'The tile query ended without a result');
  }
  return { json, query: repairedQuery, repaired: true };
}

/** Builds tile z/x/y of `source`; warehouse errors (timeout, cancel, SQL) propagate. */
export async function buildTile(
  driver: WarehouseDriver,
  source: TileSource,
  tile: TileRequest,
  options: TileOptions,
): Promise<BuiltTile> {
  const { json, query, repaired } = await queryTile(driver, source, tile, options);

  const { body, featureCount, truncated } = await encodeTileOffThread({
    json,
    format: tile.format,
    grid: query.grid,
    properties: query.properties,
    maxFeatures: tile.maxFeatures,
  });
  return {
    body,
    featureCount,
    truncated,
    contentType: TILE_CONTENT_TYPES[tile.format],
    geometriesRepaired: repaired,
  };
}
