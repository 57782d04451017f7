import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDependencies } from '../http/app.js';
import { readParameters, readQueryParameters, requiredString } from '../http/request-params.js';
import { abortOnDisconnect } from '../http/abort-on-disconnect.js';
import { runUserQuery } from './query-service.js';
import { principalOf } from '../http/principal.js';

const connectionParams = {
  type: 'object',
  properties: { connection: { type: 'string', minLength: 1, maxLength: 256 } },
  required: ['connection'],
} as const;

/** SQL API: run SQL on a connection (`GET` and `POST /v3/sql/{connection}/query`). */
export function registerSqlRoutes(app: FastifyInstance, deps: AppDependencies): void {
  const handler = async (
    request: FastifyRequest<{ Params: { connection: string } }>,
    reply: FastifyReply,
  ) => {
    const params = readParameters(request);
    const q = requiredString(params, 'q');
    const queryParameters = readQueryParameters(params);
    const { driver } = await deps.connections.resolve(
      principalOf(request).accountId,
      request.params.connection,
    );
    request.log.debug({ connection: request.params.connection, sql: q }, 'sql query');

    return runUserQuery(
      driver,
      q,
      queryParameters,
      { maxRows: deps.config.sqlMaxRows, timeoutMs: deps.config.queryTimeoutMs },
      abortOnDisconnect(reply),
    );
  };

  // No automatic HEAD route: a HEAD would run the statement and throw the rows away.
  app.get(
    '/v3/sql/:connection/query',
    { schema: { params: connectionParams }, exposeHeadRoute: false },
    handler,
  );
  app.post('/v3/sql/:connection/query', { schema: { params: connectionParams } }, handler);
}
