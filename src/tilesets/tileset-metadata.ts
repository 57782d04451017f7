/**
 * What a tileset records about itself in its metadata row, and the TileJSON served from it.
 * The metadata holds the TileJSON pieces computed when the tileset was made, so serving it
 * never touches the source again.
 */
import type { SourceDefinition } from '../maps/source-definition.js';
import type { SourceInspection } from '../maps/source-inspector.js';
import type { CellScheme, SpatialIndexType } from '../maps/spatial-index/cells.js';
import { MAX_ZOOM, buildTileJson } from '../maps/tilejson.js';
import type { Tilestats } from '../maps/tilestats.js';
import type { TileFormat } from '../maps/tiles/tile-query.js';
import type { Bounds } from './tile-ranges.js';

/** Version of the table layout and metadata below; readers refuse versions they do not know. */
export const TILESET_LAYOUT_VERSION = 1;
/**
 * Spatial-index tilesets key H3 tiles differently (see spatial-tileset.ts): a server that
 * knows only version 1 must refuse them rather than serve cells as vector tiles.
 */
export const SPATIAL_INDEX_LAYOUT_VERSION = 2;

/** How a tileset's tiles are named: XYZ vector tiles, or cells (`{i}`) of a spatial index. */
export type TilesetScheme = 'xyz' | CellScheme;

export interface TilesetMetadata {
  /** Marks the row as Graticule's and versions its layout. */
  graticule_tileset: number;
  /** Absent in the first tilesets, which are all `xyz`. */
  scheme?: TilesetScheme;
  /** Spatial-index tilesets' `binary` is CARTO's spatial tile. */
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
    spatialDataType?: SpatialIndexType;
  };
  /**
   * Spatial-index tilesets: how their cells were aggregated. Their `minzoom` and `maxzoom`
   * are the tiles' resolutions.
   */
  spatial_index?: {
    /** The resolution of the source's cells. */
    dataresolution: number;
    aggregationExp: string;
    aggregationResLevel: number;
  };
  row_count: number;
  tile_count: number;
  max_features: number;
  /** ISO-8601 UTC; its milliseconds are the `cache` value of every URL handed out. */
  created_at: string;
}

/** The layout version and scheme agree: version 1 is XYZ, version 2 cells with their details. */
function hasKnownLayout(m: Partial<TilesetMetadata>): boolean {
  if (m.graticule_tileset === TILESET_LAYOUT_VERSION) {
    return m.scheme === undefined || m.scheme === 'xyz';
  }
  const spatial = m.spatial_index;
  return (
    m.graticule_tileset === SPATIAL_INDEX_LAYOUT_VERSION &&
    (m.scheme === 'h3' || m.scheme === 'quadbin') &&
    m.format === 'binary' &&
    typeof spatial === 'object' &&
    spatial !== null &&
    Number.isInteger(spatial.dataresolution) &&
    Number.isInteger(spatial.aggregationResLevel)
  );
}

/** Checks what the metadata row holds before it is trusted. */
export function isTilesetMetadata(value: unknown): value is TilesetMetadata {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<TilesetMetadata>;
  return (
    hasKnownLayout(m) &&
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

/** The TileJSON zooms of a tileset: its own, except H3's resolutions, which span every zoom. */
function tileJsonZooms(
  scheme: TilesetScheme,
  range: { minZoom: number; maxZoom: number },
): [number, number] {
  return scheme === 'h3' ? [0, MAX_ZOOM] : [range.minZoom, range.maxZoom];
}

/** What a spatial-index tileset stores: its cells (the ids of the tiles') and their aggregates. */
function spatialIndexSchema(source: SourceDefinition, inspection: SourceInspection) {
  const scheme = inspection.spatialIndex!.scheme;
  return [
    { name: source.spatialDataColumn, type: scheme === 'h3' ? 'string' : 'bigint' },
    ...inspection.spatialIndex!.columns.map((f) => ({ name: f.name, type: f.cartoType })),
  ];
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
  const spatialIndex = inspection.spatialIndex;
  const scheme: TilesetScheme = spatialIndex ? spatialIndex.scheme : 'xyz';
  // The on-demand TileJSON computes the same pieces; only the zoom range differs.
  const tilejson = buildTileJson('', source, { ...inspection, bounds: input.bounds });
  const [layerMinZoom, layerMaxZoom] = tileJsonZooms(scheme, input);
  const centerZoom = spatialIndex ? tilejson.center[2] : clampZoom(tilejson.center[2], input);
  const spatialDataColumn = source.spatialDataColumn;
  const spatialDataType = spatialIndex ? { spatialDataType: spatialIndex.type } : {};
  return {
    graticule_tileset: spatialIndex ? SPATIAL_INDEX_LAYOUT_VERSION : TILESET_LAYOUT_VERSION,
    scheme,
    format: input.format,
    tileResolution: source.tileResolution,
    minzoom: minZoom,
    maxzoom: maxZoom,
    bounds: input.bounds,
    center: [tilejson.center[0], tilejson.center[1], centerZoom],
    vector_layers: tilejson.vector_layers.map((layer) => ({
      ...layer,
      minzoom: layerMinZoom,
      maxzoom: layerMaxZoom,
    })),
    tilestats: inspection.tilestats,
    fraction_dropped_per_zoom: inspection.fractionDroppedPerZoom.slice(0, maxZoom + 1),
    schema: spatialIndex ? spatialIndexSchema(source, inspection) : tilejson.schema,
    source:
      source.type === 'table'
        ? { type: 'table', name: source.name, spatialDataColumn, ...spatialDataType }
        : {
            type: 'query',
            q: source.q,
            queryParameters: source.queryParameters,
            spatialDataColumn,
            ...spatialDataType,
          },
    ...(spatialIndex
      ? {
          spatial_index: {
            dataresolution: spatialIndex.resolution,
            aggregationExp: source.aggregationExp ?? '',
            aggregationResLevel: source.aggregationResLevel,
          },
        }
      : {}),
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

const SCHEME_NAMES: Record<TilesetScheme, string> = { xyz: '', h3: 'H3 ', quadbin: 'Quadbin ' };

function describeSource(metadata: TilesetMetadata): string {
  const of = metadata.source.type === 'table' ? `table ${metadata.source.name}` : 'a query';
  const kind = SCHEME_NAMES[schemeOfTileset(metadata)];
  return kind ? `${kind}tileset of ${of}` : `Tileset of ${of}`;
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

/** The scheme a tileset's tiles follow; the first tilesets did not write it. */
export function schemeOfTileset(metadata: TilesetMetadata): TilesetScheme {
  return metadata.scheme ?? 'xyz';
}

/**
 * The tileset's TileJSON 3.0.0 document with CARTO's additions. A spatial-index tileset's
 * tiles are cells (`{i}`), asked at `minresolution` to `maxresolution`, as deck.gl's
 * `H3TileLayer` and `QuadbinTileLayer` read them (the quadbin layer takes `maxresolution` as
 * its deepest zoom).
 */
export function buildTilesetTileJson(
  baseUrl: string,
  connection: string,
  name: string,
  metadata: TilesetMetadata,
) {
  const scheme = schemeOfTileset(metadata);
  const params = new URLSearchParams({
    name,
    formatTiles: metadata.format,
    cache: cacheKeyOf(metadata),
  });
  const tilePath = scheme === 'xyz' ? '/{z}/{x}/{y}' : '/{i}';
  const header = {
    tilejson: '3.0.0',
    name,
    description: describeSource(metadata),
    version: '1.0.0',
    attribution: '',
    scheme,
    tiles: [tilesetEndpoint(baseUrl, connection, `${tilePath}?${params.toString()}`)],
  };
  const common = {
    bounds: metadata.bounds,
    center: metadata.center,
    vector_layers: metadata.vector_layers,
    tilestats: metadata.tilestats,
    tileResolution: metadata.tileResolution,
  };
  const spatial = metadata.spatial_index;
  if (scheme === 'xyz' || !spatial) {
    return {
      ...header,
      minzoom: metadata.minzoom,
      maxzoom: metadata.maxzoom,
      ...common,
      fraction_dropped_per_zoom: metadata.fraction_dropped_per_zoom,
      schema: metadata.schema,
    };
  }
  const [minzoom, maxzoom] = tileJsonZooms(scheme, {
    minZoom: metadata.minzoom,
    maxZoom: metadata.maxzoom,
  });
  return {
    ...header,
    minzoom,
    maxzoom,
    minresolution: metadata.minzoom,
    maxresolution: metadata.maxzoom,
    ...common,
    aggregationResLevel: spatial.aggregationResLevel,
    dataresolution: spatial.dataresolution,
    schema: metadata.schema,
  };
}
