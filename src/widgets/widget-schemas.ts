/**
 * Route schemas of the SQL Model API (`/v3/sql/{connection}/model/{model}`), and the pieces of
 * a widget source that the Stats API shares: CARTO's `filters` grammar, spatial filters and
 * the spatial column. Everything but the path parameters only documents: widget-source.ts,
 * filters.ts and models.ts read and check the values.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { TIME_STEPS } from '../sql-builder/dialect.js';
import {
  ClientName,
  QueryParametersArray,
  QueryParametersText,
  connectionPathParams,
  jsonText,
  literals,
  withExample,
} from '../sql/sql-schemas.js';
import { OPERATIONS } from './aggregation.js';
import { MODELS } from './models.js';

const TAGS = ['Widgets'];

const Interval = Type.Array(Type.Union([Type.Number(), Type.String(), Type.Null()]), {
  minItems: 2,
  maxItems: 2,
  description: '`[from, to]`; a null end is unbounded',
});

const intervals = (description: string) =>
  Type.Object(
    { values: Type.Array(Interval), owner: Type.Optional(Type.String()) },
    { description },
  );

const ColumnFilter = Type.Object(
  {
    in: Type.Optional(
      Type.Object(
        {
          values: Type.Array(
            Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
          ),
          owner: Type.Optional(Type.String({ description: 'The widget that set it; ignored' })),
        },
        { description: 'Equal to one of the values' },
      ),
    ),
    between: Type.Optional(intervals('Within an interval, both ends included')),
    closed_open: Type.Optional(intervals('Within an interval `[from, to)`')),
    time: Type.Optional(intervals('Within an interval of epoch milliseconds, ends included')),
    stringSearch: Type.Optional(
      Type.Object(
        {
          values: Type.Array(Type.String()),
          params: Type.Optional(
            Type.Object({
              useRegExp: Type.Optional(Type.Boolean()),
              mustStart: Type.Optional(Type.Boolean()),
              mustEnd: Type.Optional(Type.Boolean()),
              caseSensitive: Type.Optional(Type.Boolean()),
              keepSpecialCharacters: Type.Optional(Type.Boolean()),
            }),
          ),
        },
        { description: 'Contains one of the texts; accents ignored unless asked' },
      ),
    ),
  },
  { additionalProperties: false, description: "One column's filters; all of them apply" },
);

const FILTERS_DESCRIPTION =
  "CARTO's filters, keyed by column: `in`, `between`, `closed_open`, `time` and " +
  '`stringSearch`, each `{values: [...]}`';

/** `filters` in a JSON body. */
export const FiltersObject = Type.Record(Type.String(), ColumnFilter, {
  description: FILTERS_DESCRIPTION,
});

/** Places of Spain and Portugal, in `demo.populated_places`. */
export const FILTERS_EXAMPLE = '{"country":{"in":{"values":["ES","PT"]}}}';

/** `filters` in a query string. */
export const FiltersText = jsonText(FILTERS_DESCRIPTION);

export const FiltersLogicalOperator = literals(['and', 'or'], {
  description: 'How the filters of several columns combine (`and` by default)',
});

export const SpatialDataType = literals(['geo', 'h3', 'h3int', 'quadbin'], {
  description:
    'What the spatial column holds: geometries (`geo`, the default) or spatial-index cells',
});

export const SpatialDataColumn = Type.String({
  description: 'The spatial column (`geom` by default)',
});

const SPATIAL_FILTERS_DESCRIPTION =
  'Keyed by the spatial column: a GeoJSON Polygon or MultiPolygon in WGS84 (rows that ' +
  'intersect it), or `{indexes: [...], type: "h3"|"h3int"|"quadbin"}` (rows of those cells)';

const SpatialFiltersObject = Type.Record(
  Type.String(),
  Type.Object({}, { additionalProperties: true }),
  { description: SPATIAL_FILTERS_DESCRIPTION },
);

const SpatialFiltersMode = literals(['intersects', 'contains', 'center'], {
  description: 'Which cells a shape selects on h3 and quadbin sources (`intersects` by default)',
});

/**
 * The source fields of a widget or stats call besides its table or query, in a query string
 * or a JSON body, with the given examples.
 */
export function widgetSourceFields(
  where: 'query' | 'body',
  examples: Partial<Record<string, unknown>> = {},
) {
  const text = where === 'query';
  const fields: Record<string, TSchema> = {
    queryParameters: text ? QueryParametersText : QueryParametersArray,
    filters: text ? FiltersText : FiltersObject,
    filtersLogicalOperator: FiltersLogicalOperator,
    spatialDataType: SpatialDataType,
    spatialDataColumn: SpatialDataColumn,
    spatialFilters: text ? jsonText(SPATIAL_FILTERS_DESCRIPTION) : SpatialFiltersObject,
    spatialFiltersMode: SpatialFiltersMode,
    client: ClientName,
  };
  return Object.fromEntries(
    Object.entries(fields).map(([name, schema]) => [
      name,
      Type.Optional(name in examples ? withExample(schema, examples[name]) : schema),
    ]),
  );
}

const Operation = literals(OPERATIONS, {
  description:
    'The aggregate: `count` (rows, the default), `sum`, `avg`, `min`, `max`, or `custom`',
});
/** Join operations combine a feature split over rows; a row is a feature here. */
const JoinOperation = literals(['count', 'avg', 'min', 'max', 'sum'], {
  description: 'Accepted and ignored: each row is a whole feature',
});
const Column = (description: string) => Type.String({ description });
const OperationExp = Type.String({
  description: 'With `operation: custom`: a SQL aggregate expression such as `sum(a) / sum(b)`',
});
const FeatureIds = Type.Array(Type.String({ pattern: '^[0-9a-f]{32}$' }), {
  maxItems: 1000,
  description: 'The `_carto_feature_id` of tile features: the answer covers those only',
});
const Count = (description: string) => Type.Integer({ minimum: 0, description });

/** One model's `params`; `featureIds` narrows every model to those features. */
const model = (name: string, description: string, properties: Record<string, TSchema>) =>
  Type.Object(
    { featureIds: Type.Optional(FeatureIds), ...properties },
    { title: name, description },
  );

/** The sum of the population, in the examples. */
const MODEL_PARAMS_EXAMPLE = '{"column":"population","operation":"sum"}';

const ModelParams = Type.Union(
  [
    model('formula', '`formula`: one aggregate → `{rows: [{value}]}`', {
      column: Type.Optional(Column('The column (`*`, the default, counts rows)')),
      operation: Type.Optional(Operation),
      operationExp: Type.Optional(OperationExp),
    }),
    model('category', '`category`: an aggregate per value → `{rows: [{name, value}]}`', {
      column: Column('The column grouped by'),
      operation: Type.Optional(Operation),
      operationColumn: Type.Optional(Column('The column aggregated (`column` by default)')),
      operationExp: Type.Optional(OperationExp),
      othersThreshold: Type.Optional(
        Count('Answer the first n categories; `metadata.others` aggregates the rest'),
      ),
      orderBy: Type.Optional(
        literals(['frequency_desc', 'frequency_asc', 'alphabetical_asc', 'alphabetical_desc'], {
          description: 'The order (`frequency_desc` by default)',
        }),
      ),
    }),
    model('histogram', '`histogram`: an aggregate per bin → `{rows: [{tick, value}]}`', {
      column: Column('A number column'),
      ticks: Type.Array(Type.Number(), {
        minItems: 1,
        maxItems: 1000,
        description: 'Ascending bin limits; bin 0 is below the first, bin n at or above the last',
      }),
      operation: Type.Optional(Operation),
      operationExp: Type.Optional(OperationExp),
    }),
    model('range', '`range`: the smallest and largest value → `{rows: [{min, max}]}`', {
      column: Column('A number, time or text column'),
    }),
    model('scatterplot', '`scatterplot`: pairs of values → `{rows: [{x, y}]}`', {
      xAxisColumn: Column('A number column'),
      yAxisColumn: Column('A number column'),
      xAxisJoinOperation: Type.Optional(JoinOperation),
      yAxisJoinOperation: Type.Optional(JoinOperation),
      limit: Type.Optional(Count('At most 500 points (the default)')),
    }),
    model('timeseries', '`timeseries`: an aggregate per time step → `{rows: [{name, value}]}`', {
      column: Column('A time column (timestamps, dates, or epoch milliseconds)'),
      stepSize: literals(TIME_STEPS, { description: 'The step' }),
      stepMultiplier: Type.Optional(Count('Steps per bucket (1 by default)')),
      timezone: Type.Optional(Type.String({ description: 'An IANA time zone (UTC by default)' })),
      operation: Type.Optional(Operation),
      operationColumn: Type.Optional(Column('The column aggregated (`column` by default)')),
      operationExp: Type.Optional(OperationExp),
      joinOperation: Type.Optional(JoinOperation),
      splitByCategory: Type.Optional(Column('A series per value of this column')),
      splitByCategoryLimit: Type.Optional(Count('The most frequent n values (up to 1000)')),
      splitByCategoryValues: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 1000 })),
    }),
    model('table', '`table`: a page of rows → `{rows, metadata: {total}}`', {
      column: Type.Optional(
        Type.Union([Type.String(), Type.Array(Type.String())], {
          description: 'The columns (every one but geometries by default); `columns` too',
        }),
      ),
      sortBy: Type.Optional(Column('The column to sort by')),
      sortDirection: Type.Optional(
        literals(['asc', 'desc'], { description: 'The sort direction' }),
      ),
      limit: Type.Optional(Count('Rows per page, up to 10,000 (10 by default)')),
      offset: Type.Optional(Count('Rows to skip')),
      searchFilterColumn: Type.Optional(Column('A column to search')),
      searchFilterText: Type.Optional(Type.String({ description: 'The text to search for' })),
    }),
    model('aggregations', '`aggregations`: several aggregates → `{rows: [{<alias>: value}]}`', {
      aggregations: Type.Union(
        [
          Type.Array(
            Type.Object({
              column: Type.Optional(Type.String()),
              operation: Operation,
              alias: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' })),
            }),
            { minItems: 1, maxItems: 100 },
          ),
          Type.String({ description: 'A SQL select list: `sum(a) AS x, avg(b) AS y`' }),
        ],
        { description: 'The aggregates' },
      ),
    }),
    model('pick', '`pick`: the rows of tile features → `{rows, metadata: {total}}`', {
      featureIds: FeatureIds,
      columns: Type.Optional(Type.Array(Type.String(), { description: 'The columns answered' })),
      limit: Type.Optional(Count('At most 1000 rows')),
      offset: Type.Optional(Count('Rows to skip')),
    }),
  ],
  {
    description: "The model's parameters (one of the forms below, by `{model}`)",
    examples: [JSON.parse(MODEL_PARAMS_EXAMPLE)],
  },
);

const SourceType = withExample(
  literals(['table', 'query'], { description: 'What `source` is' }),
  'table',
);
const Source = Type.String({
  minLength: 1,
  description: 'A table name, or the SQL of a query source',
  examples: ['demo.populated_places'],
});

const WidgetQuery = Type.Object({
  type: SourceType,
  source: Source,
  params: Type.Optional(
    jsonText("The model's parameters (see the POST body's `params`)", MODEL_PARAMS_EXAMPLE),
  ),
  ...widgetSourceFields('query', { filters: FILTERS_EXAMPLE }),
});

const WidgetBody = Type.Object(
  {
    type: SourceType,
    source: Source,
    params: Type.Optional(ModelParams),
    ...widgetSourceFields('body', { filters: JSON.parse(FILTERS_EXAMPLE) }),
  },
  { description: 'The fields of the GET form, as JSON values' },
);

const ModelAnswer = Type.Object(
  {
    rows: Type.Array(Type.Object({}, { additionalProperties: true }), {
      description: "The model's rows (see each model's parameters for their fields)",
    }),
    metadata: Type.Optional(
      Type.Object(
        {
          others: Type.Optional(Type.Unknown({ description: '`category`: the rest, aggregated' })),
          total: Type.Optional(Type.Integer({ description: '`table`, `pick`: rows in all' })),
          categories: Type.Optional(
            Type.Array(Type.Unknown(), { description: '`timeseries`: the series split by' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: "The model's answer, as the clients parse it" },
);

const modelParams = connectionPathParams({
  model: Type.String({
    maxLength: 64,
    description: `The model: ${MODELS.map((name) => `\`${name}\``).join(', ')}`,
    examples: ['formula'],
  }),
});

const MODEL_DESCRIPTION =
  "Computes a widget's data over a table or query source, with CARTO's filters and spatial " +
  "filters, as `@carto/api-client`'s widget sources call it.";

export const RUN_WIDGET_MODEL_SCHEMA = {
  tags: TAGS,
  operationId: 'runWidgetModel',
  summary: 'Compute a widget model',
  description: `${MODEL_DESCRIPTION} GET answers may be cached by the client for a while.`,
  params: modelParams,
  querystring: WidgetQuery,
  response: { 200: ModelAnswer },
};

export const RUN_WIDGET_MODEL_POST_SCHEMA = {
  tags: TAGS,
  operationId: 'runWidgetModelPost',
  summary: 'Compute a widget model (POST)',
  description:
    `${MODEL_DESCRIPTION} The clients switch to POST when the GET URL would pass 2048 ` +
    'characters.',
  params: modelParams,
  body: WidgetBody,
  response: { 200: ModelAnswer },
};
