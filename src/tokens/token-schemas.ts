/**
 * Route schemas of the Tokens API (`/v3/tokens`): its documentation in the OpenAPI document.
 * Bodies are read by api-token-input.ts; these schemas describe them and do not validate.
 */
import { Type } from '@sinclair/typebox';
import { API_NAMES } from './api-token-record.js';

const TAGS = ['Tokens'];

const Grant = Type.Object(
  {
    connection_name: Type.String({
      description: 'The connection the grant covers',
      examples: ['carto_dw'],
    }),
    source: Type.String({
      description:
        'What of it: `*`, a schema pattern (`demo.*`), a table or tileset name ' +
        '(`demo.countries`), or SQL text the token may run exactly',
      examples: ['demo.countries'],
    }),
  },
  { additionalProperties: false },
);

const Grants = Type.Array(Grant, {
  minItems: 1,
  maxItems: 100,
  description: 'The sources the token reaches, 1 to 100',
});

const AllowedApis = Type.Array(Type.Union(API_NAMES.map((name) => Type.Literal(name))), {
  minItems: 1,
  description: 'The APIs the token may call; `imports` cannot be combined with others',
  examples: [['sql', 'maps']],
});

const Referers = Type.Array(Type.String(), {
  maxItems: 100,
  description:
    'Origins (`https://app.example.com`, `https://*.example.com`) or URL prefixes the token ' +
    'is accepted from; empty: from anywhere',
  examples: [[]],
});

const TokenName = Type.String({
  minLength: 1,
  maxLength: 128,
  description: "A name unique among the caller's tokens",
  examples: ['postman_token'],
});

const ApiTokenProperties = {
  id: Type.String({ description: 'The token id', examples: ['tk_5bf6fb5510e93375'] }),
  name: TokenName,
  grants: Grants,
  allowed_apis: AllowedApis,
  referers: Referers,
  expiration_date: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'When the token stops working (UTC); null: never',
  }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
};

/** An API access token as the API shows it, without the token string. */
const ApiToken = Type.Object(ApiTokenProperties, {
  additionalProperties: false,
  description: 'An API access token; the token string itself is not shown again',
});

const CreatedApiToken = Type.Object(
  {
    token: Type.String({
      description: 'The token string (a JWT), shown in this answer only',
      examples: ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhIjoiYWNf...'],
    }),
    ...ApiTokenProperties,
  },
  { additionalProperties: false, description: 'The new token, with its token string' },
);

const tokenParams = Type.Object({
  token: Type.String({
    minLength: 1,
    maxLength: 4096,
    description: 'The token string (as CARTO names it in the path) or the token id',
    examples: ['{{apiToken}}'],
  }),
});

export const CREATE_API_TOKEN_SCHEMA = {
  tags: TAGS,
  operationId: 'createApiToken',
  summary: 'Create an API access token',
  description:
    'Creates an API access token reaching the granted sources through the allowed APIs, as ' +
    "CARTO's Workspace does. The token string is in this answer only. Needs an OAuth access " +
    'token with `write:tokens`.',
  'x-save': { apiToken: 'token' },
  body: Type.Object(
    {
      name: Type.Optional(TokenName),
      grants: Type.Array(Grant, {
        minItems: 1,
        maxItems: 100,
        description: 'The sources the token reaches; each connection must exist',
        examples: [[{ connection_name: '{{connectionName}}', source: 'demo.countries' }]],
      }),
      allowed_apis: AllowedApis,
      referers: Type.Optional(Referers),
      expiration_date: Type.Optional(
        Type.String({
          format: 'date-time',
          description: 'When the token stops working, in the future; absent: never',
          examples: ['2030-12-31T00:00:00Z'],
        }),
      ),
    },
    {
      additionalProperties: false,
      examples: [
        {
          name: 'postman_token_{{$guid}}',
          grants: [{ connection_name: '{{connectionName}}', source: 'demo.countries' }],
          allowed_apis: ['sql', 'maps'],
          referers: [],
        },
      ],
    },
  ),
  response: { 201: CreatedApiToken },
};

export const LIST_API_TOKENS_SCHEMA = {
  tags: TAGS,
  operationId: 'listApiTokens',
  summary: "List the caller's API access tokens",
  description:
    'Lists the API access tokens the caller created, without their token strings. Needs an ' +
    'OAuth access token with `read:tokens`.',
  response: {
    200: Type.Object(
      {
        data: Type.Array(ApiToken),
        meta: Type.Object({ total: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      },
      { additionalProperties: false, description: "The caller's tokens" },
    ),
  },
};

export const GET_API_TOKEN_SCHEMA = {
  tags: TAGS,
  operationId: 'getApiToken',
  summary: 'Get an API access token',
  description:
    "One of the caller's API access tokens, by token string or id; another's answers 404.",
  params: tokenParams,
  response: { 200: ApiToken },
};

export const UPDATE_API_TOKEN_SCHEMA = {
  tags: TAGS,
  operationId: 'updateApiToken',
  summary: 'Change an API access token',
  description:
    "Changes the name, grants, allowed APIs or referers of one of the caller's tokens; the " +
    'token string stays the same. The expiration date is set only on creation.',
  params: tokenParams,
  body: Type.Object(
    {
      name: Type.Optional(TokenName),
      grants: Type.Optional(Grants),
      allowed_apis: Type.Optional(AllowedApis),
      referers: Type.Optional(Referers),
    },
    {
      additionalProperties: false,
      minProperties: 1,
      description: 'At least one field; omitted fields stay as they are',
      examples: [{ name: 'postman_token_renamed_{{$guid}}' }],
    },
  ),
  response: { 200: ApiToken },
};

export const DELETE_API_TOKEN_SCHEMA = {
  tags: TAGS,
  operationId: 'deleteApiToken',
  summary: 'Revoke an API access token',
  description:
    "Revokes one of the caller's API access tokens: it stops working at once on this server, " +
    'and on the others within their token cache time.',
  params: tokenParams,
  response: { 204: { type: 'null', description: 'Revoked' } },
};
