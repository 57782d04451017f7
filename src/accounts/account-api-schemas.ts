/**
 * Route schemas of the installation's accounts (`/v3/accounts`), for its operators: their
 * documentation in the OpenAPI document. Bodies are read by account-api-service.ts; these
 * schemas describe them and do not validate.
 */
import { Type } from '@sinclair/typebox';
import { INVITATION_TTL_DAYS } from '../invitations/invitation-service.js';

const TAGS = ['Account'];
const OPERATORS_ONLY =
  "Operators only: Admins of the installation's operator account (the one made on first " +
  'start); everyone else gets 403.';

const accountFields = {
  id: Type.String({ examples: ['ac_584c8a77d4bc'] }),
  name: Type.String({ description: 'The display name of the account' }),
  created_at: Type.String({ format: 'date-time' }),
};

const Account = Type.Object(
  {
    ...accountFields,
    operator: Type.Boolean({ description: "Whether this is the installation's operator account" }),
    user_count: Type.Integer({ minimum: 0, description: 'How many users the account has' }),
  },
  { additionalProperties: false, description: 'An account (a tenant)' },
);

const accountIdParams = Type.Object({
  accountId: Type.String({
    minLength: 1,
    maxLength: 256,
    description: "The account's id",
    examples: ['{{accountId}}'],
  }),
});

export const LIST_ACCOUNTS_SCHEMA = {
  tags: TAGS,
  operationId: 'listAccounts',
  summary: "List the installation's accounts",
  description: `Every account, oldest first, with its number of users. ${OPERATORS_ONLY}`,
  response: {
    200: Type.Object(
      {
        data: Type.Array(Account),
        meta: Type.Object({ total: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      },
      { additionalProperties: false, description: 'The accounts' },
    ),
  },
};

export const GET_ACCOUNT_SCHEMA = {
  tags: TAGS,
  operationId: 'getAccount',
  summary: 'Get an account',
  description: `One account, with its number of users; 404 for an unknown id. ${OPERATORS_ONLY}`,
  params: accountIdParams,
  response: { 200: Account },
};

export const CREATE_ACCOUNT_SCHEMA = {
  tags: TAGS,
  operationId: 'createAccount',
  summary: 'Create an account',
  description:
    'Creates an account (a tenant) and its first Admin, who has no password yet: the answer ' +
    'holds a one-time link (an invitation, shown in this answer only) on which the Admin ' +
    'chooses one. No application is created. An e-mail that already belongs to a user, in ' +
    `any account, answers 409. ${OPERATORS_ONLY}`,
  'x-save': { accountId: 'id' },
  body: Type.Object(
    {
      name: Type.String({
        minLength: 1,
        maxLength: 255,
        description: 'The display name of the account; no control characters',
        examples: ['Acme'],
      }),
      admin_email: Type.String({
        maxLength: 254,
        description: "The first Admin's sign-in e-mail, unique across the server",
        examples: ['ops@acme.example'],
      }),
    },
    {
      additionalProperties: false,
      examples: [{ name: 'Postman tenant', admin_email: 'postman.tenant.{{$guid}}@example.com' }],
    },
  ),
  response: {
    201: Type.Object(
      {
        ...accountFields,
        admin_id: Type.String({ description: "The first Admin's user id" }),
        admin_email: Type.String({ description: "The first Admin's e-mail, lower-cased" }),
        invitation_url: Type.String({
          format: 'uri',
          description:
            'The link on which the first Admin chooses a name and a password; it holds a ' +
            'one-time secret and is shown only in this answer',
        }),
        invitation_expires_at: Type.String({
          format: 'date-time',
          description: `The link works until then: ${INVITATION_TTL_DAYS} days from now`,
        }),
      },
      {
        additionalProperties: false,
        description: 'Created; `Location` names the account',
        headers: { Location: { type: 'string', description: 'The new account' } },
      },
    ),
  },
};
