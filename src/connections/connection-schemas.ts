/**
 * Route schemas of the Connections API (`/v3/connections`): its documentation in the OpenAPI
 * document. Bodies are read by connection-settings.ts; these schemas describe them and do not
 * validate. Passwords are write-only: no answer carries one.
 */
import { Type } from '@sinclair/typebox';
import { MAX_POOL_SIZE, PROVIDERS } from './connection-settings.js';

const TAGS = ['Connections'];

const literals = (values: readonly string[]) => values.map((value) => Type.Literal(value));

const Provider = Type.Union(literals(PROVIDERS), {
  description: 'The kind of warehouse',
  examples: ['postgres'],
});
const SslMode = Type.Union(literals(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']), {
  description:
    'TLS as libpq names it; defaults to `prefer` (PostgreSQL) or `require` (Redshift). ' +
    '`verify-ca` and `verify-full` need `ca`',
});

const settingProperties = {
  host: Type.String({
    maxLength: 255,
    description: 'Host name or IP address of the database server',
    examples: ['{{pgHost}}'],
  }),
  port: Type.Union(
    [Type.Integer({ minimum: 1, maximum: 65535 }), Type.String({ pattern: '^\\d+$' })],
    {
      description:
        'Defaults to 5432 (PostgreSQL) or 5439 (Redshift); a numeric string is taken too',
      examples: ['{{pgPort}}'],
    },
  ),
  database: Type.String({ maxLength: 63, examples: ['{{pgDatabase}}'] }),
  username: Type.String({ maxLength: 63, examples: ['{{pgUser}}'] }),
  sslmode: SslMode,
  ca: Type.String({
    maxLength: 65536,
    description: 'PEM certificates of the authority to trust',
  }),
  schema: Type.String({
    maxLength: 63,
    description: 'Schema searched first for unqualified table names',
  }),
  readOnly: Type.Boolean({
    description: 'Sessions start read-only (a guard against mistakes, not a security boundary)',
  }),
  maxConnections: Type.Integer({
    minimum: 1,
    maximum: MAX_POOL_SIZE,
    description: 'Size of the connection pool; defaults to the server setting',
  }),
};

/** The settings of a stored connection, as answers show them: never the password. */
const StoredConfig = Type.Object(
  {
    host: Type.String({ examples: ['db.example.com'] }),
    port: Type.Integer({ minimum: 1, maximum: 65535, examples: [5432] }),
    database: Type.String({ examples: ['gis'] }),
    username: Type.String({ examples: ['graticule'] }),
    sslmode: SslMode,
    ca: Type.Optional(settingProperties.ca),
    schema: Type.Optional(settingProperties.schema),
    readOnly: settingProperties.readOnly,
    maxConnections: settingProperties.maxConnections,
  },
  { additionalProperties: false, description: 'The settings, without the password' },
);

const ManagedConfig = Type.Object(
  {},
  { additionalProperties: false, description: 'The embedded warehouse shows no settings' },
);

const Connection = Type.Object(
  {
    id: Type.String({
      description: '`conn_` and 16 hex digits; the embedded warehouse has its name as id',
      examples: ['conn_5bf6fb5510e93375'],
    }),
    name: Type.String({ examples: ['postman_pg'] }),
    provider_id: Provider,
    privacy: Type.Union([Type.Literal('private'), Type.Literal('shared')], {
      description: "`shared` for the embedded warehouse, `private` for the account's own",
    }),
    managed: Type.Boolean({ description: 'True for the embedded warehouse, which Graticule runs' }),
    config: Type.Union([StoredConfig, ManagedConfig]),
    created_at: Type.Optional(Type.String({ format: 'date-time' })),
    updated_at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false, description: 'A connection; the embedded one has no dates' },
);

const ConnectionTest = Type.Object(
  {
    ok: Type.Literal(true),
    provider_id: Provider,
    serverVersion: Type.String({ examples: ['PostgreSQL 15.18 on x86_64-pc-linux-gnu'] }),
    postgisVersion: Type.Union([Type.String(), Type.Null()], {
      description: 'The PostGIS version, or null when the database lacks PostGIS',
      examples: ['3.6.2'],
    }),
    latencyMs: Type.Number({ minimum: 0, description: 'Round trip of the check query' }),
    capabilities: Type.Object(
      {
        nativeMvt: Type.Boolean({ description: 'Builds vector tiles in the database' }),
        jsonTiles: Type.Boolean({ description: 'Aggregates tile features in SQL' }),
        cancellable: Type.Boolean({ description: 'Stops running statements on a timeout' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, description: 'The server answered: what it offers' },
);

const NAME_DESCRIPTION =
  '3 to 50 of a-z, 0-9, `_` and `-`, not starting or ending with `_` or `-`; unique in the ' +
  'account; not `carto_dw`';

/** A unique name (Postman fills in `{{$guid}}`), so runs at once or again do not collide. */
const NEW_CONNECTION_EXAMPLE = {
  name: 'postman_pg_{{$guid}}',
  provider_id: 'postgres',
  config: {
    host: '{{pgHost}}',
    port: '{{pgPort}}',
    database: '{{pgDatabase}}',
    username: '{{pgUser}}',
    password: '{{pgPassword}}',
  },
};

const NewConnection = Type.Object(
  {
    name: Type.String({ description: NAME_DESCRIPTION, examples: ['postman_pg'] }),
    provider_id: Type.Optional(
      Type.Union(literals(PROVIDERS), {
        description: 'The kind of warehouse; required, unless sent as `provider`',
        examples: ['postgres'],
      }),
    ),
    provider: Type.Optional(
      Type.Union(literals(PROVIDERS), {
        description: 'Taken for `provider_id` when that is absent',
      }),
    ),
    config: Type.Object(
      {
        host: settingProperties.host,
        port: Type.Optional(settingProperties.port),
        database: settingProperties.database,
        username: settingProperties.username,
        password: Type.String({
          maxLength: 1024,
          description: 'Stored encrypted; never shown again',
          examples: ['{{pgPassword}}'],
        }),
        sslmode: Type.Optional(SslMode),
        ca: Type.Optional(settingProperties.ca),
        schema: Type.Optional(settingProperties.schema),
        readOnly: Type.Optional(settingProperties.readOnly),
        maxConnections: Type.Optional(settingProperties.maxConnections),
      },
      { description: 'Unknown fields are ignored' },
    ),
  },
  {
    description: 'Unknown fields are ignored; `provider_id` (or `provider`) is required',
    // `required` lists name and config; one of the two spellings of the provider is required.
    anyOf: [{ required: ['provider_id'] }, { required: ['provider'] }],
    examples: [NEW_CONNECTION_EXAMPLE],
  },
);

const idParams = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: 256,
    description: "The connection's id or name",
    examples: ['{{connectionId}}'],
  }),
});

export const LIST_CONNECTIONS_SCHEMA = {
  tags: TAGS,
  operationId: 'listConnections',
  summary: 'List connections',
  description:
    "Lists the embedded warehouse `carto_dw` and the account's own connections, without " +
    'passwords. Needs `read:connections`.',
  response: {
    200: Type.Object(
      {
        data: Type.Array(Connection),
        meta: Type.Object({ total: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      },
      { additionalProperties: false, description: 'The connections' },
    ),
  },
};

export const CREATE_CONNECTION_SCHEMA = {
  tags: TAGS,
  operationId: 'createConnection',
  summary: 'Create a connection',
  description:
    'Saves a connection to a PostgreSQL/PostGIS or Redshift database; the password is stored ' +
    'encrypted. It is not tried here: `POST /v3/connections/{id}/test` does. Needs ' +
    '`write:connections`.',
  'x-save': { connectionId: 'id' },
  body: NewConnection,
  response: { 201: { ...Connection, description: 'Created' } },
};

export const TEST_NEW_CONNECTION_SCHEMA = {
  tags: TAGS,
  operationId: 'testNewConnection',
  summary: 'Test connection settings',
  description:
    'Connects with settings that are not saved (a form\'s "test" button) and reports what the ' +
    'server offers; a server that cannot be reached or refuses the login answers 502.',
  body: NewConnection,
  response: { 200: ConnectionTest },
};

export const GET_CONNECTION_SCHEMA = {
  tags: TAGS,
  operationId: 'getConnection',
  summary: 'Get a connection',
  description: 'One connection by id or name, without its password.',
  params: idParams,
  response: { 200: Connection },
};

export const UPDATE_CONNECTION_SCHEMA = {
  tags: TAGS,
  operationId: 'updateConnection',
  summary: 'Change a connection',
  description:
    "Changes the name or settings of one of the account's connections; omitted settings, the " +
    'password included, are kept. The provider cannot change; `carto_dw` answers 403.',
  params: idParams,
  body: Type.Object(
    {
      name: Type.Optional(Type.String({ description: NAME_DESCRIPTION })),
      provider_id: Type.Optional(
        Type.Union(literals(PROVIDERS), {
          description: 'May be sent (also as `provider`) if it is the current one',
        }),
      ),
      config: Type.Optional(
        Type.Object(
          {
            host: Type.Optional(settingProperties.host),
            port: Type.Optional(settingProperties.port),
            database: Type.Optional(settingProperties.database),
            username: Type.Optional(settingProperties.username),
            password: Type.Optional(Type.String({ maxLength: 1024 })),
            sslmode: Type.Optional(SslMode),
            ca: Type.Optional(settingProperties.ca),
            schema: Type.Optional(settingProperties.schema),
            readOnly: Type.Optional(settingProperties.readOnly),
            maxConnections: Type.Optional(settingProperties.maxConnections),
          },
          { description: 'Omitted settings are kept; unknown fields are ignored' },
        ),
      ),
    },
    { description: 'Omitted fields are kept', examples: [{ config: { readOnly: true } }] },
  ),
  response: { 200: Connection },
};

export const DELETE_CONNECTION_SCHEMA = {
  tags: TAGS,
  operationId: 'deleteConnection',
  summary: 'Delete a connection',
  description:
    "Deletes one of the account's connections and closes its sessions; `carto_dw` answers 403.",
  params: idParams,
  response: { 204: { type: 'null', description: 'Deleted' } },
};

export const TEST_CONNECTION_SCHEMA = {
  tags: TAGS,
  operationId: 'testConnection',
  summary: 'Test a connection',
  description:
    'Connects with a saved connection and reports the server and PostGIS versions and what ' +
    'the server offers; a server that cannot be reached or refuses the login answers 502.',
  params: idParams,
  response: { 200: ConnectionTest },
};
