/**
 * Route schemas of the SQL API (`/v3/sql/{connection}/query`), and the pieces every data-plane
 * route shares: the `{connection}` path parameter, bind values and the `{name, type}` schema
 * of results. Path parameters are validated with the limits they always had; query strings and
 * bodies are read by the domain's readers, so their schemas only document.
 */
import { Type, type SchemaOptions, type TProperties, type TSchema } from '@sinclair/typebox';
import { CONNECTION_NAME } from '../http/route-params.js';

const TAGS = ['SQL'];

/** One of a few values (strings or numbers). */
export function literals(values: readonly (string | number)[], options: SchemaOptions = {}) {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  );
}

/** `{connection}`: a connection's name; the example is the Postman environment's variable. */
export const ConnectionName = Type.String({
  minLength: CONNECTION_NAME.minLength,
  maxLength: CONNECTION_NAME.maxLength,
  description: "The connection's name; `carto_dw` is the embedded warehouse",
  examples: ['{{connectionName}}'],
});

/** Path parameters: `{connection}` and the route's own. */
export function connectionPathParams(own: TProperties = {}) {
  return Type.Object({ connection: ConnectionName, ...own });
}

/** A query-string parameter carrying JSON text (a POST body carries the value itself). */
export function jsonText(description: string, example?: string): TSchema {
  return Type.String({
    description: `${description} (JSON text)`,
    ...(example === undefined ? {} : { examples: [example] }),
  });
}

/** The schema with `value` as its example (the first example is what Postman sends). */
export function withExample<T extends TSchema>(schema: T, value: unknown): T {
  return { ...schema, examples: [value] };
}

/** A text answer that is not JSON (CSV, NDJSON). */
export function textBody(description: string): TSchema {
  return Type.String({ description });
}

/** Bind values for `$1, $2, ...`, as a query-string parameter. */
export const QueryParametersText = jsonText(
  'Values bound to `$1, $2, ...` in the SQL, as a JSON array; `{}` or empty means none',
);

/** Bind values for `$1, $2, ...`, in a JSON body. */
export const QueryParametersArray = Type.Array(Type.Unknown(), {
  description:
    'Values bound to `$1, $2, ...` in the SQL; objects and arrays are bound as their JSON text',
});

/** `client`: who calls, as CARTO's clients say; read by nothing. */
export const ClientName = Type.String({
  description: "The calling client's name (`deck-gl-carto`, `c4r`, ...); accepted and ignored",
});

/** `v`: the Maps API version CARTO's clients send (3.4 today). */
export const ApiVersion = Type.String({
  description: 'The API version the client speaks (`3.4`); only `geo_column` depends on it',
});

/** Column types in CARTO's terms. */
export const FieldType = literals(
  [
    'number',
    'bigint',
    'string',
    'geometry',
    'timestamp',
    'object',
    'boolean',
    'variant',
    'unknown',
  ],
  { description: "The column's type in CARTO's terms" },
);

/** One column of a result or source. */
export const SchemaField = Type.Object(
  { name: Type.String({ description: "The column's name" }), type: FieldType },
  { additionalProperties: false },
);

export const ResultSchema = Type.Array(SchemaField, {
  description: 'The columns, in order',
});

/** A row keyed by column name; geometries are hex WKB text, timestamps ISO 8601 text. */
const Row = Type.Object(
  {},
  {
    additionalProperties: true,
    description: 'A row: column name → value (geometries as hex EWKB, times as ISO 8601)',
  },
);

const SqlQueryResult = Type.Object(
  {
    rows: Type.Array(Row, { description: 'The rows, at most the configured row limit' }),
    schema: ResultSchema,
    meta: Type.Object(
      {
        cacheHit: Type.Boolean({ description: 'Always false: results are not cached' }),
        location: Type.String({
          description: "The warehouse's provider (`postgres`, `redshift`)",
          examples: ['postgres'],
        }),
        totalBytesProcessed: Type.String({ description: 'Always `"0"`: not measured' }),
        rowCount: Type.Integer({ minimum: 0, description: 'How many rows `rows` holds' }),
      },
      { additionalProperties: false },
    ),
  },
  {
    additionalProperties: false,
    description: "CARTO's `QueryResult`, which `query()` of `@carto/api-client` returns as is",
  },
);

const Sql = Type.String({
  minLength: 1,
  description: 'One SQL statement; DDL and DML run too (for roles that may execute SQL)',
  examples: ['SELECT name, iso_n3 FROM demo.countries WHERE name LIKE $1 LIMIT 5'],
});

const Format = literals(['json', 'ndjson', 'csv'], {
  description:
    "`json` (CARTO's answer, the default), or a streamed export of every row: `ndjson` or " +
    '`csv` (no row limit). `Accept: application/x-ndjson` or `text/csv` choose them too',
});

const SqlQueryBody = Type.Object(
  {
    q: Sql,
    queryParameters: Type.Optional(withExample(QueryParametersArray, ['S%'])),
    format: Type.Optional(Format),
    client: Type.Optional(ClientName),
    v: Type.Optional(ApiVersion),
  },
  { description: 'The parameters of the GET form, as JSON values' },
);

/** The form-encoded body of QGIS's CARTO plugin: the parameters as text. */
const SqlQueryForm = Type.Object({
  q: Sql,
  queryParameters: Type.Optional(withExample(QueryParametersText, '["S%"]')),
  format: Type.Optional(Format),
});

const SQL_QUERY_ANSWER = {
  200: {
    description: 'The rows with their schema; or, with `format`, the export',
    content: {
      'application/json': { schema: SqlQueryResult },
      'application/x-ndjson': { schema: textBody('One JSON object per row and line') },
      'text/csv': { schema: textBody('RFC 4180 CSV with a header line, CRLF line ends') },
    },
  },
};

const QUERY_DESCRIPTION =
  "Runs one SQL statement on the connection and answers CARTO's `{rows, schema, meta}`, as " +
  "`query()` of `@carto/api-client` calls it. Row queries stop at the server's row limit " +
  '(400 past it); `format=ndjson|csv` streams every row instead.';

export const RUN_SQL_QUERY_SCHEMA = {
  tags: TAGS,
  operationId: 'runSqlQuery',
  summary: 'Run a SQL statement',
  description: `${QUERY_DESCRIPTION} GET answers may be cached by the client for a while.`,
  params: connectionPathParams(),
  querystring: Type.Object({
    q: Sql,
    queryParameters: Type.Optional(withExample(QueryParametersText, '["S%"]')),
    format: Type.Optional(Format),
    client: Type.Optional(ClientName),
    v: Type.Optional(ApiVersion),
  }),
  response: SQL_QUERY_ANSWER,
};

export const RUN_SQL_QUERY_POST_SCHEMA = {
  tags: TAGS,
  operationId: 'runSqlQueryPost',
  summary: 'Run a SQL statement (POST)',
  description:
    `${QUERY_DESCRIPTION} CARTO's clients switch to POST when the GET URL would pass 7000 ` +
    'characters; QGIS posts a form. POST answers are never cached.',
  params: connectionPathParams(),
  body: {
    content: {
      'application/json': { schema: SqlQueryBody },
      'application/x-www-form-urlencoded': { schema: SqlQueryForm },
    },
  },
  response: SQL_QUERY_ANSWER,
};
