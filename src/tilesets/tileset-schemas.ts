/**
 * Route schemas of pre-generated tilesets (`/v3/maps/{connection}/tileset`, its tiles and
 * Graticule's creation jobs): their documentation in the OpenAPI document. Only path
 * parameters are validated, with the limits they always had; tileset-routes.ts and
 * tileset-options.ts read the rest.
 */
import { Type } from '@sinclair/typebox';
import {
  Cache,
  SourceInstantiation,
  SourceName,
  TileFormat,
  TileJson,
  TileResolution,
  VECTOR_TILE_TYPES,
  tileAnswers,
  tilePathParams,
} from '../maps/maps-schemas.js';
import {
  ApiVersion,
  ClientName,
  QueryParametersArray,
  connectionPathParams,
  literals,
  withExample,
} from '../sql/sql-schemas.js';
import { JobStatus } from '../jobs/sql-job-schemas.js';
import { MAX_TILESET_ZOOM } from './tileset-options.js';

const TAGS = ['Tilesets'];

/**
 * The tileset the examples read. A fresh server has none, and a creation job ends later than a
 * collection's next request: the reading operations are left out of the Postman collection.
 */
const TILESET_EXAMPLE = 'public.countries_tileset';
const NEEDS_A_BUILT_TILESET = { 'x-postman': 'skip' } as const;

const TilesetName = withExample(
  { ...SourceName, description: 'The tileset table: `schema.table`' },
  TILESET_EXAMPLE,
);

/** The parameters of a tileset's instantiation, in a query string or a JSON body. */
const TilesetSource = Type.Object({
  name: TilesetName,
  format: Type.Optional(
    Type.Literal('tilejson', {
      description: 'Absent: the instantiation (step one); `tilejson`: the TileJSON',
    }),
  ),
  cache: Type.Optional(Cache),
  v: Type.Optional(ApiVersion),
  client: Type.Optional(ClientName),
});

const INSTANTIATION_ANSWER = {
  200: {
    description: 'The instantiation, or with `format=tilejson` the TileJSON',
    content: { 'application/json': { schema: Type.Union([SourceInstantiation, TileJson]) } },
  },
};

const INSTANTIATION_DESCRIPTION =
  "Step one of CARTO's two-step protocol for a tileset, as `vectorTilesetSource` calls it: " +
  '`{nrows, schema, tilejson: {url}}`; with `format=tilejson`, the TileJSON of its stored ' +
  'tiles (cached for a year: its URLs change whenever the tileset is made again).';

export const INSTANTIATE_TILESET_SCHEMA = {
  tags: TAGS,
  operationId: 'instantiateTileset',
  summary: 'Instantiate a tileset source',
  description: INSTANTIATION_DESCRIPTION,
  params: connectionPathParams(),
  querystring: TilesetSource,
  response: INSTANTIATION_ANSWER,
  ...NEEDS_A_BUILT_TILESET,
};

export const INSTANTIATE_TILESET_POST_SCHEMA = {
  tags: TAGS,
  operationId: 'instantiateTilesetPost',
  summary: 'Instantiate a tileset source (POST)',
  description: `${INSTANTIATION_DESCRIPTION} The parameters come as a JSON body.`,
  params: connectionPathParams(),
  body: TilesetSource,
  response: INSTANTIATION_ANSWER,
  ...NEEDS_A_BUILT_TILESET,
};

export const GET_TILESET_TILE_SCHEMA = {
  tags: TAGS,
  operationId: 'getTilesetTile',
  summary: 'Get a tile of a tileset',
  description:
    "A stored tile, from the TileJSON's `tiles` template. 204 for a tile without features or " +
    'outside the zoom range; tiles carry an ETag. Spatial-index tilesets are tiled by cell ' +
    '(`/tileset/{i}`, the `{type}/{index}` operation of the Maps API); here they answer 400.',
  params: tilePathParams(),
  querystring: Type.Object({
    name: TilesetName,
    formatTiles: Type.Optional({
      ...TileFormat,
      description: "The tileset's own format; another answers 400",
    }),
    cache: Type.Optional(Cache),
  }),
  response: tileAnswers(VECTOR_TILE_TYPES),
  ...NEEDS_A_BUILT_TILESET,
};

const TilesetJob = Type.Object(
  {
    id: Type.String({ description: "The job's id" }),
    status: JobStatus,
    connectionName: Type.String(),
    tileset: Type.String({ description: 'The tileset table being made' }),
    format: TileFormat,
    minZoom: Type.Integer(),
    maxZoom: Type.Integer(),
    progress: Type.Object(
      {
        phase: literals(['tiling', 'committing', 'done']),
        zoom: Type.Integer(),
        tilesDone: Type.Integer({ minimum: 0 }),
        tilesEstimated: Type.Integer({ minimum: 0 }),
        tilesWritten: Type.Integer({ minimum: 0 }),
        bytesWritten: Type.Integer({ minimum: 0 }),
        fraction: Type.Number({ minimum: 0, maximum: 1, description: 'Done, from 0 to 1' }),
      },
      { additionalProperties: false },
    ),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Optional(Type.String({ format: 'date-time' })),
    finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
    result: Type.Optional(
      Type.Object(
        {
          tileset: Type.String(),
          scheme: literals(['xyz', 'h3', 'quadbin']),
          format: TileFormat,
          minzoom: Type.Integer(),
          maxzoom: Type.Integer(),
          tileCount: Type.Integer({ minimum: 0 }),
          bytes: Type.Integer({ minimum: 0 }),
          bounds: Type.Array(Type.Number(), { minItems: 4, maxItems: 4 }),
          createdAt: Type.String({ format: 'date-time' }),
        },
        { additionalProperties: false, description: 'What was made, once it succeeded' },
      ),
    ),
    error: Type.Optional(
      Type.Object(
        { message: Type.String(), code: Type.String() },
        { additionalProperties: false, description: 'Why it failed' },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'A tileset creation job (kept in memory for a day after it ends)',
  },
);

const zoom = (description: string) =>
  Type.Integer({ minimum: 0, maximum: MAX_TILESET_ZOOM, description });

const NewTileset = Type.Object(
  {
    name: Type.String({
      description: 'The tileset table to create, `schema.table`; the schema must exist',
    }),
    table: Type.Optional(Type.String({ description: 'The source table (or give `query`)' })),
    query: Type.Optional(
      Type.String({ description: 'The source query, one SELECT (or give `table`); `q` too' }),
    ),
    q: Type.Optional(Type.String({ description: 'The source query, when `query` is absent' })),
    queryParameters: Type.Optional(QueryParametersArray),
    minZoom: Type.Optional(zoom('The first zoom level (0 by default)')),
    maxZoom: Type.Optional(
      zoom('The last zoom level: by default the deepest up to 14 within the tile limit'),
    ),
    format: Type.Optional({ ...TileFormat, description: '`mvt` (the default) or `binary`' }),
    spatialDataColumn: Type.Optional(
      Type.String({ description: "The source's geometry column (`geom`); `geomColumn` too" }),
    ),
    geomColumn: Type.Optional(Type.String({ description: 'The geometry column (the CLI name)' })),
    spatialDataType: Type.Optional(
      literals(['geo', 'h3', 'h3int', 'quadbin'], {
        description:
          '`geo` (the default): a vector tileset of a geometry column; `h3`, `h3int` or ' +
          '`quadbin`: a spatial-index tileset of a cell column (`h3` or `quadbin` by default), ' +
          'whose zooms are tile resolutions',
      }),
    ),
    aggregationExp: Type.Optional(
      Type.String({
        description: 'Spatial-index tilesets: the select list aggregating the cells of a cell',
        examples: ['sum(population) AS population'],
      }),
    ),
    aggregationResLevel: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Spatial-index tilesets: cell levels below a tile (4 for h3 up to 8, 6 for quadbin ' +
          'up to 12)',
      }),
    ),
    tileResolution: Type.Optional(TileResolution),

    maxFeatures: Type.Optional(
      Type.Integer({ minimum: 1, description: "Most features in a tile (the server's setting)" }),
    ),
    overwrite: Type.Optional(
      Type.Boolean({ description: 'Replace an existing tileset of that name (false)' }),
    ),
    client: Type.Optional(ClientName),
    v: Type.Optional(ApiVersion),
  },
  {
    additionalProperties: false,
    description: 'What to build; any other field answers 400',
    examples: [{ name: TILESET_EXAMPLE, table: 'demo.countries', maxZoom: 3, overwrite: true }],
  },
);

const jobParams = connectionPathParams({
  jobId: Type.String({
    minLength: 1,
    maxLength: 128,
    description: "The job's id",
    examples: ['{{tilesetJobId}}'],
  }),
});

export const CREATE_TILESET_JOB_SCHEMA = {
  tags: TAGS,
  operationId: 'createTilesetJob',
  summary: 'Create a tileset',
  description:
    'Plans a tileset of a table or query source (geometries, or h3 or quadbin cells) and ' +
    'builds it in the background, one job at a time per server (a Graticule extension; ' +
    'Editors and Admins). Answers the job; poll it until it ends. Jobs live in memory: a ' +
    'restart forgets them.',
  params: connectionPathParams(),
  body: NewTileset,
  response: { 201: { ...TilesetJob, description: 'The job, pending or running' } },
  'x-save': { tilesetJobId: 'id' },
};

export const GET_TILESET_JOB_SCHEMA = {
  tags: TAGS,
  operationId: 'getTilesetJob',
  summary: 'Read a tileset job',
  description: "Answers the job's status and progress, and its result or error once it ends.",
  params: jobParams,
  response: { 200: { ...TilesetJob, description: 'The job' } },
};

export const CANCEL_TILESET_JOB_SCHEMA = {
  tags: TAGS,
  operationId: 'cancelTilesetJob',
  summary: 'Cancel a tileset job',
  description:
    'Cancels a pending or running job (the tileset is not made; a running job stops at its ' +
    'next step); 400 when it has already ended.',
  params: jobParams,
  response: { 200: { ...TilesetJob, description: 'The job, cancelled or stopping' } },
  // Right after the creation, while the example's job still runs.
  'x-order': 1,
};
