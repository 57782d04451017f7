/**
 * Turns the tile query's JSON text into an encoded tile. Pure and synchronous, so it runs
 * either inline or in the encoder worker pool.
 */
import { encodeCartoBinary } from './carto-binary-encoder.js';
import { encodeMvt } from './mvt-encoder.js';
import { readTileFeatures } from './tile-features.js';
import type { TileGrid } from './tile-grid.js';
import type { TileProperty } from './tile-properties.js';

export interface EncodeTileTask {
  /** The tile query's single value: JSON text, or already parsed by the driver. */
  json: unknown;
  format: 'mvt' | 'binary';
  grid: TileGrid;
  properties: TileProperty[];
  maxFeatures: number;
}

export interface EncodedTile {
  body: Uint8Array | null;
  featureCount: number;
  truncated: boolean;
}

/** Reads features laid out as the tile query lays them out and encodes them in `format`. */
export function encodeLaidOutTile(
  layout: unknown,
  task: Omit<EncodeTileTask, 'json'>,
): EncodedTile {
  const { features, truncated } = readTileFeatures(
    layout,
    task.grid.extent,
    task.properties.length,
    task.maxFeatures,
  );
  const body =
    task.format === 'mvt'
      ? encodeMvt(features, task.properties, task.grid.extent)
      : encodeCartoBinary(features, task.properties, task.grid);
  return { body, featureCount: features.length, truncated };
}

export function encodeTile(task: EncodeTileTask): EncodedTile {
  const json: unknown = typeof task.json === 'string' ? JSON.parse(task.json) : task.json;
  return encodeLaidOutTile(json, task);
}
