/**
 * Route schemas of raster sources (`/v3/maps/{connection}/raster` and its blocks): their
 * documentation in the OpenAPI document. Only path parameters are validated, with the limits
 * other tile routes have; raster-routes.ts and raster-reader.ts read the rest.
 */
import { Type } from '@sinclair/typebox';
import { Cache, SourceName, tileAnswers } from '../maps/maps-schemas.js';
import {
  ApiVersion,
  ClientName,
  ResultSchema,
  connectionPathParams,
  jsonText,
  withExample,
} from '../sql/sql-schemas.js';

const TAGS = ['Maps'];

/** The demo raster of the embedded warehouse, and one of its blocks (resolution 4). */
const RASTER_EXAMPLE = 'demo.relief_raster';
const BLOCK_EXAMPLE = '48462fffffffffff';

const RasterName = withExample(
  { ...SourceName, description: 'The raster table: `schema.table`' },
  RASTER_EXAMPLE,
);

const FILTERS_DESCRIPTION =
  "CARTO's filters, as `rasterSource` sends them: checked to be a JSON object, not applied " +
  "(blocks carry every pixel; the source's widgets filter the pixels of loaded tiles)";

function rasterSource(where: 'query' | 'body') {
  return Type.Object({
    name: RasterName,
    format: Type.Optional(
      Type.Literal('tilejson', {
        description: 'Absent: the instantiation (step one); `tilejson`: the TileJSON',
      }),
    ),
    filters: Type.Optional(
      where === 'query'
        ? jsonText(FILTERS_DESCRIPTION)
        : Type.Record(Type.String(), Type.Unknown(), { description: FILTERS_DESCRIPTION }),
    ),
    cache: Type.Optional(Cache),
    v: Type.Optional(ApiVersion),
    client: Type.Optional(ClientName),
  });
}

const UrlList = Type.Array(Type.String({ format: 'uri' }), { minItems: 1, maxItems: 1 });

const RasterInstantiation = Type.Object(
  {
    nrows: Type.Integer({ minimum: 0, description: 'Blocks at the native resolution' }),
    schema: ResultSchema,
    tilejson: Type.Object(
      { url: UrlList },
      { additionalProperties: false, description: 'Where the TileJSON is (`format=tilejson`)' },
    ),
  },
  { additionalProperties: false, description: 'Where the TileJSON is' },
);

const Nodata = Type.Union([Type.Number(), Type.String()], {
  description: "The value of pixels without data (`'nan'` when none is declared)",
});

const RasterBand = Type.Object(
  {
    name: Type.String({ description: "The band's column" }),
    type: Type.String({ description: '`uint8`, `int16`, `float32`, ...' }),
    nodata: Nodata,
    stats: Type.Object({}, { additionalProperties: true, description: 'min, max, mean, ...' }),
  },
  { additionalProperties: true },
);

const RasterMetadata = Type.Object(
  {
    block_resolution: Type.Integer({ description: 'Resolution of the native blocks' }),
    minresolution: Type.Integer(),
    maxresolution: Type.Integer(),
    nodata: Nodata,
    bands: Type.Array(RasterBand),
    bounds: Type.Array(Type.Number(), { minItems: 4, maxItems: 4 }),
    center: Type.Array(Type.Number(), { minItems: 3, maxItems: 3 }),
    width: Type.Number(),
    height: Type.Number(),
    block_width: Type.Integer(),
    block_height: Type.Integer(),
    num_blocks: Type.Number(),
    num_pixels: Type.Number(),
    pixel_resolution: Type.Integer(),
    compression: Type.Union([Type.Literal('gzip'), Type.Null()], {
      description: '`gzip` when band bytes are gzip-compressed',
    }),
  },
  { additionalProperties: true, description: 'What `rasterSource` and `RasterTileLayer` read' },
);

const RasterTileJson = Type.Object(
  {
    tilejson: Type.Literal('3.0.0'),
    name: Type.String(),
    description: Type.String(),
    version: Type.String(),
    attribution: Type.String(),
    scheme: Type.Literal('quadbin'),
    tiles: Type.Array(Type.String(), {
      minItems: 1,
      description: 'Block URL template: `{i}` is a quadbin cell in hexadecimal',
    }),
    minzoom: Type.Integer({ minimum: 0 }),
    maxzoom: Type.Integer({ minimum: 0 }),
    minresolution: Type.Integer(),
    maxresolution: Type.Integer(),
    bounds: Type.Array(Type.Number(), { minItems: 4, maxItems: 4 }),
    center: Type.Array(Type.Number(), { minItems: 3, maxItems: 3 }),
    vector_layers: Type.Array(Type.Unknown(), { maxItems: 0 }),
    tilestats: Type.Object({}, { additionalProperties: true }),
    raster_bands: Type.Array(Type.String()),
    raster_metadata: RasterMetadata,
    schema: ResultSchema,
  },
  { additionalProperties: false, description: "The raster's TileJSON (`format=tilejson`)" },
);

const INSTANTIATION_ANSWER = {
  200: {
    description: 'The instantiation, or with `format=tilejson` the TileJSON',
    content: {
      'application/json': { schema: Type.Union([RasterInstantiation, RasterTileJson]) },
    },
  },
};

const INSTANTIATION_DESCRIPTION =
  "Step one of CARTO's two-step protocol for a raster table, as `rasterSource` calls it: " +
  '`{nrows, schema, tilejson: {url}}`; with `format=tilejson`, the TileJSON with ' +
  '`raster_metadata`, whose `tiles` template names blocks by quadbin cell (cached for a ' +
  "year: its URLs change with the raster's metadata). See docs/rasters.md.";

export const INSTANTIATE_RASTER_SCHEMA = {
  tags: TAGS,
  operationId: 'instantiateRaster',
  summary: 'Instantiate a raster source',
  description: INSTANTIATION_DESCRIPTION,
  params: connectionPathParams(),
  querystring: rasterSource('query'),
  response: INSTANTIATION_ANSWER,
};

export const INSTANTIATE_RASTER_POST_SCHEMA = {
  tags: TAGS,
  operationId: 'instantiateRasterPost',
  summary: 'Instantiate a raster source (POST)',
  description: `${INSTANTIATION_DESCRIPTION} The parameters come as a JSON body.`,
  params: connectionPathParams(),
  body: rasterSource('body'),
  response: INSTANTIATION_ANSWER,
};

export const GET_RASTER_BLOCK_SCHEMA = {
  tags: TAGS,
  operationId: 'getRasterBlock',
  summary: 'Get a block of a raster',
  description:
    "One block of a raster table, from the TileJSON's `tiles` template, as CARTO's raster " +
    'tile (`application/vnd.carto-raster-tile`). 204 when the table holds no such block or ' +
    'the cell is coarser than `minresolution`; 400 for a cell deeper than `maxresolution` or ' +
    'not a quadbin cell. Blocks carry an ETag.',
  params: connectionPathParams({
    index: Type.String({
      maxLength: 64,
      description: "The block's quadbin cell in hexadecimal (the `{i}` template)",
      examples: [BLOCK_EXAMPLE],
    }),
  }),
  querystring: Type.Object({
    name: RasterName,
    cache: Type.Optional(Cache),
  }),
  response: tileAnswers({
    'application/vnd.carto-raster-tile': "CARTO's raster tile: the block's bands",
  }),
};
