import { CONSOLE_CLIENT_ID, consoleClientMetadata } from './oidc/console-client.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type Provider from 'oidc-provider';
import type { ApplicationStore } from '../apps/application-store.js';
import { errors } from '../http/errors.js';
import { bearerTokenOf } from '../http/principal.js';
import type { Store } from '../store/store.js';
import { verifyLogin } from './login.js';
import { API_RESOURCE, API_SCOPES, createOAuthServer, loginPath } from './oidc/oauth-server.js';
import { loginPage, oauthErrorPage } from './oidc/pages.js';
import { releasingContext } from './oidc/oauth-context.js';
import {
  AUTH0_LOGOUT_SCHEMA,
  AUTHORIZATION_SERVER_METADATA_SCHEMA,
  OAUTH_SERVER_SCHEMAS,
  SIGN_IN_PAGE_SCHEMA,
  SIGN_IN_SCHEMA,
} from './oauth-schemas.js';
import type { SigningKeys } from './signing-keys.js';
import { ACCOUNT_ID_CLAIM, API_AUDIENCE, type TokenService } from './token-service.js';

export interface OAuthDependencies {
  store?: Store;
  tokens: TokenService;
  applications: ApplicationStore;
  issuer: () => string;
  config: {
    tokenTtlSeconds: number;
    tokenRateLimitPerIp: number;
    tokenRateLimitPerClient: number;
    loginRateLimitPerIp: number;
    trustProxy: string;
    /** Shares the rate limits' counts between nodes when set. */
    redisUrl: string;
  };
  /** The signing keys; read per use, they change when rotated. */
  signingKeys?: () => SigningKeys;
  /** Keys signing the OAuth server's cookies. */
  cookieKeys?: string[];
}

/** Scopes of a client-credentials token that asks for none. */
const MACHINE_DEFAULT_SCOPES = [
  'read:connections',
  'write:connections',
  'read:maps',
  'write:maps',
  'read:tokens',
  'write:tokens',
  'read:imports',
  'write:imports',
];

/** Paths the OAuth server answers itself; everything else about sign-in is ours. */
const DISCOVERY_PATH = '/.well-known/openid-configuration';
const OAUTH_SERVER_PATHS = [
  '/authorize',
  '/authorize/:uid',
  '/oauth/token',
  '/oauth/revoke',
  '/userinfo',
  '/.well-known/openid-configuration',
  '/.well-known/jwks.json',
  '/oidc/logout',
  '/oidc/logout/confirm',
  '/oidc/logout/success',
];

function sendOAuthError(reply: FastifyReply, status: number, error: string, description: string) {
  return reply
    .code(status)
    .header('Cache-Control', 'no-store')
    .send({ error, error_description: description });
}

/**
 * A pre-handler allowing `perMinute` requests a minute for each key; beyond that a 429 in the
 * API's error shape with Retry-After. Counters are per node, or shared through Redis.
 */
function limiter(
  name: string,
  perMinute: number,
  keyOf: (request: FastifyRequest) => string,
  redis: Redis | undefined,
) {
  const memory = new RateLimiterMemory({ points: perMinute, duration: 60, keyPrefix: name });
  // With Redis, every node counts against the same limit; while Redis cannot answer, each
  // node falls back to its own count.
  const counts = redis
    ? new RateLimiterRedis({
        storeClient: redis,
        points: perMinute,
        duration: 60,
        keyPrefix: `graticule:limit:${name}`,
        insuranceLimiter: memory,
      })
    : memory;
  return async (request: FastifyRequest) => {
    try {
      await counts.consume(keyOf(request));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw errors.rateLimited(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
    }
  };
}

/**
 * Sends a page of the sign-in family (the sign-in form, the invitation page): never cached or
 * framed, no script, nothing loaded from elsewhere.
 */
export function sendSignInPage(reply: FastifyReply, status: number, html: string) {
  return (
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header('Cache-Control', 'no-store')
      .header('X-Frame-Options', 'DENY')
      // No `form-action`: browsers apply it to the redirects after the form is sent, and those
      // end at the application's callback URL, on another origin.
      .header(
        'Content-Security-Policy',
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      )
      .send(html)
  );
}

/** What the OAuth routes share with other sign-in pages. */
export interface SignInRoutes {
  /** The sign-in form's per-address rate limit, as a pre-handler. */
  signInRateLimit: (request: FastifyRequest) => Promise<void>;
}

/** How many whole minutes a paused sign-in has to wait. */
const minutes = (pause: { retryAfterSeconds: number }) => Math.ceil(pause.retryAfterSeconds / 60);

/** The client id of a token request, from HTTP Basic or the form, for per-client limits. */
function requestingClient(request: FastifyRequest): string {
  const basic = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(request.headers.authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      } catch {
        return decoded.slice(0, colon);
      }
    }
  }
  const body = request.body as Record<string, unknown> | undefined;
  const id = body && typeof body === 'object' ? body.client_id : undefined;
  return typeof id === 'string' ? id.slice(0, 128) : '';
}

/**
 * Serves the OAuth 2 / OpenID Connect server: the endpoints of oidc-provider (authorize, token,
 * userinfo, revocation, discovery, JWKS, logout), the sign-in page of its interactions, and
 * Auth0's `/v2/logout` that CARTO's single-page apps call. Token and sign-in requests are rate
 * limited per IP and per client.
 */
export async function registerOAuthRoutes(
  app: FastifyInstance,
  deps: OAuthDependencies,
): Promise<SignInRoutes | undefined> {
  const store = deps.store;
  const signingKeys = deps.signingKeys;
  if (!store || !signingKeys) return undefined;

  // One server per issuer and key set: the issuer is known once the port is, and a key
  // rotation brings a new set.
  let server: { provider: Provider; handle: ReturnType<Provider['callback']>; key: string } | null =
    null;
  const oauthServer = () => {
    const issuer = deps.issuer();
    const keys = signingKeys();
    const key = `${issuer}\0${keys.current.kid}\0${keys.privateJwks.length}`;
    if (server?.key !== key) {
      const provider = createOAuthServer({
        store,
        applications: deps.applications,
        issuer,
        signingKeys: keys.privateJwks,
        cookieKeys: deps.cookieKeys ?? [],
        accessTokenTtlSeconds: deps.config.tokenTtlSeconds,
        trustProxy: !['', 'false'].includes(deps.config.trustProxy.trim()),
      });
      provider.on('server_error', (_ctx: unknown, error: unknown) => {
        app.log.error({ err: error }, 'the OAuth server failed on a request');
      });
      server = { provider, handle: releasingContext(provider.callback()), key };
    }
    return server;
  };

  const redis = deps.config.redisUrl
    ? new Redis(deps.config.redisUrl, {
        connectionName: 'graticule-limits',
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 500,
      })
    : undefined;
  // Failures show as the fallback to per-node counts; the error itself may name the server.
  redis?.on('error', (error: Error) => app.log.debug({ code: (error as { code?: string }).code }));
  app.addHook('onClose', async () => redis?.disconnect());
  const byIp = (request: FastifyRequest) => request.ip;
  const tokenPerIp = limiter('token-ip', deps.config.tokenRateLimitPerIp, byIp, redis);
  const tokenPerClient = limiter(
    'token-client',
    deps.config.tokenRateLimitPerClient,
    requestingClient,
    redis,
  );
  const loginPerIp = limiter('login-ip', deps.config.loginRateLimitPerIp, byIp, redis);

  // Auth0 answers `/userinfo` for the API's access tokens too, which CARTO's apps rely on;
  // the OAuth server only for tokens issued to itself, so the API's are answered here.
  const apiUserinfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const bearer = bearerTokenOf(request.headers.authorization);
    if (!bearer || bearer.split('.').length !== 3) return false;
    const principal = await deps.tokens.verify(bearer).catch(() => null);
    if (principal?.kind !== 'user') return false;
    const user = await store
      .selectFrom('users')
      .select(['id', 'account_id', 'email', 'name', 'disabled_at'])
      .where('id', '=', principal.subject)
      .executeTakeFirst();
    if (!user || user.disabled_at) return false;
    await reply.header('Cache-Control', 'no-store').send({
      sub: user.id,
      email: user.email,
      email_verified: true,
      name: user.name,
      [ACCOUNT_ID_CLAIM]: user.account_id,
    });
    return true;
  };

  // Discovery names the endpoints by the request's host; a client must get the issuer's,
  // whatever `Host` it sent (a forged one would otherwise send its flows elsewhere).
  const pinIssuerHost = (request: FastifyRequest) => {
    request.raw.headers.host = new URL(deps.issuer()).host;
  };

  const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.url.startsWith('/userinfo') && request.method !== 'OPTIONS') {
      if (await apiUserinfo(request, reply)) return reply;
    }
    if (request.url.startsWith('/oauth/token') && request.method === 'POST') {
      const body = request.body as Record<string, unknown> | undefined;
      const audience = body?.audience;
      if (audience !== undefined && audience !== API_AUDIENCE) {
        return sendOAuthError(reply, 400, 'invalid_target', `Unknown audience '${audience}'`);
      }
      // An application registered for HTTP Basic keeps its secret out of form bodies. Those
      // registered for the body may also use Basic, which RFC 6749 §2.3.1 makes mandatory.
      if (typeof body?.client_secret === 'string' && typeof body.client_id === 'string') {
        const client = await deps.applications.findByClientId(body.client_id);
        if (client?.token_endpoint_auth_method === 'client_secret_basic') {
          reply.header('WWW-Authenticate', 'Basic realm="graticule", charset="UTF-8"');
          return sendOAuthError(
            reply,
            401,
            'invalid_client',
            'This client authenticates with HTTP Basic, not client_secret in the body',
          );
        }
      }
      // Auth0 also takes JSON token requests; the OAuth server reads forms only.
      if (request.headers['content-type']?.startsWith('application/json') && body) {
        for (const [key, value] of Object.entries(body)) {
          if (typeof value !== 'string') {
            return sendOAuthError(reply, 400, 'invalid_request', `'${key}' must be a string`);
          }
        }
        request.raw.headers['content-type'] = 'application/x-www-form-urlencoded';
      }
      // Like CARTO's, a machine's token carries the API scopes when it asks for none.
      if (body && body.grant_type === 'client_credentials' && body.scope === undefined) {
        body.scope = MACHINE_DEFAULT_SCOPES.join(' ');
      }
    }
    if (request.url.startsWith(DISCOVERY_PATH)) pinIssuerHost(request);
    // The body is already parsed; the OAuth server reads it from `req.body`.
    if (request.body !== undefined) (request.raw as { body?: unknown }).body = request.body;
    reply.hijack();
    await oauthServer().handle(request.raw, reply.raw);
  };
  for (const url of OAUTH_SERVER_PATHS) {
    const isToken = url === '/oauth/token';
    const route = {
      url,
      preHandler: isToken ? [tokenPerIp, tokenPerClient] : [],
      handler: handOver,
    };
    // Preflights are answered by the app's CORS plugin; the OAuth server then decides, per
    // client, whether the actual response may be read. The documented method gets a route of
    // its own, so the reference shows that method alone.
    const documented = OAUTH_SERVER_SCHEMAS[url];
    if (documented) {
      app.route({
        ...route,
        method: documented.method,
        exposeHeadRoute: false,
        schema: documented.schema,
      });
    }
    const methods = (['GET', 'HEAD', 'POST'] as const).filter((m) => m !== documented?.method);
    app.route({ ...route, method: methods });
  }
  app.get(
    '/.well-known/oauth-authorization-server',
    { schema: AUTHORIZATION_SERVER_METADATA_SCHEMA },
    async (request, reply) => {
      request.raw.url = DISCOVERY_PATH;
      pinIssuerHost(request);
      reply.hijack();
      await oauthServer().handle(request.raw, reply.raw);
    },
  );

  type LoginRequest = FastifyRequest<{ Params: { uid: string } }>;
  const showLogin = async (
    request: LoginRequest,
    reply: FastifyReply,
    form: { email?: string; error?: string; status?: number } = {},
  ) => {
    const { provider } = oauthServer();
    let clientName = '';
    try {
      const details = await provider.interactionDetails(request.raw, reply.raw);
      const client = await provider.Client.find(String(details.params.client_id ?? ''));
      clientName = client?.clientName ?? client?.clientId ?? '';
    } catch {
      return reply
        .code(400)
        .type('text/html; charset=utf-8')
        .header('Cache-Control', 'no-store')
        .send(oauthErrorPage('invalid_request', 'This sign-in has expired; start again.'));
    }
    return sendSignInPage(
      reply,
      form.status ?? 200,
      loginPage({
        action: loginPath(request.params.uid),
        applicationName: clientName || 'your application',
        ...(form.email !== undefined && { email: form.email }),
        ...(form.error !== undefined && { error: form.error }),
      }),
    );
  };
  app.get<{ Params: { uid: string } }>(
    '/login/:uid',
    { schema: SIGN_IN_PAGE_SCHEMA },
    async (request, reply) => {
      const { provider } = oauthServer();
      const details = await provider.interactionDetails(request.raw, reply.raw).catch(() => null);
      const accountId = details?.session?.accountId;
      // Signed in already and asked to consent (`prompt=consent`): every application belongs to
      // the account, so the grant covers what was asked for without a question.
      if (details?.prompt.name === 'consent' && accountId) {
        const grant = new provider.Grant({
          accountId,
          clientId: String(details.params.client_id ?? ''),
        });
        grant.addOIDCScope(String(details.params.scope ?? 'openid'));
        grant.addResourceScope(API_RESOURCE, API_SCOPES.join(' '));
        const grantId = await grant.save();
        reply.hijack();
        await provider.interactionFinished(request.raw, reply.raw, { consent: { grantId } });
        return;
      }
      return showLogin(request, reply);
    },
  );
  app.post<{ Params: { uid: string } }>(
    '/login/:uid',
    { preHandler: [loginPerIp], schema: SIGN_IN_SCHEMA },
    async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const email = typeof body.email === 'string' ? body.email.slice(0, 254) : '';
      const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
      if (!email || !password) {
        return showLogin(request, reply, {
          email,
          error: 'Enter your e-mail and password.',
          status: 400,
        });
      }
      const { provider } = oauthServer();
      try {
        await provider.interactionDetails(request.raw, reply.raw);
      } catch {
        return showLogin(request, reply);
      }
      const result = await verifyLogin(store, { email, password, ip: request.ip });
      if (!result.ok) {
        if (result.reason === 'locked') {
          reply.header('Retry-After', String(result.retryAfterSeconds));
          return showLogin(request, reply, {
            email,
            error: `Too many failed sign-ins. Try again in ${minutes(result)} min.`,
            status: 429,
          });
        }
        return showLogin(request, reply, {
          email,
          error: 'Wrong e-mail or password.',
          status: 401,
        });
      }
      reply.hijack();
      await provider.interactionFinished(
        request.raw,
        reply.raw,
        { login: { accountId: result.userId } },
        { mergeWithLastSubmission: false },
      );
    },
  );

  // Auth0's logout, as CARTO's single-page apps call it: `returnTo` must be one of the
  // application's allowed logout URLs.
  /** The allowed logout URLs of a client: an application's, or the built-in console's. */
  const logoutUrlsOf = async (clientId: string): Promise<readonly string[] | undefined> => {
    if (clientId === CONSOLE_CLIENT_ID) {
      return consoleClientMetadata(deps.issuer()).post_logout_redirect_uris ?? [];
    }
    const application = await deps.applications.findByClientId(clientId);
    return application ? (JSON.parse(application.logout_urls) as string[]) : undefined;
  };
  app.get('/v2/logout', { schema: AUTH0_LOGOUT_SCHEMA }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const clientId = query.client_id ?? '';
    const returnTo = query.returnTo;
    const logoutUrls = clientId ? await logoutUrlsOf(clientId) : undefined;
    const htmlError = (message: string) =>
      reply
        .code(400)
        .type('text/html; charset=utf-8')
        .send(oauthErrorPage('invalid_request', message));
    if (clientId && !logoutUrls) return htmlError('Unknown client_id.');
    if (returnTo !== undefined) {
      if (!logoutUrls) return htmlError('returnTo needs the client_id of the application.');
      if (!logoutUrls.includes(returnTo)) {
        return htmlError(`'${returnTo}' is not an allowed logout URL of this application.`);
      }
    }
    const target = new URLSearchParams();
    if (clientId) target.set('client_id', clientId);
    if (returnTo !== undefined) target.set('post_logout_redirect_uri', returnTo);
    return reply.redirect(`/oidc/logout?${target.toString()}`, 302);
  });
  return { signInRateLimit: loginPerIp };
}
