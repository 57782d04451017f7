/**
 * The bodies that create and change a saved map, checked strictly: unknown fields and wrong
 * shapes answer 400. The Kepler.gl configuration is checked only where CARTO's `fetchMap`
 * reads it without a guard; the rest of it is kept as sent.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { errors } from '../http/errors.js';
import type { MapPrivacy } from '../store/schema.js';
import { checkedSelectListText } from '../widgets/expression.js';
import { assertValid, type CompiledCheck } from './body-errors.js';
import { checkRasterLayer } from './raster-layer.js';

/** Layer types `@deck.gl/carto`'s `fetchMap` turns into layers (its `LayerFactory`). */
export const LAYER_TYPES = [
  'mvt',
  'tileset',
  'h3',
  'quadbin',
  'clusterTile',
  'heatmapTile',
  'raster',
];
/** Dataset types fetchMap instantiates: a table, a query, a tileset or a raster table. */
export const DATASET_TYPES = ['table', 'query', 'tileset', 'raster'];
export const MAX_DATASETS = 100;
export const MAX_LAYERS = 100;

const literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
const text = (maxLength: number) => Type.String({ minLength: 1, maxLength });
const nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
/** An object whose own fields are not ours to check. */
const openObject = <T extends Parameters<typeof Type.Object>[0]>(properties: T) =>
  Type.Object(properties, { additionalProperties: true });

const DatasetSchema = Type.Object(
  {
    id: text(256),
    type: literals(DATASET_TYPES),
    /** Table, tileset or raster table name, or the SQL of a query dataset. */
    source: text(1_000_000),
    connectionName: text(256),
    geoColumn: nullable(text(256)),
    columns: nullable(Type.Array(text(256), { maxItems: 1000 })),
    aggregationExp: nullable(text(100_000)),
    aggregationResLevel: nullable(Type.Integer({ minimum: 0, maximum: 32 })),
    queryParameters: nullable(
      Type.Union([
        Type.Array(Type.Unknown(), { maxItems: 10_000 }),
        Type.Record(Type.String(), Type.Unknown()),
      ]),
    ),
    providerId: Type.Optional(text(64)),
  },
  { additionalProperties: false },
);

const LayerSchema = openObject({
  id: text(256),
  type: literals(LAYER_TYPES),
  config: openObject({
    dataId: text(256),
    visConfig: openObject({}),
    textLabel: Type.Optional(Type.Array(Type.Unknown())),
  }),
  visualChannels: openObject({}),
});

const KeplerMapConfigSchema = openObject({
  version: Type.Literal('v1'),
  config: openObject({
    visState: openObject({
      layers: Type.Array(LayerSchema, { maxItems: MAX_LAYERS }),
      interactionConfig: Type.Optional(openObject({ tooltip: openObject({}) })),
    }),
    mapState: openObject({
      latitude: Type.Number({ minimum: -90, maximum: 90 }),
      longitude: Type.Number({ minimum: -540, maximum: 540 }),
      zoom: Type.Number({ minimum: 0, maximum: 30 }),
    }),
    mapStyle: openObject({ styleType: Type.Optional(text(256)) }),
    filters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});

const PRIVACY = Type.Union([Type.Literal('public'), Type.Literal('private')]);

const fields = {
  title: text(255),
  description: Type.String({ maxLength: 10_000 }),
  privacy: PRIVACY,
  datasets: Type.Array(DatasetSchema, { maxItems: MAX_DATASETS }),
  keplerMapConfig: KeplerMapConfigSchema,
};

const NewMapSchema = Type.Object(
  {
    title: fields.title,
    description: Type.Optional(fields.description),
    privacy: Type.Optional(fields.privacy),
    datasets: fields.datasets,
    keplerMapConfig: fields.keplerMapConfig,
  },
  { additionalProperties: false },
);

const MapChangesSchema = Type.Object(
  {
    title: Type.Optional(fields.title),
    description: Type.Optional(fields.description),
    privacy: Type.Optional(fields.privacy),
    datasets: Type.Optional(fields.datasets),
    keplerMapConfig: Type.Optional(fields.keplerMapConfig),
  },
  { additionalProperties: false, minProperties: 1 },
);

export type MapDataset = Static<typeof DatasetSchema>;
export type KeplerMapConfig = Static<typeof KeplerMapConfigSchema>;
type MapLayer = Static<typeof LayerSchema>;

export interface NewMap {
  title: string;
  description: string;
  privacy: MapPrivacy;
  datasets: MapDataset[];
  keplerMapConfig: KeplerMapConfig;
}

export type MapChanges = Partial<NewMap>;

const newMapCheck = TypeCompiler.Compile(NewMapSchema);
const mapChangesCheck = TypeCompiler.Compile(MapChangesSchema);

function check<T>(compiled: CompiledCheck<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.malformedBody('expected a JSON object');
  }
  assertValid(compiled, body);
  return body;
}

/** Dataset fields fetchMap does not pass to `rasterSource`. */
const RASTER_IGNORED_FIELDS = [
  'geoColumn',
  'columns',
  'aggregationExp',
  'aggregationResLevel',
] as const;

/** `geoColumn` is `column`, `h3:column` or `quadbin:column`, as fetchMap splits it. */
const GEO_COLUMN = /^(?:(?:h3|quadbin):)?[^:]+$/;

/**
 * What the Maps API would refuse when fetchMap instantiates the dataset, refused at save time
 * instead: a `geoColumn` fetchMap cannot split, an `aggregationExp` that is no select list.
 */
function checkSpatialFields(dataset: MapDataset, index: number): void {
  if (dataset.type === 'raster') {
    // rasterSource reads only the table: a raster's blocks are its geometry and its columns.
    const ignored = RASTER_IGNORED_FIELDS.find((field) => dataset[field] != null);
    if (ignored) {
      throw errors.invalidParameter(
        `datasets[${index}].${ignored}`,
        'raster datasets take only a source and a connection',
      );
    }
  }
  if (dataset.geoColumn != null && !GEO_COLUMN.test(dataset.geoColumn)) {
    throw errors.invalidParameter(
      `datasets[${index}].geoColumn`,
      "expected 'column', 'h3:column' or 'quadbin:column'",
    );
  }
  if (dataset.aggregationExp != null) {
    checkedSelectListText(dataset.aggregationExp, `datasets[${index}].aggregationExp`);
  }
}

/**
 * A layer's dataset: a raster layer draws a raster dataset (its blocks and `raster_metadata`),
 * and a raster dataset is drawn by nothing else (its TileJSON has no vector tiles).
 */
function checkLayerDataset(layer: MapLayer, dataset: MapDataset, index: number): void {
  if ((layer.type === 'raster') === (dataset.type === 'raster')) return;
  throw errors.invalidParameter(
    `keplerMapConfig.config.visState.layers[${index}].config.dataId`,
    layer.type === 'raster'
      ? `a raster layer draws a raster dataset, and '${dataset.id}' is a ${dataset.type} dataset`
      : `'${dataset.id}' is a raster dataset, which only raster layers draw`,
  );
}

/**
 * Checks what fetchMap relies on across fields: dataset ids are unique, every layer names an
 * existing dataset of a kind it draws, query parameters belong to query datasets, and raster
 * layers say how to colour their pixels.
 */
export function checkMapReferences(datasets: MapDataset[], config: KeplerMapConfig): void {
  const byId = new Map<string, MapDataset>();
  datasets.forEach((dataset, index) => {
    if (byId.has(dataset.id)) {
      throw errors.invalidParameter(`datasets[${index}].id`, `'${dataset.id}' is used twice`);
    }
    byId.set(dataset.id, dataset);
    if (dataset.type !== 'query' && dataset.queryParameters != null) {
      throw errors.invalidParameter(
        `datasets[${index}].queryParameters`,
        'only query datasets take query parameters',
      );
    }
    checkSpatialFields(dataset, index);
  });
  config.config.visState.layers.forEach((layer, index) => {
    const dataset = byId.get(layer.config.dataId);
    if (!dataset) {
      throw errors.invalidParameter(
        `keplerMapConfig.config.visState.layers[${index}].config.dataId`,
        `no dataset has the id '${layer.config.dataId}'`,
      );
    }
    checkLayerDataset(layer, dataset, index);
    if (layer.type === 'raster') checkRasterLayer(layer, index);
  });
}

/** A new map from a request body, or a 400 `ApiError` naming the first bad field. */
export function readNewMap(body: unknown): NewMap {
  const input = check(newMapCheck, body);
  checkMapReferences(input.datasets, input.keplerMapConfig);
  return {
    title: input.title,
    description: input.description ?? '',
    privacy: input.privacy ?? 'private',
    datasets: input.datasets,
    keplerMapConfig: input.keplerMapConfig,
  };
}

/** The fields a PATCH body changes; references are checked once merged with the map. */
export function readMapChanges(body: unknown): MapChanges {
  return check(mapChangesCheck, body);
}
