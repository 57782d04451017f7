/**
 * Maps API for pre-generated tilesets: `GET|POST /v3/maps/{connection}/tileset?name=…` (the
 * instantiation, then the TileJSON with `format=tilejson`), the tiles at
 * `/v3/maps/{connection}/tileset/{z}/{x}/{y}`, and Graticule's creation jobs at
 * `/v3/maps/{connection}/tileset/jobs`. The static `tileset` segment takes precedence over
 * the table and query routes' `{type}` parameter. Cells of spatial-index tilesets,
 * `/tileset/{i}`, reach the Maps API's `/{type}/{index}` route, which hands them to the same
 * `TilesetReader`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rolePermissionGuard } from '../auth/permissions.js';
import type { AppDependencies } from '../http/app.js';
import { cacheControlFor } from '../http/cache-control.js';
import { errors } from '../http/errors.js';
import { principalOf } from '../http/principal.js';
import { optionalString, readParameters, requiredString } from '../http/request-params.js';
import { planTileset } from './tileset-plan.js';
import { TilesetJobRunner, toTilesetJobView } from './tileset-jobs.js';
import { buildTilesetInstantiation, buildTilesetTileJson } from './tileset-metadata.js';
import { readTilesetOptions } from './tileset-options.js';
import {
  TILESET_MAX_AGE_SECONDS,
  tilesetReaderOf,
  type ConnectionRequest,
} from './tileset-reader.js';
import {
  CANCEL_TILESET_JOB_SCHEMA,
  CREATE_TILESET_JOB_SCHEMA,
  GET_TILESET_JOB_SCHEMA,
  GET_TILESET_TILE_SCHEMA,
  INSTANTIATE_TILESET_POST_SCHEMA,
  INSTANTIATE_TILESET_SCHEMA,
} from './tileset-schemas.js';

type TileRequest = FastifyRequest<{
  Params: { connection: string; z: string; x: string; y: string };
}>;
type JobRequest = FastifyRequest<{ Params: { connection: string; jobId: string } }>;

export function registerTilesetRoutes(app: FastifyInstance, deps: AppDependencies): void {
  const { config } = deps;
  const timeoutMs = config.queryTimeoutMs;
  const jobs = new TilesetJobRunner({
    statementTimeoutMs: timeoutMs,
    jobTimeoutMs: config.jobTimeoutMs,
    logger: app.log.child({ component: 'tileset-jobs' }),
  });
  app.addHook('onClose', () => jobs.close());
  const reader = tilesetReaderOf(deps);
  const baseUrlOf = (request: FastifyRequest) =>
    config.publicUrl || `${request.protocol}://${request.host}`;
  const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');

  const sourceHandler = async (request: ConnectionRequest, reply: FastifyReply) => {
    const params = readParameters(request);
    const { metadata } = await reader.open(request, params);
    const name = requiredString(params, 'name');
    const format = optionalString(params, 'format');
    const baseUrl = baseUrlOf(request);
    if (format === undefined) {
      // This answer's URL carries no version, so it keeps the short lifetime of table sources.
      reply.header('Cache-Control', cacheControlFor(request, config.tileMaxAgeSeconds));
      return buildTilesetInstantiation(baseUrl, request.params.connection, name, metadata);
    }
    if (format !== 'tilejson') throw errors.invalidParameter('format', 'expected tilejson');
    reply.header('Cache-Control', cacheControlFor(request, TILESET_MAX_AGE_SECONDS));
    return buildTilesetTileJson(baseUrl, request.params.connection, name, metadata);
  };

  const tileHandler = (request: TileRequest, reply: FastifyReply) =>
    reader.sendVectorTile(request, reply);

  const createJobHandler = async (request: ConnectionRequest, reply: FastifyReply) => {
    const params = readParameters(request);
    const options = readTilesetOptions(params, { maxFeatures: config.tileMaxFeatures });
    const connection = await reader.resolveConnection(request);
    const plan = await planTileset(connection.driver, connection.name, options, {
      timeoutMs,
      maxTiles: config.tilesetMaxTiles,
      exactStatsRows: config.mapsExactStatsRows,
    });
    const job = jobs.submit(principalOf(request).accountId, connection, plan);
    request.log.info({ jobId: job.id, connectionId: connection.id }, 'tileset job created');
    return noStore(reply).code(201).send(toTilesetJobView(job));
  };

  const readJobHandler = async (request: JobRequest, reply: FastifyReply) => {
    const { connection, jobId } = request.params;
    const job = jobs.get(principalOf(request).accountId, connection, jobId);
    return noStore(reply).send(toTilesetJobView(job));
  };

  const cancelJobHandler = async (request: JobRequest, reply: FastifyReply) => {
    const { connection, jobId } = request.params;
    const job = jobs.cancel(principalOf(request).accountId, connection, jobId);
    return noStore(reply).send(toTilesetJobView(job));
  };

  app.get('/v3/maps/:connection/tileset', { schema: INSTANTIATE_TILESET_SCHEMA }, sourceHandler);
  app.post(
    '/v3/maps/:connection/tileset',
    { schema: INSTANTIATE_TILESET_POST_SCHEMA },
    sourceHandler,
  );
  app.get(
    '/v3/maps/:connection/tileset/:z/:x/:y',
    // Gzipped by the tile answer, as on-demand tiles are.
    { compress: false, schema: GET_TILESET_TILE_SCHEMA },
    tileHandler,
  );
  // Tileset jobs write tables into the warehouse: editors and admins run them.
  const canRead = { onRequest: rolePermissionGuard('read:maps') };
  const canWrite = { onRequest: rolePermissionGuard('write:maps') };
  app.post(
    '/v3/maps/:connection/tileset/jobs',
    { ...canWrite, schema: CREATE_TILESET_JOB_SCHEMA },
    createJobHandler,
  );
  app.get(
    '/v3/maps/:connection/tileset/jobs/:jobId',
    { ...canRead, schema: GET_TILESET_JOB_SCHEMA },
    readJobHandler,
  );
  app.delete(
    '/v3/maps/:connection/tileset/jobs/:jobId',
    { ...canWrite, schema: CANCEL_TILESET_JOB_SCHEMA },
    cancelJobHandler,
  );
}
