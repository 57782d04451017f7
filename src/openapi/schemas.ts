/**
 * Schema pieces the route declarations share. Route schemas are the API's documentation: the
 * OpenAPI document, the reference page and the Postman collection are generated from them.
 */
import { Type, type TSchema } from '@sinclair/typebox';

/** CARTO's JSON error body, answered by every route for every 4xx and 5xx. */
export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'What went wrong, for people' }),
    status: Type.Integer({ description: 'The HTTP status, repeated' }),
    code: Type.String({ description: 'A stable machine-readable code' }),
    hint: Type.Optional(Type.String()),
    column_name: Type.Optional(Type.String()),
  },
  {
    $id: 'Error',
    title: 'Error',
    description: "CARTO's error body: clients read its `error` field",
  },
);

/** The tags the reference groups operations by, in the order it shows them. */
export const API_TAGS = [
  { name: 'Auth', description: 'OAuth 2 / OpenID Connect: access tokens for apps and users' },
  { name: 'SQL', description: 'Run SQL on a connection, at once or as an async job' },
  { name: 'Maps', description: 'TileJSON and vector tiles from tables, queries and tilesets' },
  { name: 'Widgets', description: 'Aggregations for widgets (the SQL Model API) and stats' },
  { name: 'Tilesets', description: 'Pre-generated tilesets built from a source' },
  { name: 'Saved maps', description: 'Maps saved in Graticule, read by `fetchMap`' },
  { name: 'Connections', description: "The account's warehouses" },
  { name: 'Tokens', description: 'API access tokens scoped by grants' },
  { name: 'Applications', description: 'OAuth clients of the Developers section' },
  {
    name: 'Account',
    description: "Users, roles, the audit log, and the installation's accounts (operators)",
  },
  { name: 'Service', description: 'Health and readiness' },
] as const;

export type ApiTag = (typeof API_TAGS)[number]['name'];

/** A JSON body described only by its example, for answers whose fields vary by request. */
export function looseObject(description: string, example?: Record<string, unknown>): TSchema {
  return Type.Object(
    {},
    { additionalProperties: true, description, ...(example ? { examples: [example] } : {}) },
  );
}

/** A binary answer (a tile, an export), documented by its media types. */
export function binaryBody(description: string): TSchema {
  return Type.String({ description, contentEncoding: 'binary' });
}
