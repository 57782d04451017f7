/**
 * Maps API for raster sources: `GET|POST /v3/maps/{connection}/raster?name=…` (the
 * instantiation, then the TileJSON with `format=tilejson`) and the blocks at
 * `/v3/maps/{connection}/raster/{i}`. The static `raster` segment takes precedence over the
 * table and query routes' `{type}` parameter.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDependencies } from '../http/app.js';
import { cacheControlFor } from '../http/cache-control.js';
import { errors } from '../http/errors.js';
import { optionalString, readParameters, requiredString } from '../http/request-params.js';
import { TILESET_MAX_AGE_SECONDS } from '../tilesets/tileset-reader.js';
import { checkRasterFilters, rasterReaderOf, type BlockRequest } from './raster-reader.js';
import {
  GET_RASTER_BLOCK_SCHEMA,
  INSTANTIATE_RASTER_POST_SCHEMA,
  INSTANTIATE_RASTER_SCHEMA,
} from './raster-schemas.js';
import { buildRasterInstantiation, buildRasterTileJson } from './raster-tilejson.js';

type ConnectionRequest = FastifyRequest<{ Params: { connection: string } }>;

export function registerRasterRoutes(app: FastifyInstance, deps: AppDependencies): void {
  const { config } = deps;
  const reader = rasterReaderOf(deps);
  const baseUrlOf = (request: FastifyRequest) =>
    config.publicUrl || `${request.protocol}://${request.host}`;

  const sourceHandler = async (request: ConnectionRequest, reply: FastifyReply) => {
    const params = readParameters(request);
    const name = requiredString(params, 'name');
    const format = optionalString(params, 'format');
    if (format !== undefined && format !== 'tilejson') {
      throw errors.invalidParameter('format', 'expected tilejson');
    }
    checkRasterFilters(params);
    const { metadata } = await reader.open(request, params);
    const baseUrl = baseUrlOf(request);
    const connection = request.params.connection;
    if (format === undefined) {
      // This answer's URL carries no version, so it keeps the short lifetime of table sources.
      reply.header('Cache-Control', cacheControlFor(request, config.tileMaxAgeSeconds));
      return buildRasterInstantiation(baseUrl, connection, name, metadata);
    }
    reply.header('Cache-Control', cacheControlFor(request, TILESET_MAX_AGE_SECONDS));
    return buildRasterTileJson(baseUrl, connection, name, metadata);
  };

  const blockHandler = (request: BlockRequest, reply: FastifyReply) =>
    reader.sendBlock(request, reply, readParameters(request));

  app.get('/v3/maps/:connection/raster', { schema: INSTANTIATE_RASTER_SCHEMA }, sourceHandler);
  app.post(
    '/v3/maps/:connection/raster',
    { schema: INSTANTIATE_RASTER_POST_SCHEMA },
    sourceHandler,
  );
  app.get(
    '/v3/maps/:connection/raster/:index',
    // Gzipped by the tile answer, as every tile is.
    { compress: false, schema: GET_RASTER_BLOCK_SCHEMA },
    blockHandler,
  );
}
