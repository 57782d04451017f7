/**
 * What a `/v3` request asks of an API access token: which API family it belongs to, which
 * connection and source it reads, and the SQL expressions it carries, read from the same
 * parameters the routes read. Routes not listed here belong to the control plane.
 */
import type { FastifyRequest } from 'fastify';
import { errors } from '../http/errors.js';
import { optionalJson, optionalString, readParameters } from '../http/request-params.js';
import type { ApiName } from './api-token-record.js';
import { requestedQuery, requestedTable, type RequestedSource } from './grant-source.js';

/** A SQL expression a request carries, and the parameter that carried it. */
export interface CarriedExpression {
  text: string;
  parameter: string;
}

export type RequestedAccess =
  /** A route API access tokens may not use. */
  | { kind: 'control_plane' }
  /** A source of a connection, read through one of `apis`. */
  | {
      kind: 'source';
      apis: ApiName[];
      connection: string;
      source: RequestedSource;
      /** Further sources the request reads, each of which a grant must cover too. */
      alsoReads?: RequestedSource[];
      expressions: CarriedExpression[];
    }
  /** One SQL job (read or cancel). */
  | { kind: 'job'; connection: string; jobId: string }
  /** The list of SQL jobs. */
  | { kind: 'job_list' }
  /** `/v3/maps/public/{id}`: a saved map, answered as to a caller without a token. */
  | { kind: 'public_map' };

const MAPS_AND_SQL: ApiName[] = ['maps', 'sql'];

type Params = Record<string, string | undefined>;

function requiredText(params: Record<string, unknown>, name: string): string {
  const value = optionalString(params, name);
  if (value === undefined || value.trim() === '') throw errors.missingParameter(name);
  return value;
}

/** A `table` or `query` source named by the parameters `name` or `q`. */
function mapsSource(type: string | undefined, params: Record<string, unknown>): RequestedSource {
  if (type === 'table') return requestedTable(requiredText(params, 'name'), 'name');
  if (type === 'query') return requestedQuery(requiredText(params, 'q'));
  // A spatial-index tileset's cells (`/tileset/{i}`): the tileset is a table.
  if (type === 'tileset') return requestedTable(requiredText(params, 'name'), 'name');
  throw errors.forbidden(`API access tokens may not use '${type}' sources`);
}

function aggregationExpression(params: Record<string, unknown>): CarriedExpression[] {
  const text = optionalString(params, 'aggregationExp');
  return text === undefined ? [] : [{ text, parameter: 'aggregationExp' }];
}

/** The expressions of a widget model's `params`: `operationExp` and string `aggregations`. */
function modelExpressions(params: Record<string, unknown>): CarriedExpression[] {
  const model = optionalJson(params, 'params');
  if (model === null || typeof model !== 'object' || Array.isArray(model)) return [];
  const carried: CarriedExpression[] = [];
  for (const name of ['operationExp', 'aggregations']) {
    const value = (model as Record<string, unknown>)[name];
    if (typeof value === 'string') carried.push({ text: value, parameter: `params.${name}` });
  }
  return carried;
}

/** Classifies a request by its route pattern; reads its parameters where the source lives. */
export function requestedAccess(request: FastifyRequest): RequestedAccess {
  const route = request.routeOptions.url ?? '';
  const path = request.params as Params;
  const connection = path.connection ?? '';
  const source = (apis: ApiName[], what: RequestedSource, expressions: CarriedExpression[]) =>
    ({ kind: 'source', apis, connection, source: what, expressions }) as const;

  switch (route) {
    case '/v3/maps/public/:id':
      return { kind: 'public_map' };
    case '/v3/sql/:connection/query':
      return source(['sql'], requestedQuery(requiredText(readParameters(request), 'q')), []);
    case '/v3/sql/:connection/job': {
      const params = readParameters(request);
      const query = optionalString(params, 'query') ?? optionalString(params, 'q');
      if (query === undefined || query.trim() === '') throw errors.missingParameter('query');
      return source(['sql'], requestedQuery(query), []);
    }
    case '/v3/sql/:connection/job/:jobId':
      return { kind: 'job', connection, jobId: path.jobId ?? '' };
    case '/v3/sql/jobs':
      return { kind: 'job_list' };
    case '/v3/sql/:connection/model/:model': {
      const params = readParameters(request);
      const type = requiredText(params, 'type');
      if (type !== 'table' && type !== 'query') {
        throw errors.invalidParameter('type', "expected 'table' or 'query'");
      }
      const text = requiredText(params, 'source');
      const what = type === 'table' ? requestedTable(text, 'source') : requestedQuery(text);
      return source(MAPS_AND_SQL, what, modelExpressions(params));
    }
    case '/v3/stats/:connection/:table/:column':
      return source(MAPS_AND_SQL, requestedTable(path.table ?? '', 'table'), []);
    case '/v3/stats/:connection/:name': {
      const params = readParameters(request);
      // As the stats route reads it: a `q` parameter, even an empty one, makes a query source.
      const hasQuery = params.q !== undefined && params.q !== null;
      const what = hasQuery
        ? requestedQuery(requiredText(params, 'q'))
        : requestedTable(path.name ?? '', 'name');
      return source(MAPS_AND_SQL, what, []);
    }
    case '/v3/maps/:connection/:type':
    case '/v3/maps/:connection/:type/:z/:x/:y':
    case '/v3/maps/:connection/:type/:index': {
      const params = readParameters(request);
      return source(['maps'], mapsSource(path.type, params), aggregationExpression(params));
    }
    case '/v3/maps/:connection/tileset':
    case '/v3/maps/:connection/tileset/:z/:x/:y':
    case '/v3/maps/:connection/raster':
    case '/v3/maps/:connection/raster/:index': {
      const name = requiredText(readParameters(request), 'name');
      return source(['maps'], requestedTable(name, 'name'), []);
    }
    case '/v3/maps/:connection/boundary':
    case '/v3/maps/:connection/boundary/:z/:x/:y': {
      // Both halves are read: the grants must cover the boundary tileset and the data.
      const params = readParameters(request);
      const tileset = requestedTable(requiredText(params, 'tilesetTableName'), 'tilesetTableName');
      const query = optionalString(params, 'propertiesSqlQuery');
      const data =
        query !== undefined && query.trim() !== ''
          ? requestedQuery(query)
          : requestedTable(requiredText(params, 'propertiesTableName'), 'propertiesTableName');
      return { ...source(['maps'], data, []), alsoReads: [tileset] };
    }
    default:
      return { kind: 'control_plane' };
  }
}
