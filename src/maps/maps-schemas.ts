/**
 * Route schemas of the Maps API for table and query sources (`/v3/maps/{connection}/{type}`,
 * its TileJSON and tiles), and the pieces tileset sources share: the source parameters CARTO's
 * clients send, the TileJSON and its tilestats. Only path parameters are validated, with the
 * limits they always had; source-definition.ts reads and checks everything else.
 */
import { Type, type TProperties, type TSchema } from '@sinclair/typebox';
import { binaryBody } from '../openapi/schemas.js';
import {
  ApiVersion,
  ClientName,
  QueryParametersArray,
  QueryParametersText,
  ResultSchema,
  connectionPathParams,
  literals,
  textBody,
  withExample,
} from '../sql/sql-schemas.js';
import {
  FiltersLogicalOperator,
  FiltersObject,
  FiltersText,
  SpatialDataColumn,
  SpatialDataType,
} from '../widgets/widget-schemas.js';
import { TILE_RESOLUTIONS } from './source-definition.js';

const TAGS = ['Maps'];

/** `name`: the table or tileset a source reads. */
export const SourceName = Type.String({
  description: 'The table: `schema.table` (or `table`, or `database.schema.table`)',
});

/** `cache`: the data version in the URLs Graticule hands out. */
export const Cache = Type.String({
  pattern: '^\\d{1,20}$',
  description:
    'The data version the answer that handed out this URL saw; set by Graticule in the URLs ' +
    'it returns, so caches and nodes agree',
});

export const TileFormat = literals(['binary', 'mvt'], {
  description:
    "The tiles' encoding: CARTO's binary format (the default) or Mapbox Vector Tiles. " +
    'Spatial-index sources always use their own binary tiles',
});

export const TileResolution = literals(TILE_RESOLUTIONS, {
  description: 'Tile grid size: 1024 × value pixels (0.5 by default); its text is taken too',
});

/** Every parameter a table or query source takes, in a query string or in a JSON body. */
function sourceParameterSchemas(where: 'query' | 'body'): Record<string, TSchema> {
  const text = where === 'query';
  return {
    name: SourceName,
    q: Type.String({
      description: 'Query sources: one SQL statement whose rows are the features',
    }),
    queryParameters: text ? QueryParametersText : QueryParametersArray,
    spatialDataColumn: SpatialDataColumn,
    spatialDataType: SpatialDataType,
    geo_column: Type.String({
      description:
        'Before API 3.3: the spatial column, or `h3:<column>` / `quadbin:<column>`; refused ' +
        'when `v` is 3.3 or later',
    }),
    aggregationExp: Type.String({
      description:
        'A SQL select list of aggregates (`sum(population) AS population`): the properties of ' +
        'each cell of an h3 or quadbin source (required for those), or of identical geometries',
    }),
    aggregationResLevel: Type.Number({
      minimum: 0,
      description:
        'h3 and quadbin sources: how many resolutions below a tile its cells are (4 for h3, ' +
        '6 for quadbin by default; at most 8 and 12). Numbers may come as text, as in a URL',
    }),
    tileResolution: TileResolution,
    columns:
      where === 'query'
        ? Type.String({ description: 'The columns tiles carry, comma-separated (all by default)' })
        : Type.Union([Type.String(), Type.Array(Type.String())], {
            description: 'The columns tiles carry, a list or comma-separated (all by default)',
          }),
    filters: text ? FiltersText : FiltersObject,
    filtersLogicalOperator: FiltersLogicalOperator,
    featureBbox: Type.Boolean({
      description: 'Features carry `_carto_bbox`, their whole bounding box (for labels)',
    }),
    formatTiles: TileFormat,
    cache: Cache,
    v: ApiVersion,
    client: ClientName,
  };
}

/**
 * The source parameters (all of them, or `only` those) as optional properties, with the given
 * examples: what the Postman collection sends.
 */
function sourceParameters(
  where: 'query' | 'body',
  examples: Partial<Record<string, unknown>>,
  only?: readonly string[],
): TProperties {
  const schemas = sourceParameterSchemas(where);
  return Object.fromEntries(
    (only ?? Object.keys(schemas)).map((name) => {
      const schema = schemas[name]!;
      return [name, Type.Optional(name in examples ? withExample(schema, examples[name]) : schema)];
    }),
  );
}

const SourceType = Type.String({
  minLength: 1,
  maxLength: 32,
  description:
    '`table` or `query` (`tileset` has routes of its own, but for the cells of spatial-index ' +
    'tilesets; others answer 400)',
  examples: ['table'],
});

const TileCoordinate = (name: string, example: string) =>
  Type.String({ description: `The tile's ${name}`, examples: [example] });

const sourcePathParams = connectionPathParams({ type: SourceType });

/** The `{z}/{x}/{y}` of a tile, after `{connection}` and the source's own segments. */
export function tilePathParams(own: TProperties = {}) {
  return connectionPathParams({
    ...own,
    z: TileCoordinate('zoom, 0 to 22', '2'),
    x: TileCoordinate('column', '1'),
    y: TileCoordinate('row', '1'),
  });
}

const cellTileParams = connectionPathParams({
  type: SourceType,
  index: Type.String({
    maxLength: 64,
    description: "The tile's cell: an H3 index, or a quadbin as hexadecimal (the `{i}` template)",
    examples: ['81393ffffffffff'],
  }),
});

/** A URL list, as CARTO's answers give each format. */
const UrlList = Type.Object(
  { url: Type.Array(Type.String({ format: 'uri' }), { minItems: 1, maxItems: 1 }) },
  { additionalProperties: false },
);

/** Step one of CARTO's two-step instantiation, for table, query and tileset sources. */
export const SourceInstantiation = Type.Object(
  {
    nrows: Type.Integer({
      minimum: 0,
      description: "Rows of the source (the planner's estimate for large tables)",
    }),
    schema: ResultSchema,
    tilejson: Type.Object(
      { url: UrlList.properties.url },
      { additionalProperties: false, description: 'Where the TileJSON is (`format=tilejson`)' },
    ),
    geojson: Type.Optional(UrlList),
    json: Type.Optional(UrlList),
    ndjson: Type.Optional(UrlList),
  },
  {
    additionalProperties: false,
    description:
      'Where the TileJSON is, and for small geometry sources the whole data as `geojson`, ' +
      '`json` and `ndjson`',
  },
);

const Bound = Type.Union([Type.Number(), Type.String(), Type.Null()]);

/** One attribute's statistics: an entry of TileJSON tilestats, and a Stats API answer. */
export const AttributeStats = Type.Object(
  {
    attribute: Type.String({ description: 'The column' }),
    type: literals(['Number', 'String', 'Boolean', 'Timestamp'], {
      description: "The column's kind",
    }),
    min: Type.Optional(Bound),
    max: Type.Optional(Bound),
    sum: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    avg: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    quantiles: Type.Optional(
      Type.Union([Type.Record(Type.String(), Type.Array(Type.Number())), Type.Null()], {
        description: 'Numbers: for 3 to 20 buckets, the bucket count − 1 break values',
      }),
    ),
    categories: Type.Optional(
      Type.Array(
        Type.Object(
          { category: Type.Unknown(), frequency: Type.Number() },
          { additionalProperties: false },
        ),
        { description: 'Text and booleans: the most frequent values (20 at most in TileJSON)' },
      ),
    ),
  },
  { additionalProperties: false },
);

const Tilestats = Type.Object(
  {
    sampled: Type.Optional(
      Type.Boolean({ description: 'The figures come from a sample of a large table' }),
    ),
    layerCount: Type.Literal(1),
    layers: Type.Array(
      Type.Object(
        {
          layer: Type.Literal('default'),
          count: Type.Integer({ minimum: 0 }),
          geometry: Type.Union([Type.String(), Type.Null()], {
            description: '`Point`, `LineString`, `Polygon`, `Unknown` (mixed); null for cells',
          }),
          attributeCount: Type.Integer({ minimum: 0 }),
          attributes: Type.Array(AttributeStats),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 1 },
    ),
  },
  { additionalProperties: false, description: "Statistics of the tiles' properties" },
);

const VectorLayer = Type.Object(
  {
    id: Type.String(),
    minzoom: Type.Integer(),
    maxzoom: Type.Integer(),
    fields: Type.Record(Type.String(), Type.String(), {
      description: 'Property → `Number`, `String`, `Boolean` or `Timestamp`',
    }),
    geometry_type: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** TileJSON 3.0.0 with CARTO's additions, of on-demand and pre-generated tiles. */
export const TileJson = Type.Object(
  {
    tilejson: Type.Literal('3.0.0'),
    name: Type.String(),
    description: Type.String(),
    version: Type.String(),
    attribution: Type.String(),
    scheme: literals(['xyz', 'h3', 'quadbin'], {
      description: '`xyz` for geometry tiles; `h3` or `quadbin` for cell tiles (`{i}`)',
    }),
    tiles: Type.Array(Type.String(), {
      minItems: 1,
      description: 'Absolute tile URL templates; `formatTiles` in them picks the decoder',
    }),
    minzoom: Type.Integer({ minimum: 0 }),
    maxzoom: Type.Integer({ minimum: 0 }),
    minresolution: Type.Optional(Type.Integer({ description: 'Cell sources' })),
    maxresolution: Type.Optional(Type.Integer({ description: 'Cell sources' })),
    bounds: Type.Array(Type.Number(), {
      minItems: 4,
      maxItems: 4,
      description: '[west, south, east, north] in WGS84',
    }),
    center: Type.Array(Type.Number(), { minItems: 3, maxItems: 3 }),
    vector_layers: Type.Array(VectorLayer),
    tilestats: Tilestats,
    tileResolution: Type.Number(),
    aggregationResLevel: Type.Optional(Type.Number({ description: 'Cell sources' })),
    fraction_dropped_per_zoom: Type.Optional(
      Type.Array(Type.Number(), {
        description: 'Per zoom, the share of features tiles leave out (feature cap)',
      }),
    ),
    schema: ResultSchema,
  },
  { additionalProperties: false, description: "The source's TileJSON (`format=tilejson`)" },
);

/** `format=json`: the rows, the spatial column as GeoJSON. */
const DataRows = Type.Object(
  {
    rows: Type.Array(Type.Object({}, { additionalProperties: true }), {
      description: 'The rows, the spatial column as a GeoJSON geometry',
    }),
  },
  { additionalProperties: false, description: 'The whole data (`format=json`)' },
);

const FeatureCollection = Type.Object(
  {
    type: Type.Literal('FeatureCollection'),
    features: Type.Array(
      Type.Object({
        type: Type.Literal('Feature'),
        geometry: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
        properties: Type.Object({}, { additionalProperties: true }),
      }),
    ),
  },
  { description: 'The whole data (`format=geojson`)' },
);

const Format = literals(['tilejson', 'geojson', 'json', 'ndjson'], {
  description:
    'Absent: the instantiation (step one). `tilejson`: the TileJSON (step two). `geojson`, ' +
    '`json`, `ndjson`: the whole data of a small geometry source',
});

const SOURCE_EXAMPLES = {
  name: 'demo.countries',
  q: 'SELECT name, iso_n3, geom FROM demo.countries WHERE name LIKE $1',
  queryParameters: '["S%"]',
  spatialDataColumn: 'geom',
  spatialDataType: 'geo',
  tileResolution: 0.5,
  columns: 'name,iso_n3',
  v: '3.4',
  client: 'deck-gl-carto',
};

const bodyExamples = {
  ...SOURCE_EXAMPLES,
  queryParameters: ['S%'],
  columns: ['name', 'iso_n3'],
};

const INSTANTIATION_ANSWER = {
  200: {
    description: 'The instantiation, the TileJSON, or the data, by `format`',
    content: {
      'application/json': { schema: Type.Union([SourceInstantiation, TileJson, DataRows]) },
      'application/geo+json': { schema: FeatureCollection },
      'application/x-ndjson': { schema: textBody('The rows, one JSON object per line') },
    },
  },
};

const INSTANTIATION_DESCRIPTION =
  "Step one of CARTO's two-step protocol, as `vectorTableSource`, `vectorQuerySource`, " +
  '`h3TableSource`, `quadbinQuerySource` and the others call it: answers `{nrows, schema, ' +
  'tilejson: {url}}`; the client then reads `tilejson.url[0]`, the same route with ' +
  '`format=tilejson`, which answers the TileJSON whose `tiles` template serves the tiles.';

export const INSTANTIATE_SOURCE_SCHEMA = {
  tags: TAGS,
  operationId: 'instantiateSource',
  summary: 'Instantiate a table or query source',
  description:
    `${INSTANTIATION_DESCRIPTION} The example names a table; a query source sends \`q\` ` +
    '(and `queryParameters`) instead of `name`.',
  params: sourcePathParams,
  querystring: Type.Object({
    ...sourceParameters('query', SOURCE_EXAMPLES),
    format: Type.Optional(Format),
  }),
  response: INSTANTIATION_ANSWER,
};

export const INSTANTIATE_SOURCE_POST_SCHEMA = {
  tags: TAGS,
  operationId: 'instantiateSourcePost',
  summary: 'Instantiate a table or query source (POST)',
  description:
    `${INSTANTIATION_DESCRIPTION} CARTO's clients switch to POST, with the parameters as a ` +
    'JSON body, when the GET URL would pass 7000 characters (their `maxLengthURL` option). ' +
    'The example asks for the TileJSON.',
  params: sourcePathParams,
  body: Type.Object(
    {
      ...sourceParameters('body', bodyExamples),
      format: Type.Optional(withExample(Format, 'tilejson')),
    },
    { description: 'The parameters of the GET form, as JSON values' },
  ),
  response: INSTANTIATION_ANSWER,
};

const tileHeaders = {
  ETag: { type: 'string', description: "The tile's version; send it back in If-None-Match" },
};

/** The answers of every tile route, by the media types the tiles come in. */
export function tileAnswers(types: Record<string, string>) {
  return {
    200: {
      description: 'The tile',
      headers: tileHeaders,
      content: Object.fromEntries(
        Object.entries(types).map(([type, what]) => [type, { schema: binaryBody(what) }]),
      ),
    },
    204: { type: 'null', description: 'The tile holds no feature' },
    304: { type: 'null', description: 'Unchanged since the ETag sent in `If-None-Match`' },
  };
}

export const VECTOR_TILE_TYPES = {
  'application/vnd.carto-vector-tile': "CARTO's binary tile (`formatTiles=binary`)",
  'application/vnd.mapbox-vector-tile': 'A Mapbox Vector Tile (`formatTiles=mvt`)',
};

const TILE_SOURCE_PARAMETERS = Object.keys(sourceParameterSchemas('query')).filter(
  (name) => name !== 'v' && name !== 'client',
);

export const GET_VECTOR_TILE_SCHEMA = {
  tags: TAGS,
  operationId: 'getVectorTile',
  summary: 'Get a vector tile',
  description:
    "A tile of a table or query source, from the TileJSON's `tiles` template with the same " +
    "source parameters; deck.gl's CARTO layers fetch them. 204 when the tile is empty; tiles " +
    "carry an ETag and are cached for the maps' tile lifetime.",
  params: tilePathParams({ type: SourceType }),
  querystring: Type.Object(
    sourceParameters('query', { ...SOURCE_EXAMPLES, formatTiles: 'mvt' }, TILE_SOURCE_PARAMETERS),
  ),
  response: tileAnswers(VECTOR_TILE_TYPES),
};

export const GET_CELL_TILE_SCHEMA = {
  tags: TAGS,
  operationId: 'getSpatialIndexTile',
  summary: 'Get a tile of an h3 or quadbin source',
  description:
    "A tile of a spatial-index source, named by its cell as the TileJSON's `{i}` template " +
    'does: the cells `aggregationResLevel` resolutions below it, with `aggregationExp` as ' +
    'their properties. 204 when the tile is empty. With `{type}` `tileset`, a stored tile of ' +
    'an h3 or quadbin tileset (parameters `name`, `formatTiles` and `cache` of its TileJSON), ' +
    'cached for a year with an ETag.',
  params: cellTileParams,
  querystring: Type.Object(
    sourceParameters(
      'query',
      {
        name: 'demo.places_h3',
        q: 'SELECT h3, population FROM demo.places_h3 WHERE population > $1',
        queryParameters: '[1000]',
        spatialDataColumn: 'h3',
        spatialDataType: 'h3',
        aggregationExp: 'sum(population) AS population',
        aggregationResLevel: 4,
      },
      TILE_SOURCE_PARAMETERS,
    ),
  ),
  response: tileAnswers({
    'application/vnd.carto-spatial-tile': "CARTO's binary tile of cells and their properties",
  }),
};
