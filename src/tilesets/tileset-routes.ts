/**
 * Maps API for pre-generated tilesets: `GET|POST /v3/maps/{connection}/tileset?name=…` (the
 * instantiation, then the TileJSON with `format=tilejson`), the tiles at
 * `/v3/maps/{connection}/tileset/{z}/{x}/{y}`, and Graticule's creation jobs at
 * `/v3/maps/{connection}/tileset/jobs`. The static `tileset` segment takes precedence over
 * the table and query routes' `{type}` parameter.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { rolePermissionGuard } from '../auth/permissions.js';
import type { Connection } from '../connections/connection-registry.js';
import type { AppDependencies } from '../http/app.js';
import { cacheControlFor, matchesIfNoneMatch } from '../http/cache-control.js';
import { errors } from '../http/errors.js';
import { principalOf } from '../http/principal.js';
import { optionalString, readParameters, requiredString } from '../http/request-params.js';
import { parseTableName } from '../maps/table-name.js';
import { etagOf } from '../maps/tile-cache.js';
import { parseTileCoordinates } from '../maps/tile-coordinates.js';
import { TILE_CONTENT_TYPES } from '../maps/tiles/build-tile.js';
import { planTileset } from './tileset-plan.js';
import { TilesetJobRunner, toTilesetJobView } from './tileset-jobs.js';
import {
  buildTilesetInstantiation,
  buildTilesetTileJson,
  cacheKeyOf,
  type TilesetMetadata,
} from './tileset-metadata.js';
import { readTilesetOptions } from './tileset-options.js';
import { TilesetTable } from './tileset-table.js';
import {
  CANCEL_TILESET_JOB_SCHEMA,
  CREATE_TILESET_JOB_SCHEMA,
  GET_TILESET_JOB_SCHEMA,
  GET_TILESET_TILE_SCHEMA,
  INSTANTIATE_TILESET_POST_SCHEMA,
  INSTANTIATE_TILESET_SCHEMA,
} from './tileset-schemas.js';

/** CARTO caches tileset answers for a year; their URLs change whenever the tileset does. */
const TILESET_MAX_AGE_SECONDS = 31_536_000;
/** How long a tileset's metadata is trusted before it is read again. */
const METADATA_TTL_MS = 10_000;

type ConnectionRequest = FastifyRequest<{ Params: { connection: string } }>;
type TileRequest = FastifyRequest<{
  Params: { connection: string; z: string; x: string; y: string };
}>;
type JobRequest = FastifyRequest<{ Params: { connection: string; jobId: string } }>;

interface OpenTileset {
  connection: Connection;
  table: TilesetTable;
  metadata: TilesetMetadata;
}

export function registerTilesetRoutes(app: FastifyInstance, deps: AppDependencies): void {
  const { config } = deps;
  const timeoutMs = config.queryTimeoutMs;
  const jobs = new TilesetJobRunner({
    statementTimeoutMs: timeoutMs,
    jobTimeoutMs: config.jobTimeoutMs,
    logger: app.log.child({ component: 'tileset-jobs' }),
  });
  app.addHook('onClose', () => jobs.close());
  const metadataCache = new LRUCache<string, Promise<TilesetMetadata>>({
    max: 1000,
    ttl: METADATA_TTL_MS,
  });
  const baseUrlOf = (request: FastifyRequest) =>
    config.publicUrl || `${request.protocol}://${request.host}`;
  const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');

  const resolveConnection = async (request: ConnectionRequest): Promise<Connection> => {
    const accountId = principalOf(request).accountId;
    const connection = await deps.connections.resolve(accountId, request.params.connection);
    // Failing here is left to the first statement, whose error names the cause.
    await connection.driver.ready?.().catch(() => undefined);
    return connection;
  };

  /**
   * The tileset `name` with its metadata, from a short-lived cache; read again when the
   * caller's `cache` value says the tileset was made again since.
   */
  const openTileset = async (
    request: ConnectionRequest,
    params: Record<string, unknown>,
  ): Promise<OpenTileset> => {
    const name = requiredString(params, 'name');
    const connection = await resolveConnection(request);
    const table = new TilesetTable(connection.driver, name, parseTableName(name), timeoutMs);
    const key = `${connection.cacheKey}\n${table.sqlName}`;
    let pending = metadataCache.get(key);
    const expected = optionalString(params, 'cache');
    if (pending && expected !== undefined) {
      const cached = await pending.catch(() => undefined);
      if (!cached || cacheKeyOf(cached) !== expected) pending = undefined;
    }
    if (!pending) {
      pending = table.readMetadata();
      metadataCache.set(key, pending);
      pending.catch(() => metadataCache.delete(key));
    }
    return { connection, table, metadata: await pending };
  };

  const sourceHandler = async (request: ConnectionRequest, reply: FastifyReply) => {
    const params = readParameters(request);
    const { metadata } = await openTileset(request, params);
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

  const tileHandler = async (request: TileRequest, reply: FastifyReply) => {
    const { z, x, y } = parseTileCoordinates(request.params);
    const params = readParameters(request);
    const { table, metadata } = await openTileset(request, params);
    const formatTiles = optionalString(params, 'formatTiles');
    if (formatTiles !== undefined && formatTiles !== metadata.format) {
      throw errors.invalidParameter('formatTiles', `this tileset holds ${metadata.format} tiles`);
    }

    const isInRange = z >= metadata.minzoom && z <= metadata.maxzoom;
    const body = isInRange ? await table.readTile({ z, x, y }) : null;
    const etag = etagOf(body);
    reply.header('Cache-Control', cacheControlFor(request, TILESET_MAX_AGE_SECONDS));
    reply.header('ETag', etag);
    if (matchesIfNoneMatch(request, etag)) return reply.code(304).send();
    if (!body) return reply.code(204).send();
    return reply.type(TILE_CONTENT_TYPES[metadata.format]).send(body);
  };

  const createJobHandler = async (request: ConnectionRequest, reply: FastifyReply) => {
    const params = readParameters(request);
    const options = readTilesetOptions(params, { maxFeatures: config.tileMaxFeatures });
    const connection = await resolveConnection(request);
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
    { schema: GET_TILESET_TILE_SCHEMA },
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
