import type { SourceDefinition } from './source-definition.js';
import { sourceUrlParameters } from './source-definition.js';
import type { SourceInspection } from './source-inspector.js';
import { tilestatsType } from './tilestats.js';
import { tileResolutions } from './spatial-index/spatial-source.js';

/** Highest zoom we announce and serve; deeper views overzoom these tiles. */
export const MAX_ZOOM = 22;
const WORLD_BOUNDS: [number, number, number, number] = [-180, -85.051129, 180, 85.051129];

function schemaOf(inspection: SourceInspection) {
  return inspection.fields.map((f) => ({ name: f.name, type: f.cartoType }));
}

/** A path under the connection's maps endpoint plus its query string. */
function endpointUrl(baseUrl: string, source: SourceDefinition, suffix: string): string {
  return `${baseUrl}/v3/maps/${encodeURIComponent(source.connection)}/${source.type}${suffix}`;
}

/** The source's parameters plus its tile format and the inspection it was served from. */
function versionedParameters(source: SourceDefinition, inspection: SourceInspection) {
  const params = sourceUrlParameters(source);
  params.set('formatTiles', source.formatTiles);
  params.set('cache', String(inspection.inspectedAt));
  return params;
}

/**
 * Step one of CARTO's two-step protocol: where to fetch the TileJSON (and, for small sources,
 * the whole data in `dataFormats`), and the schema.
 */
export function buildInstantiation(
  baseUrl: string,
  source: SourceDefinition,
  inspection: SourceInspection,
  dataFormats: readonly string[] = [],
) {
  const urlFor = (format: string) => {
    const params = versionedParameters(source, inspection);
    params.set('format', format);
    return { url: [endpointUrl(baseUrl, source, `?${params.toString()}`)] };
  };
  return {
    nrows: inspection.rowCount,
    schema: schemaOf(inspection),
    tilejson: urlFor('tilejson'),
    ...Object.fromEntries(dataFormats.map((format) => [format, urlFor(format)])),
  };
}

function centerOf(bounds: [number, number, number, number]): [number, number, number] {
  const [west, south, east, north] = bounds;
  const span = Math.max(east - west, (north - south) * 2, 1e-9);
  const zoom = Math.max(0, Math.min(MAX_ZOOM, Math.floor(Math.log2(360 / span))));
  return [(west + east) / 2, (south + north) / 2, zoom];
}

/** What every TileJSON document has: its header, tile template, bounds and layer fields. */
function tileJsonParts(
  baseUrl: string,
  source: SourceDefinition,
  inspection: SourceInspection,
  tilePath: string,
) {
  const params = versionedParameters(source, inspection);
  return {
    header: {
      tilejson: '3.0.0',
      name: source.type === 'table' ? source.name : 'query',
      description: '',
      version: '1.0.0',
      attribution: '',
    },
    tiles: [endpointUrl(baseUrl, source, `${tilePath}?${params.toString()}`)],
    bounds: inspection.bounds ?? WORLD_BOUNDS,
    fields: Object.fromEntries(inspection.properties.map((f) => [f.name, tilestatsType(f)])),
  };
}

/** Step two: the TileJSON 3.0.0 document with CARTO's additions. */
export function buildTileJson(
  baseUrl: string,
  source: SourceDefinition,
  inspection: SourceInspection,
) {
  if (inspection.spatialIndex) return buildSpatialIndexTileJson(baseUrl, source, inspection);
  const { header, tiles, bounds, fields } = tileJsonParts(
    baseUrl,
    source,
    inspection,
    '/{z}/{x}/{y}',
  );
  const geometry = inspection.tilestats.layers[0].geometry;
  return {
    ...header,
    scheme: 'xyz',
    tiles,
    minzoom: 0,
    maxzoom: MAX_ZOOM,
    bounds,
    center: centerOf(bounds),
    vector_layers: [
      {
        id: 'default',
        minzoom: 0,
        maxzoom: MAX_ZOOM,
        fields,
        ...(geometry ? { geometry_type: geometry } : {}),
      },
    ],
    tilestats: inspection.tilestats,
    tileResolution: source.tileResolution,
    fraction_dropped_per_zoom: inspection.fractionDroppedPerZoom,
    schema: schemaOf(inspection),
  };
}

/**
 * TileJSON of an h3 or quadbin source: tiles are cells (`{i}`), and the resolutions a client
 * may ask them at stop `aggregationResLevel` above the source's own resolution.
 */
function buildSpatialIndexTileJson(
  baseUrl: string,
  source: SourceDefinition,
  inspection: SourceInspection,
) {
  const spatialIndex = inspection.spatialIndex!;
  const { header, tiles, bounds, fields } = tileJsonParts(baseUrl, source, inspection, '/{i}');
  const { min, max } = tileResolutions(spatialIndex, source.aggregationResLevel);
  const maxzoom = spatialIndex.scheme === 'quadbin' ? max : MAX_ZOOM;
  return {
    ...header,
    scheme: spatialIndex.scheme,
    tiles,
    minzoom: 0,
    maxzoom,
    minresolution: min,
    maxresolution: max,
    bounds,
    center: centerOf(bounds),
    vector_layers: [{ id: 'default', minzoom: 0, maxzoom, fields }],
    tilestats: inspection.tilestats,
    tileResolution: source.tileResolution,
    aggregationResLevel: source.aggregationResLevel,
    schema: schemaOf(inspection),
  };
}
