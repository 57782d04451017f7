import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDependencies } from '../http/app.js';
import { abortOnDisconnect } from '../http/abort-on-disconnect.js';
import { errors } from '../http/errors.js';
import { principalOf } from '../http/principal.js';
import { CONNECTION_NAME } from '../http/route-params.js';
import { optionalString, readParameters } from '../http/request-params.js';
import { readSourceDefinition, sourceKey } from './source-definition.js';
import { SourceCache } from './source-cache.js';
import { TileCache, acceptsGzip, etagOfTileKey, type CachedTile } from './tile-cache.js';
import { parseTileCoordinates } from './tile-coordinates.js';
import { MAX_ZOOM, buildInstantiation, buildTileJson } from './tilejson.js';
import { buildTile } from './tiles/build-tile.js';
import {
  DATA_CONTENT_TYPES,
  DATA_FORMATS,
  readSourceData,
  type DataFormat,
} from './source-data.js';

const gzip = promisify(gzipCallback);
/** Smaller tiles are not worth compressing. */
const MIN_GZIP_BYTES = 1024;

type SourceRequest = FastifyRequest<{ Params: { connection: string; type: string } }>;
type TileRequest = FastifyRequest<{
  Params: { connection: string; type: string; z: string; x: string; y: string };
}>;

const sourceParams = {
  type: 'object',
  properties: {
    connection: CONNECTION_NAME,
    type: { type: 'string', minLength: 1, maxLength: 32 },
  },
  required: ['connection', 'type'],
} as const;

const tileParams = {
  type: 'object',
  properties: {
    ...sourceParams.properties,
    z: { type: 'string' },
    x: { type: 'string' },
    y: { type: 'string' },
  },
  required: ['connection', 'type', 'z', 'x', 'y'],
} as const;

/** Maps API: source instantiation, TileJSON and vector tiles for table and query sources. */
export function registerMapsRoutes(app: FastifyInstance, deps: AppDependencies): void {
  const { config } = deps;
  const sources = new SourceCache({
    timeoutMs: config.queryTimeoutMs,
    maxTileFeatures: config.tileMaxFeatures,
    maxZoom: MAX_ZOOM,
  });
  const tiles = new TileCache(config.tileCacheMegabytes * 1024 * 1024, config.tileMaxAgeSeconds);
  const baseUrlOf = (request: FastifyRequest) =>
    config.publicUrl || `${request.protocol}://${request.host}`;

  /** The source a request names, its warehouse, and what inspecting it found. */
  const loadSource = async (request: SourceRequest | TileRequest) => {
    const params = readParameters(request);
    const source = readSourceDefinition(request.params.connection, request.params.type, params);
    const connection = await deps.connections.resolve(
      principalOf(request).accountId,
      source.connection,
    );
    // Failing here is left to the inspection, whose error names the cause.
    await connection.driver.ready?.().catch(() => undefined);
    const inspection = await sources.inspect(connection, source);
    return { params, source, connection, driver: connection.driver, inspection };
  };

  const sourceHandler = async (request: SourceRequest, reply: FastifyReply) => {
    const { params, source, inspection, driver } = await loadSource(request);

    const format = optionalString(params, 'format');
    reply.header('Cache-Control', `private, max-age=${config.tileMaxAgeSeconds}`);
    if (format === undefined) {
      const offered = inspection.rowCount <= config.mapsSmallSourceRows ? DATA_FORMATS : [];
      return buildInstantiation(baseUrlOf(request), source, inspection, offered);
    }
    if (format === 'tilejson') return buildTileJson(baseUrlOf(request), source, inspection);
    if (!(DATA_FORMATS as readonly string[]).includes(format)) {
      throw errors.invalidParameter('format', `expected tilejson, ${DATA_FORMATS.join(', ')}`);
    }
    const body = await readSourceData(driver, source, inspection, format as DataFormat, {
      maxRows: config.mapsSmallSourceRows,
      timeoutMs: config.queryTimeoutMs,
      signal: abortOnDisconnect(reply),
    });
    return reply.type(DATA_CONTENT_TYPES[format as DataFormat]).send(body);
  };

  const tileHandler = async (request: TileRequest, reply: FastifyReply) => {
    const { z, x, y } = parseTileCoordinates(request.params);
    const { source, connection, driver, inspection } = await loadSource(request);
    const key = [
      sourceKey(source, connection.cacheKey),
      inspection.inspectedAt,
      source.tileResolution,
    ];
    const cacheKey = `${key.join('|')}|${source.formatTiles}|${z}/${x}/${y}`;

    let tile: CachedTile | undefined = tiles.get(cacheKey);
    if (!tile) {
      const built = await buildTile(
        driver,
        {
          fromSql: inspection.fromSql,
          params: inspection.params,
          geomColumn: source.spatialDataColumn,
          properties: inspection.properties,
          srid: inspection.srid,
        },
        {
          z,
          x,
          y,
          format: source.formatTiles,
          tileResolution: source.tileResolution,
          maxFeatures: config.tileMaxFeatures,
        },
        { timeoutMs: config.queryTimeoutMs, signal: abortOnDisconnect(reply) },
      );
      const body = built.body ? Buffer.from(built.body) : null;
      tile = { body, contentType: built.contentType, etag: etagOfTileKey(cacheKey, body) };
      tiles.set(cacheKey, tile);
    }

    reply.header('Cache-Control', `private, max-age=${config.tileMaxAgeSeconds}`);
    reply.header('ETag', tile.etag);
    if (request.headers['if-none-match'] === tile.etag) return reply.code(304).send();
    if (!tile.body) return reply.code(204).send();
    reply.type(tile.contentType).header('Vary', 'Accept-Encoding');
    if (tile.body.length >= MIN_GZIP_BYTES && acceptsGzip(request.headers['accept-encoding'])) {
      // Compressed once per cached tile, not once per request; zlib runs off the event loop.
      tile.gzipped ??= gzip(tile.body);
      return reply.header('Content-Encoding', 'gzip').send(await tile.gzipped);
    }
    return reply.send(tile.body);
  };

  app.get('/v3/maps/:connection/:type', { schema: { params: sourceParams } }, sourceHandler);
  app.post('/v3/maps/:connection/:type', { schema: { params: sourceParams } }, sourceHandler);
  app.get('/v3/maps/:connection/:type/:z/:x/:y', { schema: { params: tileParams } }, tileHandler);
}
