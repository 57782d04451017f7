/**
 * Route schemas of the Applications API (`/v3/applications`): its documentation in the OpenAPI
 * document. Bodies are read by application-settings.ts; these schemas describe them and do not
 * validate.
 */
import { Type } from '@sinclair/typebox';
import { APPLICATION_TYPES, AUTH_METHODS } from './application-settings.js';

const TAGS = ['Applications'];

const literals = (values: readonly string[]) => values.map((value) => Type.Literal(value));

const ApplicationType = Type.Union(literals(APPLICATION_TYPES), {
  description:
    'What kind of client: a single-page app (code flow with PKCE), a regular web app (code ' +
    'flow with a secret) or a machine (client credentials)',
});
const AuthMethod = Type.Union(literals(AUTH_METHODS), {
  description:
    'How the client authenticates at `/oauth/token`: the secret in the form body, with HTTP ' +
    'Basic, or not at all (`none`, single-page apps only)',
});
const UrlList = (description: string) => Type.Array(Type.String(), { description });

const ApplicationProperties = {
  client_id: Type.String({ description: 'The OAuth client id', examples: ['Veaw3KaFTdV5YrrTO'] }),
  name: Type.String({ description: 'The name shown on the sign-in page' }),
  description: Type.String(),
  url: Type.String({ description: "The application's address; empty when not set" }),
  thumbnail_url: Type.String(),
  login_url: Type.String(),
  type: ApplicationType,
  token_endpoint_auth_method: AuthMethod,
  callback_urls: UrlList('Redirect URIs the code flow may return to, compared exactly'),
  logout_urls: UrlList('Where `/v2/logout` may send the browser back to'),
  web_origins: UrlList('Origins allowed to renew tokens silently (`prompt=none`)'),
  cors_origins: UrlList('Origins allowed to call the token endpoint from a browser'),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
};

const ClientSecret = Type.String({
  description: 'The client secret, shown in this answer only: it cannot be read again',
});

/** An application as it is read: never with its secret. */
const Application = Type.Object(ApplicationProperties, {
  additionalProperties: false,
  description: 'An application; its secret is never shown here',
});

/** An answer that may issue a secret (creation, a change from `none`). */
const ApplicationWithNewSecret = Type.Object(
  { ...ApplicationProperties, client_secret: Type.Optional(ClientSecret) },
  { additionalProperties: false },
);

const clientIdParams = Type.Object({
  clientId: Type.String({
    minLength: 1,
    maxLength: 256,
    description: "The application's client id",
    examples: ['{{clientId2}}'],
  }),
});

const settingsProperties = {
  name: Type.String({
    minLength: 1,
    maxLength: 255,
    description: 'The name shown on the sign-in page',
    examples: ['Postman application'],
  }),
  description: Type.String({
    maxLength: 2000,
    description: 'What the application is, for people; up to 2,000 characters',
  }),
  url: Type.String({
    description:
      "The application's address (https, or http on localhost); the login URL, callback and " +
      'logout URLs and origins default to it',
    examples: ['https://app.example.com'],
  }),
  thumbnail_url: Type.String({
    description: "The URL of the application's logo (about 150×150 px)",
  }),
  login_url: Type.String({
    description: "The address that starts the application's sign-in; defaults to `url`",
  }),
  type: Type.Union(literals(APPLICATION_TYPES), {
    description:
      "Defaults to `single_page`; CARTO's and Auth0's spellings (`spa`, `m2m`, \"Machine to " +
      'Machine") are accepted',
    examples: ['machine_to_machine'],
  }),
  token_endpoint_auth_method: Type.Union(literals(AUTH_METHODS), {
    description:
      'Defaults to `none` for single-page apps and `client_secret_post` for the others; ' +
      '`post` and `basic` are accepted too',
  }),
  callback_urls: UrlList('Redirect URIs, at most 100'),
  logout_urls: UrlList('Logout URLs, at most 100'),
  web_origins: UrlList('Origins (`scheme://host[:port]`), at most 100'),
  cors_origins: UrlList('Origins (`scheme://host[:port]`), at most 100'),
};

export const LIST_APPLICATIONS_SCHEMA = {
  tags: TAGS,
  operationId: 'listApplications',
  summary: "List the account's applications",
  description:
    "Lists the account's OAuth applications (a Graticule extension; CARTO manages them in its " +
    'Developers section), without secrets. Needs an OAuth access token with `read:apps`.',
  response: {
    200: Type.Object(
      {
        data: Type.Array(Application),
        meta: Type.Object({ total: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      },
      { additionalProperties: false, description: "The account's applications" },
    ),
  },
};

export const CREATE_APPLICATION_SCHEMA = {
  tags: TAGS,
  operationId: 'createApplication',
  summary: 'Create an application',
  description:
    'Registers an OAuth application owned by the caller. Its `client_secret` (absent for ' +
    'public single-page apps) appears in this answer only. Needs `write:apps`.',
  'x-save': { clientId2: 'client_id' },
  body: Type.Object(
    {
      name: settingsProperties.name,
      description: Type.Optional(settingsProperties.description),
      url: Type.Optional(settingsProperties.url),
      thumbnail_url: Type.Optional(settingsProperties.thumbnail_url),
      login_url: Type.Optional(settingsProperties.login_url),
      type: Type.Optional(settingsProperties.type),
      token_endpoint_auth_method: Type.Optional(settingsProperties.token_endpoint_auth_method),
      callback_urls: Type.Optional(settingsProperties.callback_urls),
      logout_urls: Type.Optional(settingsProperties.logout_urls),
      web_origins: Type.Optional(settingsProperties.web_origins),
      cors_origins: Type.Optional(settingsProperties.cors_origins),
    },
    {
      additionalProperties: false,
      examples: [{ name: 'Postman application {{$guid}}', type: 'machine_to_machine' }],
    },
  ),
  response: {
    201: {
      ...ApplicationWithNewSecret,
      description: 'Created; `Location` names it. `client_secret` is there unless `none`',
      headers: { Location: { type: 'string', description: 'The new application' } },
    },
  },
};

export const GET_APPLICATION_SCHEMA = {
  tags: TAGS,
  operationId: 'getApplication',
  summary: 'Get an application',
  description:
    "One of the account's applications, without its secret; another account's answers 404.",
  params: clientIdParams,
  response: { 200: Application },
};

export const UPDATE_APPLICATION_SCHEMA = {
  tags: TAGS,
  operationId: 'updateApplication',
  summary: 'Change an application',
  description:
    "Changes an application's settings (its owner or an admin only). URL settings still at " +
    'the defaults of the old `url` follow a new one. Turning a public client into one with a ' +
    'secret issues a `client_secret`, shown in this answer only.',
  params: clientIdParams,
  body: Type.Object(
    {
      name: Type.Optional(settingsProperties.name),
      description: Type.Optional(settingsProperties.description),
      url: Type.Optional(settingsProperties.url),
      thumbnail_url: Type.Optional(settingsProperties.thumbnail_url),
      login_url: Type.Optional(settingsProperties.login_url),
      type: Type.Optional(settingsProperties.type),
      token_endpoint_auth_method: Type.Optional(settingsProperties.token_endpoint_auth_method),
      callback_urls: Type.Optional(settingsProperties.callback_urls),
      logout_urls: Type.Optional(settingsProperties.logout_urls),
      web_origins: Type.Optional(settingsProperties.web_origins),
      cors_origins: Type.Optional(settingsProperties.cors_origins),
    },
    {
      additionalProperties: false,
      minProperties: 1,
      description: 'At least one field; omitted fields stay as they are',
      examples: [{ url: 'https://app.example.com' }],
    },
  ),
  response: {
    200: {
      ...ApplicationWithNewSecret,
      description: 'The application as changed; `client_secret` only when one was issued',
    },
  },
};

export const DELETE_APPLICATION_SCHEMA = {
  tags: TAGS,
  operationId: 'deleteApplication',
  summary: 'Delete an application',
  description:
    'Deletes an application (its owner or an admin only): its secret stops working; access ' +
    'tokens already issued stay valid until they expire.',
  params: clientIdParams,
  response: { 204: { type: 'null', description: 'Deleted' } },
};

export const ROTATE_APPLICATION_SECRET_SCHEMA = {
  tags: TAGS,
  operationId: 'rotateApplicationSecret',
  summary: "Rotate an application's secret",
  description:
    'Issues a new client secret, shown in this answer only; the old one stops working at ' +
    'once. Public clients (`none`) have no secret and answer 409.',
  params: clientIdParams,
  response: {
    200: Type.Object(
      { ...ApplicationProperties, client_secret: ClientSecret },
      { additionalProperties: false, description: 'The application with its new secret' },
    ),
  },
};
