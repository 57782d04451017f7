import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDependencies } from '../http/app.js';
import { abortOnDisconnect } from '../http/abort-on-disconnect.js';
import { sourceAnswerCacheControl } from '../http/cache-control.js';
import { errors } from '../http/errors.js';
import { principalOf } from '../http/principal.js';
import { readParameters } from '../http/request-params.js';
import {
  PreparedSource,
  readWidgetSource,
  type WidgetSourceRequest,
} from '../widgets/widget-source.js';
import { cellExtent, columnStats, sourceStats } from './stats-service.js';
import { parseTableName } from '../maps/table-name.js';
import { RasterTable } from '../rasters/raster-table.js';
import type { WarehouseDriver } from '../warehouses/driver.js';
import { bandAttributes } from '../rasters/raster-tilejson.js';
import {
  GET_STATS_POST_SCHEMA,
  GET_STATS_SCHEMA,
  GET_TABLE_COLUMN_STATS_POST_SCHEMA,
  GET_TABLE_COLUMN_STATS_SCHEMA,
} from './stats-schemas.js';

/** What a stats call reads: a source, and one column of it or all of them. */
interface StatsCall {
  source: WidgetSourceRequest;
  /** The column asked about; undefined for every column. */
  column?: string;
  /** The column is the cells of an h3 or quadbin source: its extent is the answer. */
  cellExtent?: boolean;
}

function hasQuery(params: Record<string, unknown>): boolean {
  return params.q !== undefined && params.q !== null;
}

/** `/{connection}/{table}/{column}`: one column of a table. */
function readTableColumnCall(
  params: Record<string, unknown>,
  table: string,
  column: string,
): StatsCall {
  if (hasQuery(params)) {
    throw errors.invalidParameter(
      'q',
      'a query source is named as /v3/stats/{connection}/{column}',
    );
  }
  return {
    source: readWidgetSource(
      { ...params, type: 'table', source: table },
      { type: 'type', source: 'source' },
    ),
    column,
  };
}

/** `/{connection}/{name}`: a column of the query `q`, or with no `q` every column of a table. */
function readNameCall(params: Record<string, unknown>, name: string): StatsCall {
  if (hasQuery(params)) {
    return {
      source: readWidgetSource({ ...params, type: 'query' }, { type: 'type', source: 'q' }),
      column: name,
    };
  }
  return {
    source: readWidgetSource(
      { ...params, type: 'table', source: name },
      { type: 'type', source: 'source' },
    ),
  };
}

/** Whether a call asks for the cell column of an h3 or quadbin source (`getExtent()`). */
function asksCellExtent(call: StatsCall, params: Record<string, unknown>): boolean {
  const { source, column } = call;
  if (source.spatialDataType === 'geo' || column === undefined) return false;
  return params.spatialDataColumn === undefined || source.spatialDataColumn === column;
}

/**
 * A raster band's statistics, from the raster's metadata, when `column` is a band of a raster
 * table (`fetchMap` asks them of a raster layer's band); undefined for anything else.
 */
async function rasterBandStats(
  source: PreparedSource,
  column: string,
  driver: WarehouseDriver,
  timeoutMs: number,
) {
  const { request, columns } = source;
  if (request.type !== 'table' || !columns.has(column) || !columns.has('block')) return undefined;
  if (columns.field(column).nativeType !== 'bytea') return undefined;
  const table = new RasterTable(driver, request.source, parseTableName(request.source), timeoutMs);
  const metadata = await table.readMetadata().catch(() => undefined);
  return metadata && bandAttributes(metadata).find((band) => band.attribute === column);
}

/**
 * Stats API: `GET` and `POST /v3/stats/{connection}/{table}/{column}` (a table's column) and
 * `/v3/stats/{connection}/{name}` (a column of the query `q`, or every column of a table).
 */
export function registerStatsRoutes(app: FastifyInstance, deps: AppDependencies): void {
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    connection: string,
    call: StatsCall,
  ) => {
    const { driver } = await deps.connections.resolve(principalOf(request).accountId, connection);
    const source = await PreparedSource.open(call.source, {
      driver,
      timeoutMs: deps.config.queryTimeoutMs,
      signal: abortOnDisconnect(reply),
    });
    const stats =
      call.column === undefined
        ? await sourceStats(source)
        : call.cellExtent
          ? await cellExtent(source, call.column)
          : ((await rasterBandStats(source, call.column, driver, deps.config.queryTimeoutMs)) ??
            (await columnStats(source, call.column)));
    reply.header('Cache-Control', sourceAnswerCacheControl(request, call.source.type, deps.config));
    return reply.type('application/json; charset=utf-8').send(stats);
  };

  const columnHandler = async (
    request: FastifyRequest<{ Params: { connection: string; table: string; column: string } }>,
    reply: FastifyReply,
  ) => {
    const params = readParameters(request);
    const { table, column } = request.params;
    const call = readTableColumnCall(params, table, column);
    return answer(request, reply, request.params.connection, {
      ...call,
      cellExtent: asksCellExtent(call, params),
    });
  };

  const nameHandler = async (
    request: FastifyRequest<{ Params: { connection: string; name: string } }>,
    reply: FastifyReply,
  ) => {
    const params = readParameters(request);
    const call = readNameCall(params, request.params.name);
    return answer(request, reply, request.params.connection, {
      ...call,
      cellExtent: asksCellExtent(call, params),
    });
  };

  const columnRoute = '/v3/stats/:connection/:table/:column';
  const nameRoute = '/v3/stats/:connection/:name';
  const noHead = { exposeHeadRoute: false };
  app.get(columnRoute, { schema: GET_TABLE_COLUMN_STATS_SCHEMA, ...noHead }, columnHandler);
  app.post(columnRoute, { schema: GET_TABLE_COLUMN_STATS_POST_SCHEMA }, columnHandler);
  app.get(nameRoute, { schema: GET_STATS_SCHEMA, ...noHead }, nameHandler);
  app.post(nameRoute, { schema: GET_STATS_POST_SCHEMA }, nameHandler);
}
