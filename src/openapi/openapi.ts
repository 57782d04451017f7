import type { FastifyInstance, FastifySchema } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import { stringify as toYaml } from 'yaml';
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
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });

  app.get(OPENAPI_JSON_PATH, async (_request, reply) => reply.send(openApiDocument(app, options)));
  app.get(OPENAPI_YAML_PATH, async (_request, reply) =>
    reply.type('application/yaml; charset=utf-8').send(toYaml(openApiDocument(app, options))),
  );
  await app.register(swaggerUi, {
    routePrefix: REFERENCE_PAGE_PATH,
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false },
    staticCSP: true,
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
