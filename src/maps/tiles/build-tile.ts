/**
 * One vector tile from a PostGIS source: query the warehouse, then encode the features as
 * MVT or as CARTO's binary format.
 */
import type { WarehouseDriver } from '../../warehouses/driver.js';
import { encodeCartoBinary } from './carto-binary-encoder.js';
import { encodeMvt } from './mvt-encoder.js';
import { readTileFeatures } from './tile-features.js';
import {
  buildTileQuery,
  type TileFormat,
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
}

/** Builds tile z/x/y of `source`; warehouse errors (timeout, cancel, SQL) propagate. */
export async function buildTile(
  driver: WarehouseDriver,
  source: TileSource,
  tile: TileRequest,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<BuiltTile> {
  const query = buildTileQuery(source, tile);

  const result = await driver.query({
    sql: query.sql,
    params: query.params,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });

  const { grid, properties } = query;
  // Drivers hand json back parsed; accept text too rather than depend on that.
  const raw = result.rows[0]?.features ?? null;
  const json: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  const { features, truncated } = readTileFeatures(
    json,
    grid.extent,
    properties.length,
    tile.maxFeatures,
  );
  const body =
    tile.format === 'mvt'
      ? encodeMvt(features, properties, grid.extent)
      : encodeCartoBinary(features, properties, grid);
  return {
    body,
    featureCount: features.length,
    truncated,
    contentType: TILE_CONTENT_TYPES[tile.format],
  };
}
