/**
 * What a tileset records about itself in its metadata row, and the TileJSON served from it.
 * The metadata holds the TileJSON pieces computed when the tileset was made, so serving it
 * never touches the source again.
 */
import type { SourceDefinition } from '../maps/source-definition.js';
import type { SourceInspection } from '../maps/source-inspector.js';
import { buildTileJson } from '../maps/tilejson.js';
import type { Tilestats } from '../maps/tilestats.js';
import type { TileFormat } from '../maps/tiles/tile-query.js';
import type { Bounds } from './tile-ranges.js';

/** Version of the table layout and metadata below; readers refuse versions they do not know. */
export const TILESET_LAYOUT_VERSION = 1;

export interface TilesetMetadata {
  /** Marks the row as Graticule's and versions its layout. */
  graticule_tileset: number;
  format: TileFormat;
  tileResolution: number;
  minzoom: number;
  maxzoom: number;
  bounds: Bounds;
  center: [number, number, number];
  vector_layers: {
    id: string;
    minzoom: number;
    maxzoom: number;
    fields: Record<string, string>;
    geometry_type?: string;
  }[];
  tilestats: Tilestats;
  fraction_dropped_per_zoom: number[];
  schema: { name: string; type: string }[];
  source: {
    type: 'table' | 'query';
    name?: string;
    q?: string;
    queryParameters?: unknown[];
    spatialDataColumn: string;
  };
  row_count: number;
  tile_count: number;
  max_features: number;
  /** ISO-8601 UTC; its milliseconds are the `cache` value of every URL handed out. */
  created_at: string;
}

/** Checks what the metadata row holds before it is trusted. */
export function isTilesetMetadata(value: unknown): value is TilesetMetadata {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<TilesetMetadata>;
  return (
    m.graticule_tileset === TILESET_LAYOUT_VERSION &&
    (m.format === 'mvt' || m.format === 'binary') &&
    Number.isInteger(m.minzoom) &&
    Number.isInteger(m.maxzoom) &&
    Array.isArray(m.bounds) &&
    m.bounds.length === 4 &&
    Array.isArray(m.vector_layers) &&
    typeof m.tilestats === 'object' &&
    typeof m.created_at === 'string' &&
    Number.isFinite(Date.parse(m.created_at))
  );
}

/** The metadata of a tileset built from `source` as `inspection` found it. */
export function buildTilesetMetadata(input: {
  source: SourceDefinition;
  inspection: SourceInspection;
  bounds: Bounds;
  format: TileFormat;
  minZoom: number;
  maxZoom: number;
  maxFeatures: number;
  tileCount: number;
  createdAt: Date;
}): TilesetMetadata {
  const { source, inspection, minZoom, maxZoom } = input;
  // The on-demand TileJSON computes the same pieces; only the zoom range differs.
  const tilejson = buildTileJson('', source, { ...inspection, bounds: input.bounds });
  return {
    graticule_tileset: TILESET_LAYOUT_VERSION,
    format: input.format,
    tileResolution: source.tileResolution,
    minzoom: minZoom,
    maxzoom: maxZoom,
    bounds: input.bounds,
    center: [tilejson.center[0], tilejson.center[1], clampZoom(tilejson.center[2], input)],
    vector_layers: tilejson.vector_layers.map((layer) => ({
      ...layer,
      minzoom: minZoom,
      maxzoom: maxZoom,
    })),
    tilestats: inspection.tilestats,
    fraction_dropped_per_zoom: inspection.fractionDroppedPerZoom.slice(0, maxZoom + 1),
    schema: tilejson.schema,
    source:
      source.type === 'table'
        ? { type: 'table', name: source.name, spatialDataColumn: source.spatialDataColumn }
        : {
            type: 'query',
            q: source.q,
            queryParameters: source.queryParameters,
            spatialDataColumn: source.spatialDataColumn,
          },
    row_count: inspection.rowCount,
    tile_count: input.tileCount,
    max_features: input.maxFeatures,
    created_at: input.createdAt.toISOString(),
  };
}

function clampZoom(zoom: number, range: { minZoom: number; maxZoom: number }): number {
  return Math.min(range.maxZoom, Math.max(range.minZoom, zoom));
}

/** The `cache` value of a tileset's URLs: it changes whenever the tileset is made again. */
export function cacheKeyOf(metadata: TilesetMetadata): string {
  return String(Date.parse(metadata.created_at));
}

/** `{base}/v3/maps/{connection}/tileset` plus a path suffix. */
function tilesetEndpoint(baseUrl: string, connection: string, suffix = ''): string {
  return `${baseUrl}/v3/maps/${encodeURIComponent(connection)}/tileset${suffix}`;
}

function describeSource(metadata: TilesetMetadata): string {
  return metadata.source.type === 'table'
    ? `Tileset of table ${metadata.source.name}`
    : 'Tileset of a query';
}

/**
 * Step one of CARTO's two-step protocol for a tileset: where its TileJSON is, and its schema.
 * `@carto/api-client` reads `tilejson.url[0]` here for every source type, tilesets included.
 */
export function buildTilesetInstantiation(
  baseUrl: string,
  connection: string,
  name: string,
  metadata: TilesetMetadata,
) {
  const params = new URLSearchParams({ name, format: 'tilejson', cache: cacheKeyOf(metadata) });
  return {
    nrows: metadata.row_count,
    schema: metadata.schema,
    tilejson: { url: [tilesetEndpoint(baseUrl, connection, `?${params.toString()}`)] },
  };
}

/** The tileset's TileJSON 3.0.0 document with CARTO's additions. */
export function buildTilesetTileJson(
  baseUrl: string,
  connection: string,
  name: string,
  metadata: TilesetMetadata,
) {
  const params = new URLSearchParams({
    name,
    formatTiles: metadata.format,
    cache: cacheKeyOf(metadata),
  });
  return {
    tilejson: '3.0.0',
    name,
    description: describeSource(metadata),
    version: '1.0.0',
    attribution: '',
    scheme: 'xyz',
    tiles: [tilesetEndpoint(baseUrl, connection, `/{z}/{x}/{y}?${params.toString()}`)],
    minzoom: metadata.minzoom,
    maxzoom: metadata.maxzoom,
    bounds: metadata.bounds,
    center: metadata.center,
    vector_layers: metadata.vector_layers,
    tilestats: metadata.tilestats,
    tileResolution: metadata.tileResolution,
    fraction_dropped_per_zoom: metadata.fraction_dropped_per_zoom,
    schema: metadata.schema,
  };
}
