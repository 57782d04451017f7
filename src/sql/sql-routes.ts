import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rolePermissionGuard } from '../auth/permissions.js';
import type { AppDependencies } from '../http/app.js';
import {
  optionalString,
  readParameters,
  readQueryParameters,
  requiredString,
} from '../http/request-params.js';
import { abortOnDisconnect } from '../http/abort-on-disconnect.js';
import {
  EXPORT_CONTENT_TYPES,
  exportUserQuery,
  runUserQuery,
  type ExportFormat,
} from './query-service.js';
import { errors } from '../http/errors.js';
import { principalOf } from '../http/principal.js';
import { cacheControlFor } from '../http/cache-control.js';
import { RUN_SQL_QUERY_POST_SCHEMA, RUN_SQL_QUERY_SCHEMA } from './sql-schemas.js';

/**
 * The streaming export a request asks for, by `format=ndjson|csv` or by `Accept`; undefined
 * for CARTO's JSON answer.
 */
function exportFormatOf(
  request: FastifyRequest,
  params: Record<string, unknown>,
): ExportFormat | undefined {
  const format = optionalString(params, 'format');
  if (format === 'ndjson' || format === 'csv') return format;
  if (format !== undefined && format !== 'json') {
    throw errors.invalidParameter('format', 'one of json, ndjson, csv');
  }
  if (format === 'json') return undefined;
  const accept = request.headers.accept ?? '';
  if (/application\/(x-)?ndjson/.test(accept)) return 'ndjson';
  if (/text\/csv/.test(accept)) return 'csv';
  return undefined;
}

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

    const format = exportFormatOf(request, params);
    if (format) {
      const body = await exportUserQuery(
        driver,
        q,
        queryParameters,
        { format, timeoutMs: deps.config.queryTimeoutMs },
        abortOnDisconnect(reply),
      );
      return reply
        .header('Cache-Control', 'no-store')
        .type(EXPORT_CONTENT_TYPES[format])
        .send(body);
    }

    const answer = await runUserQuery(
      driver,
      q,
      queryParameters,
      {
        maxRows: deps.config.sqlMaxRows,
        timeoutMs: deps.config.queryTimeoutMs,
        bufferBytes: deps.config.sqlStreamThresholdMegabytes * 1024 * 1024,
      },
      abortOnDisconnect(reply),
    );
    // CARTO caches GET answers (a client may lower the lifetime) and never POST ones, which
    // cost warehouse work each time; statements that change data are never cached.
    const cacheable = request.method === 'GET' && answer.isRowQuery;
    reply.header(
      'Cache-Control',
      cacheable ? cacheControlFor(request, deps.config.sqlGetMaxAgeSeconds) : 'no-store',
    );
    reply.type('application/json; charset=utf-8');
    return reply.send(answer.kind === 'whole' ? answer.json : answer.body);
  };

  // Any statement may run here, DDL included: only roles with `execute:sql` reach it.
  const canExecute = { onRequest: rolePermissionGuard('execute:sql') };
  // No automatic HEAD route: a HEAD would run the statement and throw the rows away.
  app.get(
    '/v3/sql/:connection/query',
    { ...canExecute, schema: RUN_SQL_QUERY_SCHEMA, exposeHeadRoute: false },
    handler,
  );
  app.post(
    '/v3/sql/:connection/query',
    { ...canExecute, schema: RUN_SQL_QUERY_POST_SCHEMA },
    handler,
  );
}
