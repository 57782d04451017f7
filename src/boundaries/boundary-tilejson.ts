/**
 * The instantiation and TileJSON of a boundary source: the boundary tileset's TileJSON (its
 * tiles, zooms and bounds), with the data's `properties_tiles`, fields, schema and tilestats.
 */
import { tilestatsType } from '../maps/tilestats.js';
import { buildTilesetTileJson, cacheKeyOf } from '../tilesets/tileset-metadata.js';
import type { OpenTileset } from '../tilesets/tileset-reader.js';
import type { BoundaryData } from './boundary-data.js';
import { GEOID, boundaryUrlParameters, type BoundarySource } from './boundary-source.js';

interface Where {
  baseUrl: string;
  connection: string;
}

interface Inspected extends BoundaryData {
  inspectedAt: number;
}

function boundaryEndpoint({ baseUrl, connection }: Where, suffix: string): string {
  return `${baseUrl}/v3/maps/${encodeURIComponent(connection)}/boundary${suffix}`;
}

/**
 * The source's parameters with the data version, which changes when the data is inspected
 * again, and the tileset version: a properties tile numbers its values by the features of the
 * geometry tile of that version, so a request naming an older one gets no data.
 */
function versionedParameters(
  source: BoundarySource,
  tileset: OpenTileset,
  data: Inspected,
): URLSearchParams {
  const params = boundaryUrlParameters(source);
  params.set('tilesetCache', cacheKeyOf(tileset.metadata));
  params.set('cache', String(data.inspectedAt));
  return params;
}

function dataFields(data: BoundaryData) {
  return [...data.strings, ...data.numbers];
}

/** Step one of CARTO's two-step protocol: where the TileJSON is, and the data's schema. */
export function buildBoundaryInstantiation(
  where: Where,
  source: BoundarySource,
  tileset: OpenTileset,
  data: Inspected,
) {
  const params = versionedParameters(source, tileset, data);
  params.set('format', 'tilejson');
  return {
    nrows: data.rowCount,
    schema: [
      { name: GEOID, type: 'string' },
      ...dataFields(data).map((f) => ({ name: f.name, type: f.cartoType })),
    ],
    tilejson: { url: [boundaryEndpoint(where, `?${params.toString()}`)] },
  };
}

/** The TileJSON deck.gl's `VectorTileLayer` reads for a boundary source. */
export function buildBoundaryTileJson(
  where: Where,
  source: BoundarySource,
  tileset: OpenTileset,
  data: Inspected,
) {
  const geometry = buildTilesetTileJson(
    where.baseUrl,
    where.connection,
    source.tilesetTableName,
    tileset.metadata,
  );
  const params = versionedParameters(source, tileset, data);
  const fields = Object.fromEntries(dataFields(data).map((f) => [f.name, tilestatsType(f)]));
  const [dataLayer] = data.tilestats.layers;
  const geometryType = tileset.metadata.tilestats.layers[0]?.geometry ?? null;
  const of = source.properties.type === 'table' ? `table ${source.properties.name}` : 'a query';
  return {
    ...geometry,
    name: source.tilesetTableName,
    description: `Boundaries of ${source.tilesetTableName} with the data of ${of}`,
    properties_tiles: [boundaryEndpoint(where, `/{z}/{x}/{y}?${params.toString()}`)],
    vector_layers: geometry.vector_layers.map((layer) => ({
      ...layer,
      fields: { [GEOID]: 'String', ...fields },
    })),
    tilestats: {
      layerCount: 1,
      layers: [{ ...dataLayer, geometry: geometryType }],
    },
    schema: [
      { name: GEOID, type: 'string' },
      ...dataFields(data).map((f) => ({ name: f.name, type: f.cartoType })),
    ],
  };
}
