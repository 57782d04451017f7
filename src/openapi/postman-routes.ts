import type { FastifyInstance, FastifyReply } from 'fastify';
import { openApiDocument } from './openapi.js';
import { generatePostman, type OpenApiDocument } from './postman.js';

export const POSTMAN_COLLECTION_PATH = '/postman/collection.json';
export const POSTMAN_ENVIRONMENT_PATH = '/postman/environment.json';
const COLLECTION_FILE = 'Graticule.postman_collection.json';
const ENVIRONMENT_FILE = 'Graticule.postman_environment.json';

function sendAttachment(reply: FastifyReply, fileName: string, body: unknown): FastifyReply {
  return reply
    .type('application/json; charset=utf-8')
    .header('Content-Disposition', `attachment; filename="${fileName}"`)
    .send(body);
}

/**
 * Serves the Postman collection and environment made from this server's OpenAPI document at
 * request time; the environment's `apiBaseURL` is this server's public address. The routes
 * carry no tags, so the document (and the collection) leaves them out.
 */
export function registerPostmanRoutes(
  app: FastifyInstance,
  options: { issuer: () => string },
): void {
  const generate = () => {
    const document = openApiDocument(app, options) as OpenApiDocument;
    return generatePostman(document, { apiBaseUrl: options.issuer() });
  };
  app.get(POSTMAN_COLLECTION_PATH, async (_request, reply) =>
    sendAttachment(reply, COLLECTION_FILE, generate().collection),
  );
  app.get(POSTMAN_ENVIRONMENT_PATH, async (_request, reply) =>
    sendAttachment(reply, ENVIRONMENT_FILE, generate().environment),
  );
}
