import { optionalString } from '../http/request-params.js';
import type { SourceDefinition } from './source-definition.js';

/**
 * The version of the data a tile URL was handed out for: its `cache` parameter, which the
 * TileJSON sets, so every node behind a load balancer files the tile under the same key (and
 * answers the same ETag); the local inspection's time for URLs without one.
 */
export function dataVersion(
  params: Record<string, unknown>,
  inspection: { inspectedAt: number },
): string {
  const cache = optionalString(params, 'cache');
  return cache !== undefined && /^\d{1,20}$/.test(cache) ? cache : String(inspection.inspectedAt);
}

/** The tile cache key of a vector tile `z/x/y` of a source (`key`: its `sourceKey`). */
export function vectorTileKey(
  key: string,
  source: SourceDefinition,
  version: string,
  z: number,
  x: number,
  y: number,
): string {
  return `${key}|${version}|${source.tileResolution}|${source.formatTiles}|${z}/${x}/${y}`;
}
