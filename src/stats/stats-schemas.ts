/**
 * Route schemas of the Stats API (`/v3/stats/{connection}/...`): their documentation in the
 * OpenAPI document. Only path parameters are validated, with the limits they always had;
 * stats-routes.ts and widget-source.ts read the rest.
 */
import { Type } from '@sinclair/typebox';
import { AttributeStats } from '../maps/maps-schemas.js';
import { connectionPathParams, withExample } from '../sql/sql-schemas.js';
import { FILTERS_EXAMPLE, widgetSourceFields } from '../widgets/widget-schemas.js';

const TAGS = ['Widgets'];

const pathPart = (description: string, example: string) =>
  Type.String({ minLength: 1, maxLength: 1024, description, examples: [example] });

const Coordinate = Type.Union([Type.Number(), Type.Null()]);

const Extent = Type.Object(
  { xmin: Coordinate, ymin: Coordinate, xmax: Coordinate, ymax: Coordinate },
  { additionalProperties: false, description: 'The WGS84 box; nulls when no row has one' },
);

const ExtentAnswer = Type.Object(
  { extent: Extent },
  {
    additionalProperties: false,
    description: "A geometry or cell column's extent, as `getExtent()` reads it",
  },
);

const SourceStats = Type.Object(
  {
    count: Type.Integer({ minimum: 0, description: 'Rows that pass the filters' }),
    attributes: Type.Array(AttributeStats, {
      description: 'One entry per column that is not a geometry',
    }),
    extent: Type.Optional(Extent),
  },
  { additionalProperties: false, description: 'The statistics of every column of a table' },
);

const ColumnStats = Type.Union([AttributeStats, ExtentAnswer], {
  description:
    "A column's statistics, shaped as an entry of TileJSON tilestats (fetchMap swaps it in), " +
    "or a spatial column's extent",
});

const STATS_NOTE =
  'Filters and spatial filters apply. A spatial column (`spatialDataColumn`, or the cells of ' +
  'an h3 or quadbin source) answers its extent, which `getExtent()` reads.';

const QuerySource = Type.String({
  description: 'The query source; the path then names one of its columns',
});

/** The query string of a stats call, with the given examples; `q` when they give one. */
const statsQuery = (examples: Partial<Record<string, unknown>>) =>
  Type.Object({
    ...('q' in examples ? { q: Type.Optional(withExample(QuerySource, examples.q)) } : {}),
    ...widgetSourceFields('query', examples),
  });

const columnParams = (table: string, column: string) =>
  connectionPathParams({
    table: pathPart('The table: `schema.table`', table),
    column: pathPart('One of its columns', column),
  });

export const GET_TABLE_COLUMN_STATS_SCHEMA = {
  tags: TAGS,
  operationId: 'getTableColumnStats',
  summary: "Statistics of a table's column",
  description:
    "Answers one column's statistics: numbers get min, max, sum, avg and quantiles, text and " +
    `booleans their most frequent values, times their range. ${STATS_NOTE}`,
  params: columnParams('demo.populated_places', 'population'),
  querystring: statsQuery({ filters: FILTERS_EXAMPLE }),
  response: { 200: ColumnStats },
};

export const GET_TABLE_COLUMN_STATS_POST_SCHEMA = {
  tags: TAGS,
  operationId: 'getTableColumnStatsPost',
  summary: "Statistics of a table's column (POST)",
  description:
    `The same as the GET form, with the parameters as a JSON body. ${STATS_NOTE} The example ` +
    'asks for the extent of two countries.',
  params: columnParams('demo.countries', 'geom'),
  body: Type.Object(widgetSourceFields('body'), {
    description: 'The parameters of the GET form, as JSON values',
    examples: [{ filters: { name: { in: { values: ['Spain', 'Portugal'] } } } }],
  }),
  response: { 200: ColumnStats },
};

const nameParams = (example: string) =>
  connectionPathParams({
    name: pathPart('With `q`: a column of the query. Without: a table, `schema.table`', example),
  });

const BY_NAME_DESCRIPTION =
  "With `q`, one column's statistics of that query source, as fetchMap and `getExtent()` ask " +
  'for them; without `q`, the statistics of every column of the table the path names, and ' +
  `its row count. ${STATS_NOTE}`;

export const GET_STATS_SCHEMA = {
  tags: TAGS,
  operationId: 'getStats',
  summary: "Statistics of a query's column, or of a whole table",
  description: BY_NAME_DESCRIPTION,
  params: nameParams('population'),
  querystring: statsQuery({
    q: 'SELECT name, population, geom FROM demo.populated_places WHERE country = $1',
    queryParameters: '["ES"]',
  }),
  response: { 200: Type.Union([AttributeStats, ExtentAnswer, SourceStats]) },
};

export const GET_STATS_POST_SCHEMA = {
  tags: TAGS,
  operationId: 'getStatsPost',
  summary: "Statistics of a query's column, or of a whole table (POST)",
  description: `${BY_NAME_DESCRIPTION} The example asks for every column of a table.`,
  params: nameParams('demo.us_states'),
  body: Type.Object(
    {
      q: Type.Optional(QuerySource),
      ...widgetSourceFields('body'),
    },
    {
      description: 'The parameters of the GET form, as JSON values',
      examples: [{ filters: { name: { stringSearch: { values: ['Carolina'] } } } }],
    },
  ),
  response: { 200: Type.Union([AttributeStats, ExtentAnswer, SourceStats]) },
};
