/**
 * Route schemas of `/v3/me` and the account's users (`/v3/account/users`): their documentation
 * in the OpenAPI document. Bodies are read by user-settings.ts; these schemas describe them and
 * do not validate. Passwords are write-only: no answer carries one.
 */
import { Type } from '@sinclair/typebox';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/password.js';
import { ROLES } from '../auth/permissions.js';

const TAGS = ['Account'];

const Role = Type.Union(
  ROLES.map((role) => Type.Literal(role)),
  {
    description:
      'Admins manage users and everything else; editors create connections, maps, tokens and ' +
      'applications; viewers read',
  },
);

const Permissions = Type.Array(Type.String(), {
  description: 'What the role allows, as permission names (`read:maps`, `admin:account`, …)',
});

const User = Type.Object(
  {
    id: Type.String({ examples: ['us_769f6215c778'] }),
    email: Type.String({ description: 'Lower-cased; unique across the server' }),
    name: Type.String(),
    role: Role,
    disabled: Type.Boolean({ description: 'A disabled user cannot sign in; its tokens stop' }),
    disabled_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    has_password: Type.Boolean({ description: 'Whether the user can sign in with a password' }),
    locked_until: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'Sign-ins paused after repeated failures, until then',
    }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false, description: 'A user of the account' },
);

const Email = Type.String({
  maxLength: 254,
  description: 'The sign-in e-mail, unique across the server',
  examples: ['postman.user@example.com'],
});
const UserName = Type.String({
  minLength: 1,
  maxLength: 255,
  description: "Defaults to the e-mail's local part",
  examples: ['Postman User'],
});
const Password = Type.String({
  minLength: MIN_PASSWORD_LENGTH,
  maxLength: MAX_PASSWORD_LENGTH,
  description: 'Stored as a hash; without one the user cannot sign in with a password',
});

const userIdParams = Type.Object({
  userId: Type.String({
    minLength: 1,
    maxLength: 256,
    description: "The user's id, or its e-mail address",
    examples: ['{{userId}}'],
  }),
});

export const GET_ME_SCHEMA = {
  tags: TAGS,
  operationId: 'getCurrentUser',
  summary: 'Get the caller',
  description:
    "The user a token acts for (a machine token acts for its application's owner), with the " +
    "account and the permissions of the user's current role. Needs `read:current_user`.",
  response: {
    200: Type.Object(
      {
        id: Type.String({ examples: ['us_769f6215c778'] }),
        email: Type.String(),
        name: Type.String(),
        role: Role,
        account_id: Type.String({ examples: ['ac_584c8a77d4bc'] }),
        account_name: Type.String(),
        token_kind: Type.Union([Type.Literal('user'), Type.Literal('machine')], {
          description: "A signed-in user's token, or an application's (client credentials)",
        }),
        client_id: Type.Optional(
          Type.String({ description: "The application, for a machine's token only" }),
        ),
        permissions: Permissions,
      },
      { additionalProperties: false, description: 'The caller' },
    ),
  },
};

export const LIST_USERS_SCHEMA = {
  tags: TAGS,
  operationId: 'listUsers',
  summary: "List the account's users",
  description:
    "Lists the account's users (a Graticule extension; CARTO manages users in its " +
    'Workspace). Admins only (`admin:account`).',
  response: {
    200: Type.Object(
      {
        data: Type.Array(User),
        meta: Type.Object({ total: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      },
      { additionalProperties: false, description: 'The users' },
    ),
  },
};

export const CREATE_USER_SCHEMA = {
  tags: TAGS,
  operationId: 'createUser',
  summary: 'Add a user',
  description:
    'Adds a user to the account. Without a password the user cannot sign in until one is ' +
    'set. Admins only.',
  'x-save': { userId: 'id' },
  body: Type.Object(
    {
      email: Email,
      role: Type.Union(
        ROLES.map((role) => Type.Literal(role)),
        { description: Role.description, examples: ['viewer'] },
      ),
      name: Type.Optional(UserName),
      password: Type.Optional(Password),
    },
    {
      additionalProperties: false,
      examples: [
        { email: 'postman.user.{{$guid}}@example.com', role: 'viewer', name: 'Postman User' },
      ],
    },
  ),
  response: {
    201: {
      ...User,
      description: 'Added; `Location` names the user',
      headers: { Location: { type: 'string', description: 'The new user' } },
    },
  },
};

export const GET_USER_SCHEMA = {
  tags: TAGS,
  operationId: 'getUser',
  summary: 'Get a user',
  description: "One of the account's users, by id or e-mail. Admins only.",
  params: userIdParams,
  response: { 200: User },
};

export const UPDATE_USER_SCHEMA = {
  tags: TAGS,
  operationId: 'updateUser',
  summary: 'Change a user',
  description:
    "Changes a user's name, role or password, or disables it (its tokens stop at once). " +
    'Admins cannot change their own role or disable themselves, and the account keeps one ' +
    'enabled admin (409 otherwise).',
  params: userIdParams,
  body: Type.Object(
    {
      name: Type.Optional(UserName),
      role: Type.Optional(Role),
      password: Type.Optional(Password),
      disabled: Type.Optional(
        Type.Boolean({
          description: '`true` disables the user (its tokens stop); `false` enables',
        }),
      ),
    },
    {
      additionalProperties: false,
      minProperties: 1,
      description: 'At least one field; omitted fields stay as they are',
      examples: [{ role: 'editor' }],
    },
  ),
  response: { 200: User },
};

export const DELETE_USER_SCHEMA = {
  tags: TAGS,
  operationId: 'deleteUser',
  summary: 'Delete a user',
  description:
    'Deletes a user who owns no applications; not oneself, nor the last enabled admin (409). ' +
    'Admins only.',
  params: userIdParams,
  response: { 204: { type: 'null', description: 'Deleted' } },
};
