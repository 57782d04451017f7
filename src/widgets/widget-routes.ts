import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDependencies } from '../http/app.js';
import { abortOnDisconnect } from '../http/abort-on-disconnect.js';
import { sourceAnswerCacheControl } from '../http/cache-control.js';
import { ApiError, errors } from '../http/errors.js';
import { principalOf } from '../http/principal.js';
import { optionalJson, readParameters } from '../http/request-params.js';
import { planModel, readModelName } from './models.js';
import { PreparedSource, readWidgetSource } from './widget-source.js';
import { RUN_WIDGET_MODEL_POST_SCHEMA, RUN_WIDGET_MODEL_SCHEMA } from './widget-schemas.js';

function readModelParams(params: Record<string, unknown>): Record<string, unknown> {
  const value = optionalJson(params, 'params') ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw errors.invalidParameter('params', 'expected a JSON object');
  }
  return value as Record<string, unknown>;
}

/** SQL Model API: widget data (`GET` and `POST /v3/sql/{connection}/model/{model}`). */
export function registerWidgetRoutes(app: FastifyInstance, deps: AppDependencies): void {
  const handler = async (
    request: FastifyRequest<{ Params: { connection: string; model: string } }>,
    reply: FastifyReply,
  ) => {
    const model = readModelName(request.params.model);
    const params = readParameters(request);
    const sourceRequest = readWidgetSource(params, { type: 'type', source: 'source' });
    const modelParameters = readModelParams(params);
    const signal = abortOnDisconnect(reply);
    const { driver, cacheKey } = await deps.connections.resolve(
      principalOf(request).accountId,
      request.params.connection,
    );
    const execution = { driver, cacheKey, timeoutMs: deps.config.queryTimeoutMs, signal };
    const run = async (fresh: boolean) => {
      const source = await PreparedSource.open(sourceRequest, execution, { fresh });
      try {
        const plan = planModel(model, {
          dialect: source.dialect,
          columns: source.columns,
          from: source.from,
          where: await source.condition(),
          params: modelParameters,
          maxRows: deps.config.sqlMaxRows,
          spatialColumn: sourceRequest.spatialDataColumn,
        });
        const results = await Promise.all(plan.statements.map((s) => source.run(s)));
        return plan.answer(results.map((r) => r.rows));
      } catch (error) {
        // Columns learned a while ago may lack one added since: learn them again, once.
        const stale = error instanceof ApiError && error.code === 'column_not_found';
        if (stale && source.columnsFromCache) return run(true);
        throw error;
      }
    };
    const answer = await run(false);
    reply.header(
      'Cache-Control',
      sourceAnswerCacheControl(request, sourceRequest.type, deps.config),
    );
    return reply.type('application/json; charset=utf-8').send(answer);
  };

  app.get(
    '/v3/sql/:connection/model/:model',
    { schema: RUN_WIDGET_MODEL_SCHEMA, exposeHeadRoute: false },
    handler,
  );
  app.post('/v3/sql/:connection/model/:model', { schema: RUN_WIDGET_MODEL_POST_SCHEMA }, handler);
}
