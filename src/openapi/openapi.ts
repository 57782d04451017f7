import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import { stringify as toYaml } from 'yaml';
import { matchesIfNoneMatch } from '../http/cache-control.js';
import { publishExamples } from './postman-examples.js';
import { API_TAGS, ErrorBody } from './schemas.js';

export const OPENAPI_JSON_PATH = '/openapi.json';
export const OPENAPI_YAML_PATH = '/openapi.yaml';
export const REFERENCE_PAGE_PATH = '/docs/api';

/** Fastify's own validator settings, kept for the parts of a request that are validated. */
const paramsAjv = new Ajv({
  coerceTypes: 'array',
  useDefaults: true,
  removeAdditional: true,
  allErrors: false,
  strict: false,
});

/** The error statuses every documented operation may answer, beyond its own. */
const COMMON_ERRORS: Record<string, string> = {
  '4XX': 'The request was refused: bad input, no or a bad token, no access, not found',
  '5XX': 'The server or the warehouse failed',
};

function withCommonErrors(schema: FastifySchema, url: string): FastifySchema {
  const response = { ...((schema.response as Record<string, unknown> | undefined) ?? {}) };
  for (const [status, description] of Object.entries(COMMON_ERRORS)) {
    response[status] ??= { description, $ref: 'Error#' };
  }
  const secured = url.startsWith('/v3/') && !url.startsWith('/v3/maps/public/');
  return {
    ...schema,
    response,
    ...(secured ? { security: [{ bearerAuth: [] }, { oauth2: [] }] } : {}),
  } as FastifySchema;
}

/**
 * Makes route schemas the API's documentation. Path parameters are validated by them as
 * Fastify would; query strings and bodies are read by each domain's own readers (which give
 * CARTO's error messages), so their schemas document and do not validate. Responses are
 * serialized as plain JSON: a response schema never drops or coerces a field.
 *
 * Register before any route, so every route is seen.
 */
export async function registerOpenApi(
  app: FastifyInstance,
  options: { version: string; issuer: () => string },
): Promise<void> {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart !== 'params') return () => true;
    return paramsAjv.compile(schema);
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addSchema(ErrorBody);

  await app.register(swagger, {
    hideUntagged: true,
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Graticule API',
        version: options.version,
        description:
          'The CARTO 3 Public API as Graticule serves it: OAuth 2 tokens, SQL, Maps, widgets, ' +
          'stats, connections, API access tokens and applications.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      tags: API_TAGS.map((tag) => ({ ...tag })),
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'An OAuth access token or an API access token',
          },
          oauth2: {
            type: 'oauth2',
            flows: {
              clientCredentials: {
                tokenUrl: '/oauth/token',
                scopes: {},
              },
            },
          },
        },
      },
    },
    transform: ({ schema, url }) => ({
      schema: withCommonErrors(schema ?? {}, url),
      url,
    }),
    // Readers see real example values; the Postman forms stay beside them (see the module).
    transformObject: (documentObject) => {
      const document = structuredClone(
        (documentObject as { openapiObject: Record<string, unknown> }).openapiObject,
      );
      publishExamples(document);
      return document;
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });

  // The routes do not change once the server runs: each form is built once, on first ask
  // (the YAML takes a quarter of a second), and answered with an ETag.
  const rendered = new Map<string, { body: string; etag: string }>();
  const render = (format: 'json' | 'yaml') => {
    let cached = rendered.get(format);
    if (!cached) {
      const document = openApiDocument(app, options);
      const body = format === 'json' ? JSON.stringify(document) : toYaml(document);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      cached = { body, etag };
      rendered.set(format, cached);
    }
    return cached;
  };
  const serve = (format: 'json' | 'yaml', type: string) => {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const { body, etag } = render(format);
      reply.header('ETag', etag).header('Cache-Control', 'no-cache');
      if (matchesIfNoneMatch(request, etag)) return reply.code(304).send();
      return reply.type(type).send(body);
    };
  };
  app.get(OPENAPI_JSON_PATH, serve('json', 'application/json; charset=utf-8'));
  app.get(OPENAPI_YAML_PATH, serve('yaml', 'application/yaml; charset=utf-8'));
  await app.register(swaggerUi, {
    routePrefix: REFERENCE_PAGE_PATH,
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false },
    staticCSP: true,
    // The page styles its elements inline, and plain-HTTP deployments must stay plain HTTP.
    transformStaticCSP: (header) =>
      header
        .replace("style-src 'self' https:", "style-src 'self' 'unsafe-inline'")
        .replace(/\s*upgrade-insecure-requests;/, ''),
  });
}

/** The OpenAPI document, with this server's public address as its server. */
export function openApiDocument(
  app: FastifyInstance,
  options: { issuer: () => string },
): Record<string, unknown> {
  const document = app.swagger() as unknown as Record<string, unknown>;
  return { ...document, servers: [{ url: options.issuer().replace(/\/+$/, '') }] };
}
