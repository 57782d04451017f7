/**
 * One vector tile from a spatial source, by one of three paths chosen from the driver's
 * capabilities (never its provider): MVT built in the warehouse (`ST_AsMVT`); the whole tile as
 * one JSON value from PostGIS, encoded here; or one row per feature, clipped and encoded here.
 * All three give a client the same features, properties, layer and extent.
 */
import type { WarehouseCapabilities, WarehouseDriver } from '../../warehouses/driver.js';
import { retryWithRepairedGeometries } from './geometry-repair-retry.js';
import { buildNativeMvtTile } from './native-mvt-tile.js';
import { buildRowTile } from './row-tile.js';
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

/** How a tile is built: in the warehouse, from one JSON value, or from per-feature rows. */
export type TilePath = 'native-mvt' | 'json' | 'rows';

/** The tile path for a driver's capabilities and the requested format. */
export function chooseTilePath(capabilities: WarehouseCapabilities, format: TileFormat): TilePath {
  if (capabilities.nativeMvt && format === 'mvt') return 'native-mvt';
  return capabilities.jsonTiles ? 'json' : 'rows';
}

/** The tile query's single json value, or undefined when the statement gave no row. */
async function runTileQuery(
  driver: WarehouseDriver,
  query: TileQuery,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  // Prepared once per session: one generic plan, no JIT, no parallel scan (see the driver).
  const result = await driver.query({
    readOnly: true,
    sql: query.sql,
    params: query.params,
    timeoutMs,
    signal,
    repeatsText: true,
  });
  const row = result.rows[0];
  if (!row) return undefined;
  // The query sends JSON text, parsed where it is encoded; a driver may hand it back parsed.
  return row.features ?? null;
}

/**
 * The JSON path. An aggregate always yields one row, so no row (how PGlite ends a statement
 * that GEOS failed in) or a geometry error means invalid input broke the clip, and the query
 * runs once more with the geometries repaired.
 */
async function buildJsonTile(
  driver: WarehouseDriver,
  source: TileSource,
  tile: TileRequest,
  { timeoutMs, signal }: TileOptions,
) {
  let query = buildTileQuery(source, tile);
  const { result: json, repaired } = await retryWithRepairedGeometries((repair, remainingMs) => {
    if (repair) query = buildTileQuery(source, tile, { repairGeometries: true });
    return runTileQuery(driver, query, remainingMs, signal);
  }, timeoutMs);

  const encoded = await encodeTileOffThread({
    json,
    format: tile.format,
    grid: query.grid,
    properties: query.properties,
    maxFeatures: tile.maxFeatures,
  });
  return { ...encoded, repaired };
}

/** Builds tile z/x/y of `source`; warehouse errors (timeout, cancel, SQL) propagate. */
export async function buildTile(
  driver: WarehouseDriver,
  source: TileSource,
  tile: TileRequest,
  options: TileOptions,
): Promise<BuiltTile> {
  const path = chooseTilePath(driver.capabilities, tile.format);
  const build =
    path === 'native-mvt' ? buildNativeMvtTile : path === 'json' ? buildJsonTile : buildRowTile;

  const { body, featureCount, truncated, repaired } = await build(driver, source, tile, options);
  return {
    body,
    featureCount,
    truncated,
    contentType: TILE_CONTENT_TYPES[tile.format],
    geometriesRepaired: repaired,
  };
}
