import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDependencies } from '../http/app.js';
import { abortOnDisconnect } from '../http/abort-on-disconnect.js';
import { errors } from '../http/errors.js';
import { WarehouseError } from '../warehouses/driver.js';
import { principalOf } from '../http/principal.js';
import { optionalString, readParameters } from '../http/request-params.js';
import type { FastPaths } from '../http/fast-path.js';
import type { Metrics } from '../http/metrics.js';
import { cachedTilePath } from './cached-tile-path.js';
import { dataVersion, vectorTileKey } from './tile-keys.js';
import { ParsedSources, queryStringOf } from './parsed-sources.js';
import {
  GET_CELL_TILE_SCHEMA,
  GET_VECTOR_TILE_SCHEMA,
  INSTANTIATE_SOURCE_POST_SCHEMA,
  INSTANTIATE_SOURCE_SCHEMA,
} from './maps-schemas.js';
import { SourceCache } from './source-cache.js';
import { assertTableExists } from './source-inspector.js';
import { etagOfTileKey, type CachedTile } from './tile-cache.js';
import { sendTileAnswer } from './tile-answer.js';
import { createTileCache } from './shared-tile-cache.js';
import { parseTileCoordinates } from './tile-coordinates.js';
import { MAX_ZOOM, buildInstantiation, buildTileJson } from './tilejson.js';
import { buildTile } from './tiles/build-tile.js';
import { parseTileCell } from './spatial-index/cells.js';
import { tilesetReaderOf } from '../tilesets/tileset-reader.js';
import { SPATIAL_TILE_CONTENT_TYPE, buildSpatialTile } from './spatial-index/spatial-source.js';
import {
  DATA_CONTENT_TYPES,
  DATA_FORMATS,
  readSourceData,
  type DataFormat,
} from './source-data.js';

const VECTOR_TILE_ROUTE = '/v3/maps/:connection/:type/:z/:x/:y';

type SourceRequest = FastifyRequest<{ Params: { connection: string; type: string } }>;
type TileRequest = FastifyRequest<{
  Params: { connection: string; type: string; z: string; x: string; y: string };
}>;
type CellTileRequest = FastifyRequest<{
  Params: { connection: string; type: string; index: string };
}>;

interface TileBody {
  body: Uint8Array | null;
  contentType: string;
}

/** Maps API: source instantiation, TileJSON and vector tiles for table and query sources. */
export function registerMapsRoutes(
  app: FastifyInstance,
  deps: AppDependencies,
  { fastPaths, metrics }: { fastPaths?: FastPaths; metrics?: Metrics } = {},
): void {
  const { config } = deps;
  const sources = new SourceCache({
    timeoutMs: config.queryTimeoutMs,
    maxTileFeatures: config.tileMaxFeatures,
    maxZoom: MAX_ZOOM,
    exactStatsRows: config.mapsExactStatsRows,
  });
  const tiles = createTileCache(config, deps.logger);
  app.addHook('onClose', () => tiles.close());
  const parsedSources = new ParsedSources();
  if (fastPaths && config.tileCacheMegabytes > 0) {
    const path = cachedTilePath({ ...deps, sources, tiles, parsedSources, metrics });
    fastPaths.add('cached-tile', VECTOR_TILE_ROUTE, path);
  }
  const baseUrlOf = (request: FastifyRequest) =>
    config.publicUrl || `${request.protocol}://${request.host}`;

  /** The source a request names, its warehouse, and what inspecting it found. */
  const loadSource = async (request: SourceRequest | TileRequest | CellTileRequest) => {
    const { connection: name, type } = request.params;
    const parsed =
      request.method === 'GET'
        ? parsedSources.fromQuery(name, type, queryStringOf(request.url))
        : ParsedSources.parse(name, type, readParameters(request));
    const { params, source } = parsed;
    const connection = await deps.connections.resolve(principalOf(request).accountId, name);
    // Failing here is left to the inspection, whose error names the cause.
    await connection.driver.ready?.().catch(() => undefined);
    const key = parsed.keyOn(connection.cacheKey);
    const inspection = await sources.inspect(connection, source, key);
    return { params, source, key, connection, driver: connection.driver, inspection };
  };

  type LoadedSource = Awaited<ReturnType<typeof loadSource>>;

  /**
   * Runs a tile request on the source's inspection; when the warehouse no longer knows a
   * table or column it names (the source changed since it was inspected), forgets the
   * inspection and runs once more on a fresh one, which answers 404 if the table is gone.
   */
  const onCurrentSource = async <T>(
    request: TileRequest | CellTileRequest,
    run: (loaded: LoadedSource) => Promise<T>,
  ): Promise<T> => {
    const loaded = await loadSource(request);
    try {
      return await run(loaded);
    } catch (error) {
      if (!(error instanceof WarehouseError) || error.kind !== 'undefined_object') throw error;
      sources.forget(loaded.connection, loaded.source);
      return run(await loadSource(request));
    }
  };

  const sourceHandler = async (request: SourceRequest, reply: FastifyReply) => {
    const { params, source, inspection, driver, connection } = await loadSource(request);

    const format = optionalString(params, 'format');
    reply.header('Cache-Control', `private, max-age=${config.tileMaxAgeSeconds}`);
    if (format === undefined) {
      // A table dropped since its inspection was kept answers 404 now, not in five minutes.
      if (source.type === 'table') {
        await assertTableExists(driver, source, config.queryTimeoutMs).catch((error) => {
          sources.forget(connection, source);
          throw error;
        });
      }
      const small = inspection.rowCount <= config.mapsSmallSourceRows;
      const offered = small && !inspection.spatialIndex ? DATA_FORMATS : [];
      return buildInstantiation(baseUrlOf(request), source, inspection, offered);
    }
    if (format === 'tilejson') return buildTileJson(baseUrlOf(request), source, inspection);
    if (!(DATA_FORMATS as readonly string[]).includes(format) || inspection.spatialIndex) {
      throw errors.invalidParameter('format', `expected tilejson, ${DATA_FORMATS.join(', ')}`);
    }
    const body = await readSourceData(driver, source, inspection, format as DataFormat, {
      maxRows: config.mapsSmallSourceRows,
      timeoutMs: config.queryTimeoutMs,
      signal: abortOnDisconnect(reply),
    });
    return reply.type(DATA_CONTENT_TYPES[format as DataFormat]).send(body);
  };

  /** Answers a tile from the cache, building it on a miss; 204 when empty, 304 when unchanged. */
  const sendTile = async (
    request: FastifyRequest,
    reply: FastifyReply,
    cacheKey: string,
    build: () => Promise<TileBody>,
  ) => {
    let tile: CachedTile | undefined = await tiles.get(cacheKey);
    metrics?.observeTile(tile !== undefined);
    if (!tile) {
      const built = await build();
      const body = built.body ? Buffer.from(built.body) : null;
      tile = { body, contentType: built.contentType, etag: etagOfTileKey(cacheKey, body) };
      // Never rejects: a shared cache that is down only costs the write.
      await tiles.set(cacheKey, tile);
    }

    return sendTileAnswer(request, reply, tile, config.tileMaxAgeSeconds);
  };

  const tileHandler = async (request: TileRequest, reply: FastifyReply) => {
    const { z, x, y } = parseTileCoordinates(request.params);
    return onCurrentSource(request, (loaded) => sendVectorTile(request, reply, loaded, z, x, y));
  };

  const sendVectorTile = async (
    request: TileRequest,
    reply: FastifyReply,
    { params, source, key, driver, inspection }: LoadedSource,
    z: number,
    x: number,
    y: number,
  ) => {
    if (inspection.spatialIndex) {
      throw errors.invalidParameter('tile', 'an h3 or quadbin source is tiled by cell: /{i}');
    }
    const version = dataVersion(params, inspection);
    const cacheKey = vectorTileKey(key, source, version, z, x, y);
    return sendTile(request, reply, cacheKey, () =>
      buildTile(
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
      ),
    );
  };

  /**
   * A tile of an h3 or quadbin source, named by its cell as CARTO's `{i}` templates do; a
   * spatial-index tileset's tiles (`/tileset/{i}`) are read from its table.
   */
  const cellTileHandler = async (request: CellTileRequest, reply: FastifyReply) => {
    if (request.params.type === 'tileset') {
      return tilesetReaderOf(deps).sendCellTile(request, reply);
    }
    return onCurrentSource(request, (loaded) => sendCellTile(request, reply, loaded));
  };

  const sendCellTile = async (
    request: CellTileRequest,
    reply: FastifyReply,
    { params, source, key, driver, inspection }: LoadedSource,
  ) => {
    const spatialIndex = inspection.spatialIndex;
    if (!spatialIndex) {
      throw errors.invalidParameter('tile', 'a geometry source is tiled by /{z}/{x}/{y}');
    }
    const { cell, z } = parseTileCell(spatialIndex.scheme, request.params.index);
    const cacheKey = `${key}|${dataVersion(params, inspection)}|cell|${cell.toString(16)}`;
    return sendTile(request, reply, cacheKey, async () => {
      const built = await buildSpatialTile(
        driver,
        spatialIndex,
        source,
        {
          cell,
          z,
          aggregationResLevel: source.aggregationResLevel,
          maxCells: config.tileMaxFeatures,
        },
        { timeoutMs: config.queryTimeoutMs, signal: abortOnDisconnect(reply) },
      );
      return { body: built.body, contentType: SPATIAL_TILE_CONTENT_TYPE };
    });
  };

  app.get('/v3/maps/:connection/:type', { schema: INSTANTIATE_SOURCE_SCHEMA }, sourceHandler);
  app.post('/v3/maps/:connection/:type', { schema: INSTANTIATE_SOURCE_POST_SCHEMA }, sourceHandler);
  // Tiles are gzipped once per cached tile by `sendTile`, not per answer by the plugin.
  const tileRoute = { compress: false } as const;
  app.get(VECTOR_TILE_ROUTE, { ...tileRoute, schema: GET_VECTOR_TILE_SCHEMA }, tileHandler);
  app.get(
    '/v3/maps/:connection/:type/:index',
    { ...tileRoute, schema: GET_CELL_TILE_SCHEMA },
    cellTileHandler,
  );
}
