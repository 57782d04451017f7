/**
 * Route schemas of the OAuth 2 / OpenID Connect endpoints: their documentation in the OpenAPI
 * document. Most are answered by the OAuth server (oidc-provider) after the route hands the
 * request over; these schemas describe what it reads and answers, and validate nothing.
 * OAuth errors have RFC 6749's shape `{error, error_description}`, not CARTO's.
 */
import { Type } from '@sinclair/typebox';
import { ACCOUNT_ID_CLAIM, API_AUDIENCE, EMAIL_CLAIM } from './token-service.js';

const TAGS = ['Auth'];
/** Operations that need a browser (or a signed-in user) and cannot run from a plain client. */
const BROWSER_ONLY = { 'x-postman': 'skip' } as const;

/** RFC 6749's error body, which the OAuth endpoints answer instead of CARTO's. */
const OAuthError = Type.Object(
  {
    error: Type.String({
      description: 'An RFC 6749 error code',
      examples: ['invalid_client'],
    }),
    error_description: Type.String({ description: 'What went wrong, for people' }),
  },
  { additionalProperties: false, description: 'An OAuth error (RFC 6749 §5.2)' },
);

const oauthError = (description: string, headers?: Record<string, unknown>) => ({
  ...OAuthError,
  description,
  ...(headers ? { headers } : {}),
});

const html = (description: string) => ({
  description,
  content: { 'text/html': { schema: Type.String({ description: 'An HTML page' }) } },
});

const redirect = (description: string) => ({
  type: 'null',
  description,
  headers: { Location: { type: 'string', description: 'Where the browser goes next' } },
});

const rateLimited = (description: string) => ({
  $ref: 'Error#',
  description,
  headers: { 'Retry-After': { type: 'integer', description: 'Seconds to wait' } },
});

const TokenAnswer = Type.Object(
  {
    access_token: Type.String({
      description: 'A JWT (RS256) for the API, audience `carto-cloud-native-api`',
    }),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'Seconds the access token lives', examples: [86400] }),
    scope: Type.Optional(Type.String({ description: 'The granted scopes, space-separated' })),
    id_token: Type.Optional(
      Type.String({ description: 'An OpenID Connect ID token (code flow with `openid`)' }),
    ),
  },
  { additionalProperties: false, description: 'The tokens' },
);

const TokenRequest = Type.Object(
  {
    grant_type: Type.Union(
      [Type.Literal('client_credentials'), Type.Literal('authorization_code')],
      {
        description: '`client_credentials` for machines, `authorization_code` after `/authorize`',
        examples: ['client_credentials'],
      },
    ),
    client_id: Type.Optional(
      Type.String({
        description: 'The application; or the user name of HTTP Basic',
        examples: ['{{clientId}}'],
      }),
    ),
    client_secret: Type.Optional(
      Type.String({
        description:
          'Its secret (`client_secret_post`); applications registered for ' +
          '`client_secret_basic` send it with HTTP Basic instead and answer 401 here',
        examples: ['{{clientSecret}}'],
      }),
    ),
    audience: Type.Optional(
      Type.Literal(API_AUDIENCE, {
        description: "The API, Auth0's way; any other value answers 400 `invalid_target`",
        examples: [API_AUDIENCE],
      }),
    ),
    scope: Type.Optional(
      Type.String({
        description:
          'Scopes asked for, space-separated; a client-credentials request without it gets ' +
          "the API's connection, map, token and import scopes",
      }),
    ),
    code: Type.Optional(
      Type.String({ description: 'The authorization code (`authorization_code`)' }),
    ),
    code_verifier: Type.Optional(
      Type.String({ description: 'The PKCE verifier of the code (public clients must send it)' }),
    ),
    redirect_uri: Type.Optional(
      Type.String({ description: 'The redirect URI the code was issued to' }),
    ),
  },
  {
    description:
      'Form-encoded (RFC 6749) or, as Auth0 allows, a JSON object of strings. The client may ' +
      'authenticate with HTTP Basic instead of `client_id` and `client_secret`',
    examples: [
      {
        grant_type: 'client_credentials',
        client_id: '{{clientId}}',
        client_secret: '{{clientSecret}}',
        audience: API_AUDIENCE,
      },
    ],
  },
);

/** POST /oauth/token; GET and HEAD reach the OAuth server too, undocumented. */
export const OAUTH_TOKEN_SCHEMA = {
  tags: TAGS,
  operationId: 'getOAuthToken',
  summary: 'Get an access token',
  description:
    'The OAuth 2 token endpoint, as Auth0 serves it for CARTO: client credentials for ' +
    'Machine to Machine applications, authorization codes (with PKCE) for browser apps. ' +
    'Rate limited per IP address and per client.',
  consumes: ['application/x-www-form-urlencoded', 'application/json'],
  body: TokenRequest,
  response: {
    200: TokenAnswer,
    400: oauthError('A bad request: unknown grant, audience or code, missing fields'),
    401: oauthError('The client failed to authenticate', {
      'WWW-Authenticate': { type: 'string', description: 'Sent when HTTP Basic is expected' },
    }),
    429: rateLimited("Too many token requests from this address or client; in CARTO's shape"),
  },
};

export const OAUTH_REVOKE_SCHEMA = {
  tags: TAGS,
  operationId: 'revokeOAuthToken',
  summary: 'Revoke a token',
  description:
    "Token revocation (RFC 7009) for the OAuth server's own tokens. An unknown token answers " +
    '200 too. Access tokens for the API are JWTs and stay valid until they expire.',
  consumes: ['application/x-www-form-urlencoded'],
  body: Type.Object(
    {
      token: Type.String({ description: 'The token to revoke', examples: ['an-unknown-token'] }),
      token_type_hint: Type.Optional(
        Type.Union([Type.Literal('access_token'), Type.Literal('refresh_token')], {
          description: 'What kind of token `token` is, to look it up first there',
        }),
      ),
      client_id: Type.Optional(
        Type.String({
          description: 'The client the token was issued to',
          examples: ['{{clientId}}'],
        }),
      ),
      client_secret: Type.Optional(
        Type.String({
          description: 'Its secret (`client_secret_post`), unless sent with HTTP Basic',
          examples: ['{{clientSecret}}'],
        }),
      ),
    },
    {
      description: 'Form-encoded; the client authenticates as at the token endpoint',
      examples: [
        { token: 'an-unknown-token', client_id: '{{clientId}}', client_secret: '{{clientSecret}}' },
      ],
    },
  ),
  response: {
    200: { type: 'null', description: 'Revoked, or unknown already: an empty body' },
    400: oauthError('A bad request, or no client authentication'),
    401: oauthError('The client failed to authenticate'),
  },
};

export const USERINFO_SCHEMA = {
  tags: TAGS,
  operationId: 'getUserInfo',
  summary: 'Get the signed-in user',
  description:
    "OpenID Connect userinfo for a user's access token (from a code flow), as Auth0 answers " +
    "it for CARTO's apps. A machine's token (client credentials) answers 401.",
  ...BROWSER_ONLY,
  security: [{ bearerAuth: [] }],
  response: {
    200: Type.Object(
      {
        sub: Type.String({ description: 'The user id', examples: ['us_769f6215c778'] }),
        email: Type.Optional(Type.String()),
        email_verified: Type.Optional(Type.Boolean()),
        name: Type.Optional(Type.String()),
        [ACCOUNT_ID_CLAIM]: Type.Optional(Type.String({ description: "The user's account" })),
        [EMAIL_CLAIM]: Type.Optional(Type.String()),
      },
      { additionalProperties: true, description: "The user's claims" },
    ),
    401: oauthError('No, a bad or a machine access token', {
      'WWW-Authenticate': { type: 'string', description: 'The bearer challenge' },
    }),
  },
};

const DiscoveryDocument = Type.Object(
  {
    issuer: Type.String({ description: 'The issuer of every token, with a final `/`' }),
    authorization_endpoint: Type.String(),
    token_endpoint: Type.String(),
    userinfo_endpoint: Type.String(),
    revocation_endpoint: Type.String(),
    end_session_endpoint: Type.String(),
    jwks_uri: Type.String(),
    response_types_supported: Type.Array(Type.String()),
    grant_types_supported: Type.Array(Type.String()),
    scopes_supported: Type.Array(Type.String()),
    token_endpoint_auth_methods_supported: Type.Array(Type.String()),
    code_challenge_methods_supported: Type.Array(Type.String()),
    id_token_signing_alg_values_supported: Type.Array(Type.String()),
    subject_types_supported: Type.Array(Type.String()),
    claims_supported: Type.Array(Type.String()),
  },
  { additionalProperties: true, description: 'The OAuth server metadata' },
);

export const OPENID_CONFIGURATION_SCHEMA = {
  tags: TAGS,
  operationId: 'getOpenIdConfiguration',
  summary: 'OpenID Connect discovery',
  description:
    'The OpenID Provider metadata: endpoints, grants and algorithms. OAuth client libraries ' +
    '(openid-client, Auth0 SDKs) read it first.',
  response: { 200: DiscoveryDocument },
};

export const AUTHORIZATION_SERVER_METADATA_SCHEMA = {
  tags: TAGS,
  operationId: 'getOAuthServerMetadata',
  summary: 'OAuth server metadata',
  description:
    'The OAuth 2 Authorization Server Metadata (RFC 8414): the same document as the OpenID ' +
    'Connect discovery.',
  response: { 200: DiscoveryDocument },
};

const JsonWebKeySet = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          kty: Type.String({ examples: ['RSA'] }),
          kid: Type.String(),
          use: Type.Optional(Type.String({ examples: ['sig'] })),
          alg: Type.Optional(Type.String({ examples: ['RS256'] })),
          n: Type.Optional(Type.String()),
          e: Type.Optional(Type.String()),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: false, description: 'A JSON Web Key Set (RFC 7517)' },
);

export const JWKS_SCHEMA = {
  tags: TAGS,
  operationId: 'getJsonWebKeySet',
  summary: 'Token signing keys',
  description:
    'The public keys (JWKS) that verify access and ID tokens, by `kid`; after a key rotation ' +
    'the retired keys stay here until their tokens have expired.',
  response: {
    200: {
      description: 'The keys, as `application/jwk-set+json`',
      content: { 'application/jwk-set+json': { schema: JsonWebKeySet } },
    },
  },
};

export const AUTHORIZE_SCHEMA = {
  tags: TAGS,
  operationId: 'authorize',
  summary: 'Start a sign-in',
  description:
    "The OAuth 2 authorization endpoint a browser app sends its users to (Auth0's " +
    '`/authorize`). It redirects to the sign-in page, then back to `redirect_uri` with a ' +
    '`code` or an `error`. Browser only.',
  ...BROWSER_ONLY,
  querystring: Type.Object({
    client_id: Type.String({ description: 'The application' }),
    response_type: Type.Union([Type.Literal('code'), Type.Literal('none')], {
      description: '`code` for an authorization code; `none` for the redirect alone',
    }),
    redirect_uri: Type.String({ description: "One of the application's callback URLs" }),
    scope: Type.Optional(
      Type.String({
        description: 'The scopes asked for, space-separated',
        examples: ['openid profile email'],
      }),
    ),
    state: Type.Optional(
      Type.String({ description: 'Any value the application gets back unchanged' }),
    ),
    nonce: Type.Optional(
      Type.String({ description: 'A value the ID token repeats, against replays' }),
    ),
    audience: Type.Optional(
      Type.Literal(API_AUDIENCE, { description: 'The API the access token is for' }),
    ),
    code_challenge: Type.Optional(
      Type.String({ description: 'PKCE challenge; single-page apps must send one' }),
    ),
    code_challenge_method: Type.Optional(
      Type.Literal('S256', { description: 'How `code_challenge` was made: SHA-256 only' }),
    ),
    prompt: Type.Optional(
      Type.String({ description: '`none` renews silently, or fails with `login_required`' }),
    ),
    response_mode: Type.Optional(
      Type.Union(
        ['query', 'fragment', 'form_post', 'web_message'].map((m) => Type.Literal(m)),
        { description: 'How the answer goes back to `redirect_uri`; `query` if absent' },
      ),
    ),
  }),
  response: {
    200: html('A page posting the answer (`form_post`, `web_message`)'),
    303: redirect('To the sign-in page, or back to `redirect_uri` with a `code` or an `error`'),
    400: html('The request cannot be answered to the application (unknown client or URI)'),
  },
};

const uidParams = Type.Object({
  uid: Type.String({ minLength: 1, description: 'The sign-in under way, from `/authorize`' }),
});

export const SIGN_IN_PAGE_SCHEMA = {
  tags: TAGS,
  operationId: 'showSignInPage',
  summary: 'Sign-in page',
  description:
    'The e-mail and password form `/authorize` redirects to. A user already signed in who is ' +
    'asked to consent goes straight back to the application. Browser only.',
  ...BROWSER_ONLY,
  params: uidParams,
  response: {
    200: html('The sign-in form'),
    303: redirect('Signed in already: back to the authorization'),
    400: html('The sign-in has expired'),
  },
};

export const SIGN_IN_SCHEMA = {
  tags: TAGS,
  operationId: 'signIn',
  summary: 'Sign in',
  description:
    'Checks the e-mail and password of the sign-in form. After five failures in a row the ' +
    "user's sign-ins pause for a while that grows with each further failure. Browser only.",
  ...BROWSER_ONLY,
  params: uidParams,
  consumes: ['application/x-www-form-urlencoded'],
  body: Type.Object({
    email: Type.String({ maxLength: 254, description: "The user's e-mail address" }),
    password: Type.String({ maxLength: 1024, description: "The user's password" }),
  }),
  response: {
    303: redirect('Signed in: back to the authorization, which redirects to the application'),
    400: html('The form again, asking for both fields; or the sign-in has expired'),
    401: html('The form again: wrong e-mail or password'),
    429: {
      description:
        "The user's sign-ins are paused (the form again, in HTML), or this address sent too " +
        "many sign-ins (CARTO's JSON error)",
      headers: { 'Retry-After': { type: 'integer', description: 'Seconds to wait' } },
      content: {
        'text/html': { schema: Type.String({ description: 'An HTML page' }) },
        'application/json': { schema: { $ref: 'Error#' } },
      },
    },
  },
};

export const END_SESSION_SCHEMA = {
  tags: TAGS,
  operationId: 'endSession',
  summary: 'Sign out (OpenID Connect)',
  description:
    'OpenID Connect RP-initiated logout: a page that ends the session, then returns to ' +
    "`post_logout_redirect_uri` when it is one of the application's logout URLs. Browser only.",
  ...BROWSER_ONLY,
  querystring: Type.Object({
    client_id: Type.Optional(Type.String({ description: 'The application signing out' })),
    post_logout_redirect_uri: Type.Optional(
      Type.String({ description: "Where to go afterwards: one of the application's logout URLs" }),
    ),
    id_token_hint: Type.Optional(
      Type.String({ description: 'An ID token the server issued, naming the user and client' }),
    ),
    state: Type.Optional(
      Type.String({ description: 'Any value passed back to `post_logout_redirect_uri`' }),
    ),
  }),
  response: {
    200: html('The page that signs out'),
    400: html('A bad logout request'),
  },
};

export const AUTH0_LOGOUT_SCHEMA = {
  tags: TAGS,
  operationId: 'logout',
  summary: 'Sign out (Auth0)',
  description:
    "Auth0's logout, as CARTO's single-page apps call it: ends the session through the " +
    "OpenID Connect logout. `returnTo` must be one of the application's logout URLs. " +
    'Browser only.',
  ...BROWSER_ONLY,
  querystring: Type.Object({
    client_id: Type.Optional(Type.String({ description: 'The application' })),
    returnTo: Type.Optional(
      Type.String({ description: 'Where to go afterwards; needs `client_id`' }),
    ),
  }),
  response: {
    302: redirect('To the OpenID Connect logout'),
    400: html('Unknown client, or `returnTo` not allowed'),
  },
};

/**
 * The documented method of each path the OAuth server answers. The routes of those paths
 * answer GET, HEAD and POST; the other methods are routed too but not documented.
 */
export const OAUTH_SERVER_SCHEMAS: Partial<
  Record<string, { method: 'GET' | 'POST'; schema: Record<string, unknown> }>
> = {
  '/authorize': { method: 'GET', schema: AUTHORIZE_SCHEMA },
  '/oauth/token': { method: 'POST', schema: OAUTH_TOKEN_SCHEMA },
  '/oauth/revoke': { method: 'POST', schema: OAUTH_REVOKE_SCHEMA },
  '/userinfo': { method: 'GET', schema: USERINFO_SCHEMA },
  '/.well-known/openid-configuration': { method: 'GET', schema: OPENID_CONFIGURATION_SCHEMA },
  '/.well-known/jwks.json': { method: 'GET', schema: JWKS_SCHEMA },
  '/oidc/logout': { method: 'GET', schema: END_SESSION_SCHEMA },
};
