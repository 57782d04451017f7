/**
 * Route schemas of saved maps (`/v3/maps`, `/v3/maps/{id}`, `/v3/maps/public/{id}`): their
 * documentation in the OpenAPI document. Bodies are checked by map-body.ts, whose rules these
 * schemas describe; only the `{id}` path parameter is validated here.
 */
import { Type, type TProperties, type TSchema } from '@sinclair/typebox';
import { literals } from '../sql/sql-schemas.js';
import { DATASET_TYPES, LAYER_TYPES, MAX_DATASETS, MAX_LAYERS } from './map-body.js';
import {
  RASTER_COLOR_BAND_TYPES,
  RASTER_COLOR_BANDS,
  RASTER_COLOR_SCALES,
  RASTER_STYLE_TYPES,
} from './raster-layer.js';

const TAGS = ['Saved maps'];

const openObject = (properties: TProperties, description?: string) =>
  Type.Object(properties, { additionalProperties: true, ...(description ? { description } : {}) });
const text = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, description });
const nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

const Dataset = Type.Object(
  {
    id: text(256, 'Unique in the map; layers name it in `config.dataId`'),
    type: literals(DATASET_TYPES, {
      description: '`raster` reads a raster table (see the Maps API raster source)',
    }),
    source: text(
      1_000_000,
      'The table, tileset or raster table name, or the SQL of a query dataset',
    ),
    connectionName: text(256, 'The connection of the map owner it reads'),
    geoColumn: nullable(
      text(256, '`column`, `h3:column` or `quadbin:column`; raster datasets take none'),
    ),
    columns: Type.Optional(
      Type.Union([Type.Array(Type.String(), { maxItems: 1000 }), Type.Null()], {
        description: 'The columns its tiles carry; raster datasets take none',
      }),
    ),
    aggregationExp: nullable(text(100_000, 'A SQL select list of aggregates (cell sources)')),
    aggregationResLevel: nullable(Type.Integer({ minimum: 0, maximum: 32 })),
    queryParameters: Type.Optional(
      Type.Union(
        [Type.Array(Type.Unknown()), Type.Record(Type.String(), Type.Unknown()), Type.Null()],
        { description: 'Query datasets: the bind values of `$1, $2, ...`' },
      ),
    ),
    providerId: Type.Optional(
      text(64, "The connection's warehouse; the public map fills it in when absent"),
    ),
  },
  { additionalProperties: false, description: 'A source of the map, as fetchMap instantiates it' },
);

const ColorRange = openObject(
  {
    colors: Type.Optional(Type.Array(Type.String(), { description: 'Colours as `#rrggbb`' })),
    colorMap: Type.Optional(
      Type.Union([Type.Array(Type.Array(Type.Unknown())), Type.Null()], {
        description: '`[value, colour]` pairs: the values of `UniqueValues`, `custom` steps',
      }),
    ),
  },
  'A Kepler.gl colour range. Raster layers need 1 to 256 `colors` (`#rrggbb`) and, when ' +
    'given, a `colorMap` of `[value, colour]` pairs',
);

const RasterColorBand = openObject(
  {
    band: literals(RASTER_COLOR_BANDS),
    type: literals(RASTER_COLOR_BAND_TYPES),
    value: Type.Optional(
      Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()], {
        description: 'A band name (`band`) or an expression of bands (`expression`)',
      }),
    ),
  },
  'The colour channel of an `Rgb` raster layer and what fills it',
);

const VisConfig = openObject(
  {
    rasterStyleType: Type.Optional(
      literals(RASTER_STYLE_TYPES, {
        description:
          'Raster layers (required): `Rgb` colours pixels from `colorBands`; `ColorRange` ' +
          'scales the band `visualChannels.colorField` over `colorRange` with ' +
          '`visualChannels.colorScale`; `UniqueValues` maps its values to ' +
          '`uniqueValuesColorRange`',
      }),
    ),
    colorBands: Type.Optional(
      Type.Array(RasterColorBand, {
        minItems: 1,
        maxItems: RASTER_COLOR_BANDS.length,
        description:
          '`Rgb` raster layers: each channel once, at least one reading a band (by name or ' +
          'in an expression)',
      }),
    ),
    colorRange: Type.Optional(ColorRange),
    uniqueValuesColorRange: Type.Optional(ColorRange),
  },
  "The layer's style; raster layers need the fields of their `rasterStyleType`",
);

const VisualChannels = openObject(
  {
    colorField: Type.Optional(
      openObject(
        { name: text(256, 'The attribute, or the band of a raster layer') },
        'What colours the layer; `ColorRange` and `UniqueValues` raster layers need it',
      ),
    ),
    colorScale: Type.Optional(
      Type.String({
        description:
          'The colour scale; `ColorRange` raster layers need one of ' +
          RASTER_COLOR_SCALES.join(', '),
      }),
    ),
  },
  "The layer's visual channels",
);

const Layer = openObject(
  {
    id: text(256, "The layer's id"),
    type: literals(LAYER_TYPES, {
      description: 'A layer type fetchMap builds; a `raster` layer draws a `raster` dataset',
    }),
    config: openObject({
      dataId: text(256, 'The dataset it draws'),
      visConfig: VisConfig,
      textLabel: Type.Optional(Type.Array(Type.Unknown())),
    }),
    visualChannels: VisualChannels,
  },
  'A Kepler.gl layer; fields besides these are kept as sent',
);

const KeplerMapConfig = openObject(
  {
    version: Type.Literal('v1'),
    config: openObject({
      visState: openObject({
        layers: Type.Array(Layer, { maxItems: MAX_LAYERS }),
        interactionConfig: Type.Optional(openObject({ tooltip: openObject({}) })),
      }),
      mapState: openObject({
        latitude: Type.Number({ minimum: -90, maximum: 90 }),
        longitude: Type.Number({ minimum: -540, maximum: 540 }),
        zoom: Type.Number({ minimum: 0, maximum: 30 }),
      }),
      mapStyle: openObject({ styleType: Type.Optional(text(256, 'The basemap, e.g. `positron`')) }),
      filters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  "The map's Kepler.gl configuration, as CARTO Builder saves it; checked where fetchMap needs",
);

const Privacy = literals(['public', 'private'], {
  description: '`public`: anyone may read it at `/v3/maps/public/{id}`; `private` (default)',
});

const MapFields = {
  title: text(255, "The map's title"),
  description: Type.String({ maxLength: 10_000, description: 'Free text' }),
  privacy: Privacy,
  datasets: Type.Array(Dataset, {
    maxItems: MAX_DATASETS,
    description: `The sources its layers draw, at most ${MAX_DATASETS}`,
  }),
  keplerMapConfig: KeplerMapConfig,
};

const Timestamps = {
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time', description: 'Its ETag and Last-Modified' }),
};

const MapId = Type.String({ format: 'uuid', description: "The map's id" });

const SavedMap = Type.Object(
  { id: MapId, ...MapFields, ...Timestamps },
  { additionalProperties: false, description: 'A saved map' },
);

const SharedMap = Type.Object(
  {
    id: MapId,
    ...MapFields,
    ...Timestamps,
    token: Type.Optional(
      Type.String({
        description:
          "A public map's token: an API access token that reads the map's datasets through " +
          "the Maps and SQL APIs and nothing else; fetchMap uses it instead of the viewer's. " +
          'It lasts while the map is public and follows its datasets.',
      }),
    ),
  },
  { additionalProperties: false, description: 'A saved map as fetchMap reads it' },
);

const SavedMapSummary = Type.Object(
  {
    id: MapId,
    title: MapFields.title,
    description: MapFields.description,
    privacy: Privacy,
    ...Timestamps,
  },
  { additionalProperties: false },
);

/** A map of the demo data: countries, and cities of more than a million people. */
const MAP_EXAMPLE = {
  title: 'World and big cities',
  description: 'Countries and every city of more than a million people',
  privacy: 'public',
  datasets: [
    {
      id: 'countries',
      type: 'table',
      source: 'demo.countries',
      connectionName: 'carto_dw',
      geoColumn: 'geom',
      columns: ['name', 'iso_n3'],
    },
    {
      id: 'places',
      type: 'query',
      source: 'SELECT name, population, geom FROM demo.populated_places WHERE population > $1',
      queryParameters: [1_000_000],
      connectionName: 'carto_dw',
      geoColumn: 'geom',
    },
  ],
  keplerMapConfig: {
    version: 'v1',
    config: {
      mapState: { latitude: 40.4, longitude: -3.7, zoom: 3 },
      mapStyle: { styleType: 'positron' },
      visState: {
        layers: [
          {
            id: 'countries-layer',
            type: 'mvt',
            config: { dataId: 'countries', visConfig: { opacity: 0.6, filled: true } },
            visualChannels: {},
          },
          {
            id: 'places-layer',
            type: 'mvt',
            config: { dataId: 'places', visConfig: { radius: 4, opacity: 1 } },
            visualChannels: { colorField: { name: 'population' }, colorScale: 'quantile' },
          },
        ],
      },
    },
  },
};

const idParams = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: 256,
    description: "The map's id (a UUID)",
    examples: ['{{mapId}}'],
  }),
});

export const LIST_SAVED_MAPS_SCHEMA = {
  tags: TAGS,
  operationId: 'listSavedMaps',
  summary: 'List saved maps',
  description:
    "A page of the account's maps, most recently changed first, without their datasets and " +
    'configuration (a Graticule extension).',
  querystring: Type.Object({
    page: Type.Optional(Type.Integer({ minimum: 1, description: 'The page, from 1' })),
    pageSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description: 'Maps per page, up to 1000 (default 100)',
        examples: [20],
      }),
    ),
  }),
  response: {
    200: Type.Object(
      {
        data: Type.Array(SavedMapSummary),
        meta: Type.Object(
          {
            total: Type.Integer({ minimum: 0 }),
            page: Type.Integer({ minimum: 1 }),
            pageSize: Type.Integer({ minimum: 1 }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false, description: 'A page of maps' },
    ),
  },
};

export const CREATE_SAVED_MAP_SCHEMA = {
  tags: TAGS,
  operationId: 'createSavedMap',
  summary: 'Save a map',
  description:
    'Saves a map for `fetchMap`: its datasets and Kepler.gl configuration, checked where ' +
    'fetchMap relies on them (unknown fields answer 400). Editors and Admins; a Graticule ' +
    'extension. The example map is public.',
  body: Type.Object(
    {
      title: MapFields.title,
      description: Type.Optional(MapFields.description),
      privacy: Type.Optional(Privacy),
      datasets: MapFields.datasets,
      keplerMapConfig: KeplerMapConfig,
    },
    { additionalProperties: false, description: 'The map', examples: [MAP_EXAMPLE] },
  ),
  response: { 201: { ...SavedMap, description: 'The saved map (`Location` names it)' } },
  'x-save': { mapId: 'id' },
};

export const GET_SAVED_MAP_SCHEMA = {
  tags: TAGS,
  operationId: 'getSavedMap',
  summary: 'Read a saved map',
  description: "Answers one of the account's maps as it was saved (a Graticule extension).",
  params: idParams,
  response: { 200: SavedMap },
};

export const UPDATE_SAVED_MAP_SCHEMA = {
  tags: TAGS,
  operationId: 'updateSavedMap',
  summary: 'Change a saved map',
  description:
    'Replaces the fields the body gives (at least one) and answers the map; the result is ' +
    'checked as a new map is. Editors and Admins; a Graticule extension.',
  params: idParams,
  body: Type.Object(
    {
      title: Type.Optional(MapFields.title),
      description: Type.Optional(MapFields.description),
      privacy: Type.Optional(Privacy),
      datasets: Type.Optional(MapFields.datasets),
      keplerMapConfig: Type.Optional(KeplerMapConfig),
    },
    {
      additionalProperties: false,
      minProperties: 1,
      description: 'The fields to replace',
      examples: [{ title: 'World and big cities, edited' }],
    },
  ),
  response: { 200: { ...SavedMap, description: 'The changed map' } },
};

export const DELETE_SAVED_MAP_SCHEMA = {
  tags: TAGS,
  operationId: 'deleteSavedMap',
  summary: 'Delete a saved map',
  description: "Deletes one of the account's maps. Editors and Admins; a Graticule extension.",
  params: idParams,
  response: { 204: { type: 'null', description: 'Deleted' } },
};

export const GET_PUBLIC_MAP_SCHEMA = {
  tags: TAGS,
  operationId: 'getPublicMap',
  summary: 'Read a map for fetchMap',
  description:
    "What CARTO's `fetchMap` reads: a public map for anyone, without a token; a private map " +
    'only with a token of its account (to others it does not exist, 404). Each dataset names ' +
    'its warehouse in `providerId`. Answers carry an ETag and Last-Modified; 304 when unchanged.',
  // A token is optional: a public map needs none, a private one a token of its account.
  security: [{}, { bearerAuth: [] }] as Record<string, string[]>[],
  params: idParams,
  response: {
    200: { ...SharedMap, description: 'The map' },
    304: { type: 'null', description: 'Unchanged since `If-None-Match` or `If-Modified-Since`' },
  },
};
