/**
 * Route schemas of the account's API access tokens for admins (`/v3/account/tokens`): their
 * documentation in the OpenAPI document. These routes read no body.
 */
import { Type } from '@sinclair/typebox';
import { API_NAMES } from './api-token-record.js';

const TAGS = ['Account'];

const AccountToken = Type.Object(
  {
    id: Type.String({ description: 'The token id', examples: ['tk_5bf6fb5510e93375'] }),
    name: Type.String(),
    grants: Type.Array(
      Type.Object(
        { connection_name: Type.String(), source: Type.String() },
        { additionalProperties: false },
      ),
      { description: 'The sources the token reaches' },
    ),
    allowed_apis: Type.Array(Type.Union(API_NAMES.map((name) => Type.Literal(name))), {
      description: 'The APIs the token may call',
    }),
    referers: Type.Array(Type.String(), {
      description: 'The pages the token is accepted from; empty: from anywhere',
    }),
    expiration_date: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'When the token stops working (UTC); null: never',
    }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    created_by: Type.String({
      description: "The creator's token subject (a user id or a client id); empty for a map's",
    }),
    creator_kind: Type.Union(
      ['user', 'application', 'public_map', 'unknown'].map((kind) => Type.Literal(kind)),
      {
        description:
          'A signed-in user, an application (client credentials), a public map (managed by ' +
          'the map: not revocable here), or a creator no longer in the account',
      },
    ),
    creator_email: Type.Union([Type.String(), Type.Null()], {
      description: "The user's e-mail; for an application, its owner's",
    }),
  },
  { additionalProperties: false, description: 'An API access token, without its token string' },
);

export const LIST_ACCOUNT_TOKENS_SCHEMA = {
  tags: TAGS,
  operationId: 'listAccountApiTokens',
  summary: 'List every API access token of the account',
  description:
    'Every API access token of the account, whoever created it, oldest first, with its ' +
    'creator; never the token strings. Admins only (`admin:account`).',
  response: {
    200: Type.Object(
      {
        data: Type.Array(AccountToken),
        meta: Type.Object({ total: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      },
      { additionalProperties: false, description: "The account's tokens" },
    ),
  },
};

export const REVOKE_ACCOUNT_TOKEN_SCHEMA = {
  tags: TAGS,
  operationId: 'revokeAccountApiToken',
  summary: 'Revoke any API access token of the account',
  description:
    'Revokes an API access token of the account whoever created it, as its owner would: it ' +
    'stops working at once on this server, and on the others within their token cache time. ' +
    "A public map's token answers 409: it goes with the map. Admins only.",
  // Left out of the Postman collection: it would revoke the token the other requests use.
  'x-postman': 'skip',
  params: Type.Object({
    tokenId: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'The token id, or the token string',
      examples: ['tk_5bf6fb5510e93375'],
    }),
  }),
  response: { 204: { type: 'null', description: 'Revoked' } },
};
