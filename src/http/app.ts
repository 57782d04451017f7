import { constants as zlibConstants } from 'node:zlib';
import type { Socket } from 'node:net';
import { STATUS_CODES, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerFactory,
  type FastifyServerOptions,
} from 'fastify';
import cors from '@fastify/cors';
import { Type } from '@sinclair/typebox';
import compress from '@fastify/compress';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import type { Principal, TokenService } from '../auth/token-service.js';
import type { ApplicationStore } from '../apps/application-store.js';
import { registerOAuthRoutes } from '../auth/oauth-routes.js';
import type { SigningKeys } from '../auth/signing-keys.js';
import type { ConnectionRegistry } from '../connections/connection-registry.js';
import { registerConnectionRoutes } from '../connections/connection-routes.js';
import { registerAccountApiRoutes } from '../accounts/account-api-routes.js';
import { registerAccountRoutes } from '../accounts/account-routes.js';
import type { ConnectionService } from '../connections/connection-service.js';
import { registerSqlRoutes } from '../sql/sql-routes.js';
import { registerSqlJobRoutes } from '../jobs/sql-job-routes.js';
import type { SqlJobService } from '../jobs/sql-job-service.js';
import { registerMapsRoutes } from '../maps/maps-routes.js';
import { registerTilesetRoutes } from '../tilesets/tileset-routes.js';
import { registerRasterRoutes } from '../rasters/raster-routes.js';
import { registerBoundaryRoutes } from '../boundaries/boundary-routes.js';
import { registerPublicMapsRoutes } from '../public-maps/public-map-routes.js';
import { registerWidgetRoutes } from '../widgets/widget-routes.js';
import { registerStatsRoutes } from '../stats/stats-routes.js';
import type { ApiTokenService } from '../tokens/api-token-service.js';
import { registerTokenRoutes } from '../tokens/token-routes.js';
import { registerAccountTokenRoutes } from '../tokens/account-token-routes.js';
import { registerInvitationRoutes } from '../invitations/invitation-routes.js';
import { registerInvitationPageRoutes } from '../invitations/invitation-page-routes.js';
import { enforceApiTokenAccess } from '../tokens/token-enforcement.js';
import { registerPreviewRoutes } from '../preview/preview-routes.js';
import { registerWebUiRoutes } from '../web-ui/web-ui-routes.js';
import { registerOpenApi } from '../openapi/openapi.js';
import { registerPostmanRoutes } from '../openapi/postman-routes.js';
import { PRODUCT_VERSION } from '../openapi/product-version.js';
import { installErrorHandling } from './error-handler.js';
import { drainUnreadBody } from './drain-request.js';
import { varyByAuthorization } from './cache-control.js';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from './request-params.js';
import { errors } from './errors.js';
import { generateRequestId } from './request-id.js';
import { FastPaths } from './fast-path.js';
import { bearerTokenOf } from './principal.js';
import { MIN_GZIP_BYTES } from '../maps/tile-cache.js';
import { Metrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface AppDependencies {
  config: Config;
  tokens: TokenService;
  applications: ApplicationStore;
  connections: ConnectionRegistry;
  /** The Connections API; absent in apps built for tests of other routes. */
  connectionService?: ConnectionService;
  /** Async SQL jobs; apps built without it (tests of other domains) serve no job routes. */
  jobs?: SqlJobService;
  /** API access tokens (`/v3/tokens`); without it no Tokens API, and such tokens are refused. */
  apiTokens?: ApiTokenService;
  /** The open metadata store; apps built for tests may leave it out (routes then open one). */
  store?: Store;
  issuer: () => string;
  /** The keys signing OAuth tokens (they change when rotated); without them no OAuth server. */
  signingKeys?: () => SigningKeys;
  /** Keys signing the OAuth server's cookies. */
  cookieKeys?: string[];
  isReady: () => boolean;
  logger: Logger;
}

/** Headers CARTO's clients send, which a browser preflight must be allowed to carry. */
const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Cache-Control',
  'If-Modified-Since',
  'If-None-Match',
  'X-Request-Id',
  // Auth0's SDKs describe themselves in this header on token requests.
  'Auth0-Client',
];
/** Answer headers a browser script may read. */
const EXPOSED_HEADERS = ['ETag', 'X-Request-Id', 'Retry-After', 'Content-Encoding'] as const;
const COMPRESSIBLE_TYPES =
  /^(application\/(json|vnd\.mapbox-vector-tile|vnd\.carto-vector-tile|x-protobuf)|text\/)/;
/** CARTO's tile and SQL URLs can be long; Node's default 16 KiB header limit is too tight. */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * Requests Node cannot even parse (a garbled request line, headers too large, a timeout while
 * receiving) still get CARTO's JSON error shape, then the connection closes.
 */
function answerMalformedRequest(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request was not received in time']
        : [400, 'Malformed HTTP request'];
  const body = JSON.stringify({ error: message, status, code: 'malformed_request' });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A form body as an object; a repeated field keeps all its values, as an array. */
function parseFormBody(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const previous = fields[key];
    if (previous === undefined) fields[key] = value;
    else fields[key] = Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return fields;
}

async function requireBearerToken(request: FastifyRequest, tokens: TokenService): Promise<void> {
  if (request.method === 'OPTIONS') return;
  const header = request.headers.authorization;
  if (!header) throw errors.tokenMissing();
  const token = bearerTokenOf(header);
  if (!token) throw errors.tokenInvalid('expected "Authorization: Bearer <token>"');
  request.principal = await tokens.verify(token);
}

/**
 * Which `X-Forwarded-*` headers to believe: none by default (anyone could claim any address
 * and escape the rate limits); `true` for all, or a comma-separated list of the proxies'
 * addresses or CIDR ranges.
 */
export function trustProxySetting(value: string): FastifyServerOptions['trustProxy'] {
  const text = value.trim();
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

const HEALTH_SCHEMA = {
  tags: ['Service'],
  operationId: 'getHealth',
  summary: 'Liveness',
  description: 'Answers while the process serves HTTP, before the warehouse is ready too.',
  response: {
    200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process is up' }),
  },
};
const READY_SCHEMA = {
  tags: ['Service'],
  operationId: 'getReadiness',
  summary: 'Readiness',
  description: 'Answers 200 once the server takes API calls (a load balancer sends traffic then).',
  response: {
    200: Type.Object({ status: Type.Literal('ready') }, { description: 'Taking API calls' }),
    503: Type.Object({ status: Type.Literal('starting') }, { description: 'Still starting' }),
  },
};

// An early answer waits for at most this much of an unread request body to arrive.
const DRAIN_LIMITS = { maxBytes: 64 * 1024 * 1024, maxMs: 5_000 };

/** Builds the HTTP application: plugins, error mapping, auth and every route. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps;
  const metrics = config.metrics ? new Metrics() : undefined;
  const fastPaths = new FastPaths({
    corsOrigins: config.corsOrigins,
    exposedHeaders: EXPOSED_HEADERS,
    logger: deps.logger,
    observe: metrics && ((...answer) => metrics.observeRequest(...answer)),
  });
  const app = Fastify({
    serverFactory: ((handler: (req: IncomingMessage, res: ServerResponse) => void) =>
      createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
        if (!fastPaths.handle(req, res)) handler(req, res);
      })) as FastifyServerFactory,
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: generateRequestId,
    requestIdHeader: false,
    bodyLimit: config.maxBodyBytes,
    // A client gets this long to send its whole request; answers may take longer.
    requestTimeout: 30_000,
    clientErrorHandler: answerMalformedRequest,
    frameworkErrors: (error, _request, reply) => {
      const body = errors.badRequest(`Malformed request: ${error.message}`).toBody();
      void (reply as FastifyReply).code(400).type('application/json; charset=utf-8').send(body);
    },
    routerOptions: {
      maxParamLength: 4096,
      ignoreTrailingSlash: true,
      querystringParser: (text: string) => Object.fromEntries(new URLSearchParams(text)),
    },
    trustProxy: trustProxySetting(config.trustProxy),
  });
  app.decorateRequest('principal', null);
  // A closing server answers 503 to new requests: only the application does that.
  app.addHook('preClose', (done) => {
    fastPaths.disable();
    done();
  });
  app.addHook('preValidation', async (request) => {
    if (request.body !== null && typeof request.body === 'object') {
      if (jsonDepthExceeds(request.body, MAX_JSON_DEPTH)) {
        throw errors.malformedBody(`the body nests deeper than ${MAX_JSON_DEPTH} levels`);
      }
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    varyByAuthorization(reply);
    await drainUnreadBody(request.raw, DRAIN_LIMITS);
  });

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: config.maxBodyBytes },
    (_request, body, done) => done(null, parseFormBody(String(body))),
  );

  await app.register(cors, {
    origin: config.corsOrigins === '*' ? '*' : config.corsOrigins.split(',').map((o) => o.trim()),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: [...EXPOSED_HEADERS],
    maxAge: 86400,
    strictPreflight: false,
  });
  await app.register(compress, {
    threshold: MIN_GZIP_BYTES,
    encodings: ['gzip', 'br', 'deflate'],
    // Vector tiles compress to a third or less; mime-db does not mark their types compressible.
    customTypes: COMPRESSIBLE_TYPES,
    brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } },
  });
  installErrorHandling(app, config);
  await registerOpenApi(app, { version: PRODUCT_VERSION, issuer: deps.issuer });
  registerPostmanRoutes(app, { issuer: deps.issuer });
  // API access tokens reach only what they allow, on every `/v3` route: this scope's and the
  // saved maps' (which verify tokens in a scope of their own). Hooks here apply to both.
  const tokenContext = { tokens: deps.apiTokens, jobs: deps.jobs, store: deps.store };
  app.addHook('preHandler', async (request, reply) =>
    enforceApiTokenAccess(request, reply, tokenContext),
  );

  if (metrics) {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
    // Aggregate counts by route pattern only: nothing in it names an account or its data.
    app.get('/metrics', async (_request, reply) =>
      reply
        .type(metrics.contentType)
        .header('Cache-Control', 'no-store')
        .send(await metrics.text()),
    );
  }

  app.get('/health', { schema: HEALTH_SCHEMA }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: READY_SCHEMA }, async (_request, reply) => {
    const ready = deps.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'starting' });
  });
  const signIn = await registerOAuthRoutes(app, deps);
  if (signIn && deps.store) {
    registerInvitationPageRoutes(app, { store: deps.store, issuer: deps.issuer, signIn });
  }
  registerPreviewRoutes(app, deps);
  await registerWebUiRoutes(app, deps);

  await app.register(async (v3) => {
    v3.addHook('onRequest', async (request) => requireBearerToken(request, deps.tokens));
    registerSqlRoutes(v3, deps);
    if (deps.jobs) registerSqlJobRoutes(v3, { jobs: deps.jobs });
    registerMapsRoutes(v3, deps, { fastPaths, metrics });
    registerTilesetRoutes(v3, deps);
    registerRasterRoutes(v3, deps);
    registerBoundaryRoutes(v3, deps);
    registerWidgetRoutes(v3, deps);
    registerStatsRoutes(v3, deps);
    if (deps.connectionService) registerConnectionRoutes(v3, deps.connectionService);
    if (deps.apiTokens) registerTokenRoutes(v3, deps.apiTokens);
    if (deps.store) registerAccountRoutes(v3, deps.store);
    if (deps.store) registerInvitationRoutes(v3, deps.store, deps.issuer);
    if (deps.store) registerAccountApiRoutes(v3, deps.store, deps.issuer);
    if (deps.store && deps.apiTokens) registerAccountTokenRoutes(v3, deps.store, deps.apiTokens);
  });
  // Saved maps check tokens themselves: `/v3/maps/public/{id}` answers public maps without one.
  await registerPublicMapsRoutes(app, deps);
  return app;
}
