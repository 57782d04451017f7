/**
 * The two answers of CARTO's raster source: the instantiation (`{nrows, schema, tilejson}`)
 * and the TileJSON whose `tiles` template names blocks by quadbin cell (`{i}`), with the
 * `raster_metadata` that `rasterSource` and deck.gl's `RasterTileLayer` read.
 */
import { createHash } from 'node:crypto';
import type { RasterMetadata } from './raster-metadata.js';
import { metadataTextOf } from './raster-table.js';

/**
 * The `cache` value of a raster's URLs: a number derived from its stored metadata, so it
 * changes whenever the raster is written again (the builder notes when it wrote it).
 */
export function rasterCacheKey(metadata: RasterMetadata): string {
  const text = metadataTextOf(metadata) ?? JSON.stringify(metadata);
  const digest = createHash('sha256').update(text).digest('hex');
  return String(Number.parseInt(digest.slice(0, 12), 16));
}

/** `{base}/v3/maps/{connection}/raster` plus a path suffix. */
function rasterEndpoint(baseUrl: string, connection: string, suffix = ''): string {
  return `${baseUrl}/v3/maps/${encodeURIComponent(connection)}/raster${suffix}`;
}

/** The columns a raster table offers: the block cell, then one number per band. */
function rasterSchema(metadata: RasterMetadata) {
  return [
    { name: 'block', type: 'bigint' },
    ...metadata.bands.map((band) => ({ name: band.name, type: 'number' })),
  ];
}

/** Step one: where the TileJSON is. `nrows` counts the blocks at the native resolution. */
export function buildRasterInstantiation(
  baseUrl: string,
  connection: string,
  name: string,
  metadata: RasterMetadata,
) {
  const params = new URLSearchParams({ name, format: 'tilejson', cache: rasterCacheKey(metadata) });
  return {
    nrows: metadata.num_blocks,
    schema: rasterSchema(metadata),
    tilejson: { url: [rasterEndpoint(baseUrl, connection, `?${params.toString()}`)] },
  };
}

/** Band statistics as tilestats attributes, for styling that reads tilestats. */
export function bandAttributes(metadata: RasterMetadata) {
  return metadata.bands.map((band) => ({
    attribute: band.name,
    type: 'Number' as const,
    min: band.stats.min,
    max: band.stats.max,
    sum: band.stats.sum,
    ...(band.stats.quantiles ? { quantiles: band.stats.quantiles } : {}),
  }));
}

/**
 * The raster's TileJSON 3.0.0 with CARTO's additions. Blocks are asked from `minzoom` to
 * `maxzoom` (the block resolutions held); deck.gl overzooms the native resolution.
 */
export function buildRasterTileJson(
  baseUrl: string,
  connection: string,
  name: string,
  metadata: RasterMetadata,
) {
  const params = new URLSearchParams({ name, cache: rasterCacheKey(metadata) });
  const attributes = bandAttributes(metadata);
  return {
    tilejson: '3.0.0',
    name,
    description: `Raster ${name}`,
    version: '1.0.0',
    attribution: '',
    scheme: 'quadbin',
    tiles: [rasterEndpoint(baseUrl, connection, `/{i}?${params.toString()}`)],
    minzoom: metadata.minresolution,
    maxzoom: metadata.maxresolution,
    minresolution: metadata.minresolution,
    maxresolution: metadata.maxresolution,
    bounds: metadata.bounds,
    center: metadata.center,
    vector_layers: [],
    tilestats: {
      layerCount: 1,
      layers: [
        {
          layer: 'default',
          count: metadata.num_pixels,
          geometry: null,
          attributeCount: attributes.length,
          attributes,
        },
      ],
    },
    raster_bands: metadata.bands.map((band) => band.name),
    raster_metadata: metadata,
    schema: rasterSchema(metadata),
  };
}
