/**
 * Route schemas of boundary sources (`/v3/maps/{connection}/boundary` and its properties
 * tiles): their documentation in the OpenAPI document. Only path parameters are validated;
 * boundary-source.ts reads and checks the rest.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import {
  Cache,
  SourceInstantiation,
  TileJson,
  tileAnswers,
  tilePathParams,
} from '../maps/maps-schemas.js';
import {
  ApiVersion,
  ClientName,
  QueryParametersArray,
  QueryParametersText,
  connectionPathParams,
  literals,
} from '../sql/sql-schemas.js';
import { FiltersLogicalOperator, FiltersObject, FiltersText } from '../widgets/widget-schemas.js';
import { PROPERTIES_TILE_CONTENT_TYPE } from './properties-tile.js';

const TAGS = ['Maps'];

/**
 * The examples need a boundary tileset, which a fresh server does not have: the operations are
 * left out of the Postman collection.
 */
const NEEDS_A_BUILT_TILESET = { 'x-postman': 'skip' } as const;

function boundaryParameters(where: 'query' | 'body'): Record<string, TSchema> {
  const text = where === 'query';
  return {
    tilesetTableName: Type.String({
      description:
        'The boundary tileset: a binary vector tileset whose features carry a text `geoid`',
      examples: ['public.us_states_boundaries'],
    }),
    propertiesTableName: Type.Optional(
      Type.String({
        description: 'The data: a table with a `geoid` column (or send `propertiesSqlQuery`)',
        examples: ['demo.us_states'],
      }),
    ),
    propertiesSqlQuery: Type.Optional(
      Type.String({ description: 'The data as one SQL statement with a `geoid` column' }),
    ),
    queryParameters: Type.Optional(text ? QueryParametersText : QueryParametersArray),
    columns: Type.Optional(
      text
        ? Type.String({
            description: 'The data columns tiles carry, comma-separated (all by default)',
          })
        : Type.Union([Type.String(), Type.Array(Type.String())], {
            description: 'The data columns tiles carry, a list or comma-separated (all by default)',
          }),
    ),
    filters: Type.Optional(text ? FiltersText : FiltersObject),
    filtersLogicalOperator: Type.Optional(FiltersLogicalOperator),
    tilesetCache: Type.Optional({
      ...Cache,
      description:
        "The boundary tileset's version the TileJSON saw; a properties tile asked for another " +
        "version answers 204, since its values follow that version's features",
    }),
    cache: Type.Optional(Cache),
    v: Type.Optional(ApiVersion),
    client: Type.Optional(ClientName),
  };
}

const BoundaryTileJson = Type.Object(
  {
    ...TileJson.properties,
    properties_tiles: Type.Array(Type.String(), {
      minItems: 1,
      description: 'URL templates of the data tiles, fetched beside `tiles` and joined by `geoid`',
    }),
  },
  { additionalProperties: false, description: "The boundary source's TileJSON" },
);

const Format = literals(['tilejson'], {
  description: 'Absent: the instantiation (step one); `tilejson`: the TileJSON',
});

const INSTANTIATION_ANSWER = {
  200: {
    description: 'The instantiation, or with `format=tilejson` the TileJSON',
    content: {
      'application/json': { schema: Type.Union([SourceInstantiation, BoundaryTileJson]) },
    },
  },
};

const INSTANTIATION_DESCRIPTION =
  "Step one of CARTO's two-step protocol for a boundary source, as `boundaryTableSource` and " +
  '`boundaryQuerySource` call it. The TileJSON serves the geometries from the boundary ' +
  "tileset's tiles and the data from `properties_tiles`, which deck.gl joins by `geoid`.";

export const INSTANTIATE_BOUNDARY_SCHEMA = {
  tags: TAGS,
  operationId: 'instantiateBoundarySource',
  summary: 'Instantiate a boundary source',
  description: INSTANTIATION_DESCRIPTION,
  params: connectionPathParams(),
  querystring: Type.Object({
    ...boundaryParameters('query'),
    format: Type.Optional(Format),
  }),
  response: INSTANTIATION_ANSWER,
  ...NEEDS_A_BUILT_TILESET,
};

export const INSTANTIATE_BOUNDARY_POST_SCHEMA = {
  tags: TAGS,
  operationId: 'instantiateBoundarySourcePost',
  summary: 'Instantiate a boundary source (POST)',
  description: `${INSTANTIATION_DESCRIPTION} The parameters come as a JSON body.`,
  params: connectionPathParams(),
  body: Type.Object({ ...boundaryParameters('body'), format: Type.Optional(Format) }),
  response: INSTANTIATION_ANSWER,
  ...NEEDS_A_BUILT_TILESET,
};

export const GET_BOUNDARY_TILE_SCHEMA = {
  tags: TAGS,
  operationId: 'getBoundaryPropertiesTile',
  summary: 'Get the data tile of a boundary source',
  description:
    "The data of the features of one tile of the boundary tileset, from the TileJSON's " +
    '`properties_tiles` template: one entry per `geoid` with its text values, and numeric ' +
    "columns indexed by the geometry tile's feature ids. 204 when no feature of the tile " +
    'has data.',
  params: tilePathParams(),
  querystring: Type.Object(boundaryParameters('query')),
  response: tileAnswers({
    [PROPERTIES_TILE_CONTENT_TYPE]: "CARTO's properties tile: the data joined by `geoid`",
  }),
  ...NEEDS_A_BUILT_TILESET,
};
