/**
 * Maps API for boundary sources: `GET|POST /v3/maps/{connection}/boundary` (the instantiation,
 * then the TileJSON with `format=tilejson`) and the properties tiles at
 * `/v3/maps/{connection}/boundary/{z}/{x}/{y}`. The TileJSON's `tiles` are the boundary
 * tileset's own tiles; its `properties_tiles` are the data of the same tile's features, which
 * deck.gl fetches beside them and joins by `geoid`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { AppDependencies } from '../http/app.js';
import { abortOnDisconnect } from '../http/abort-on-disconnect.js';
import { cacheControlFor } from '../http/cache-control.js';
import { errors } from '../http/errors.js';
import { optionalString, readParameters } from '../http/request-params.js';
import { sendTileAnswer } from '../maps/tile-answer.js';
import { etagOf, type CachedTile } from '../maps/tile-cache.js';
import { parseTileCoordinates } from '../maps/tile-coordinates.js';
import type { Connection } from '../connections/connection-registry.js';
import { cacheKeyOf, schemeOfTileset, type TilesetMetadata } from '../tilesets/tileset-metadata.js';
import { tilesetReaderOf, type OpenTileset } from '../tilesets/tileset-reader.js';
import { WarehouseError } from '../warehouses/driver.js';
import type { Execution } from '../widgets/widget-source.js';
import {
  inspectBoundaryData,
  probeFilters,
  readBoundaryRows,
  type BoundaryData,
} from './boundary-data.js';
import {
  GET_BOUNDARY_TILE_SCHEMA,
  INSTANTIATE_BOUNDARY_POST_SCHEMA,
  INSTANTIATE_BOUNDARY_SCHEMA,
} from './boundary-schemas.js';
import { buildBoundaryInstantiation, buildBoundaryTileJson } from './boundary-tilejson.js';
import {
  GEOID,
  boundarySourceKey,
  readBoundarySource,
  unfiltered,
  type BoundarySource,
} from './boundary-source.js';
import { PROPERTIES_TILE_CONTENT_TYPE, encodePropertiesTile } from './properties-tile.js';
import { featureKeysOf } from './tile-feature-keys.js';

type ConnectionRequest = FastifyRequest<{ Params: { connection: string } }>;
type TileRequest = FastifyRequest<{
  Params: { connection: string; z: string; x: string; y: string };
}>;

/** A data source's inspection, with when it ran: its seconds are the URLs' `cache` value. */
interface Inspected extends BoundaryData {
  inspectedAt: number;
}

/**
 * The geometry tileset must be a vector tileset of CARTO binary tiles whose features hold a
 * text `geoid`.
 */
function checkBoundaryTileset(name: string, metadata: TilesetMetadata): void {
  if (schemeOfTileset(metadata) !== 'xyz') {
    throw errors.invalidParameter('tilesetTableName', `'${name}' is a spatial-index tileset`);
  }
  if (metadata.format !== 'binary') {
    throw errors.invalidParameter(
      'tilesetTableName',
      `'${name}' holds ${metadata.format} tiles; boundaries need a binary tileset`,
    );
  }
  const attribute = metadata.tilestats.layers[0]?.attributes.find((a) => a.attribute === GEOID);
  if (attribute?.type !== 'String') {
    throw errors.invalidParameter(
      'tilesetTableName',
      `the features of '${name}' need a text '${GEOID}' property to be joined with their data`,
    );
  }
}

export function registerBoundaryRoutes(app: FastifyInstance, deps: AppDependencies): void {
  const { config } = deps;
  const reader = tilesetReaderOf(deps);
  const maxAgeMs = Math.max(config.tileMaxAgeSeconds, 1) * 1000;
  /** Data inspections, by source without its filters: tilestats describe the whole data. */
  const inspections = new LRUCache<string, Promise<Inspected>>({ max: 500, ttl: maxAgeMs });
  /** The `geoid` of each feature of a stored tile by global id, by the tile's bytes. */
  const tileKeys = new LRUCache<string, Map<number, string>>({
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (keys) => 64 + keys.size * 48,
  });
  /** Properties tiles built for a data inspection, and those being built. */
  const built = new LRUCache<string, CachedTile>({
    maxSize: config.tileCacheMegabytes > 0 ? config.tileCacheMegabytes * 1024 * 1024 : 1,
    sizeCalculation: (tile) => 256 + (tile.body?.length ?? 0),
    ttl: maxAgeMs,
  });
  const building = new Map<string, Promise<CachedTile>>();
  const baseUrlOf = (request: FastifyRequest) =>
    config.publicUrl || `${request.protocol}://${request.host}`;

  const executionOf = (connection: Connection, signal?: AbortSignal): Execution => ({
    driver: connection.driver,
    cacheKey: connection.cacheKey,
    timeoutMs: config.queryTimeoutMs,
    signal,
  });

  /**
   * The data's inspection, shared by concurrent requests: it runs with no request's signal,
   * so one client going away does not fail the others'.
   */
  const inspect = (source: BoundarySource, connection: Connection, fresh = false) => {
    const key = boundarySourceKey(unfiltered(source), connection.cacheKey);
    let pending = fresh ? undefined : inspections.get(key);
    if (!pending) {
      const started = Math.floor(Date.now() / 1000);
      pending = inspectBoundaryData(source, executionOf(connection), { fresh }).then((data) => ({
        ...data,
        inspectedAt: started,
      }));
      inspections.set(key, pending);
      pending.catch(() => inspections.delete(key));
    }
    return pending;
  };

  /** The request's source, its tileset (at the version the URL names) and its data. */
  const open = async (request: ConnectionRequest | TileRequest, fresh = false) => {
    const params = readParameters(request);
    const source = readBoundarySource(params);
    const tilesetCache = optionalString(params, 'tilesetCache');
    const asked = tilesetCache === undefined ? {} : { cache: tilesetCache };
    const tileset = await reader.open(request, { name: source.tilesetTableName, ...asked });
    checkBoundaryTileset(source.tilesetTableName, tileset.metadata);
    const data = await inspect(source, tileset.connection, fresh);
    return { params, source, tileset, tilesetCache, data };
  };

  const sourceHandler = async (request: ConnectionRequest, reply: FastifyReply) => {
    const { params, source, tileset, data } = await open(request);
    const execution = executionOf(tileset.connection, abortOnDisconnect(reply));
    await probeFilters(source, execution);
    const format = optionalString(params, 'format');
    reply.header('Cache-Control', cacheControlFor(request, config.tileMaxAgeSeconds));
    const where = { baseUrl: baseUrlOf(request), connection: request.params.connection };
    if (format === undefined) return buildBoundaryInstantiation(where, source, tileset, data);
    if (format !== 'tilejson') throw errors.invalidParameter('format', 'expected tilejson');
    return buildBoundaryTileJson(where, source, tileset, data);
  };

  const keysOf = (tileset: OpenTileset, body: Buffer, bodyTag: string) => {
    const key = `${tileset.connection.cacheKey}\n${tileset.table.sqlName}\n${bodyTag}`;
    let keys = tileKeys.get(key);
    if (keys) return keys;
    try {
      keys = featureKeysOf(body, GEOID);
    } catch {
      throw errors.invalidParameter('tilesetTableName', 'a tile of the tileset cannot be read');
    }
    tileKeys.set(key, keys);
    return keys;
  };

  /**
   * The properties tile of z/x/y: empty when the client's geometry tile is of another version
   * of the tileset (its features are numbered otherwise), built once per data inspection and
   * stored tile otherwise.
   */
  const propertiesTileOf = async (
    request: TileRequest,
    z: number,
    x: number,
    y: number,
    fresh: boolean,
  ): Promise<CachedTile> => {
    const { source, tileset, tilesetCache, data } = await open(request, fresh);
    const empty = { body: null, contentType: PROPERTIES_TILE_CONTENT_TYPE, etag: etagOf(null) };
    const { metadata } = tileset;
    if (tilesetCache !== undefined && tilesetCache !== cacheKeyOf(metadata)) return empty;
    if (z < metadata.minzoom || z > metadata.maxzoom) return empty;
    const stored = await reader.readTile(tileset, { z, x, y });
    if (!stored) return empty;
    const storedTag = etagOf(stored);
    const key = [
      boundarySourceKey(source, tileset.connection.cacheKey),
      data.inspectedAt,
      storedTag,
    ].join('|');
    const done = built.get(key);
    if (done) return done;
    let pending = building.get(key);
    if (!pending) {
      const keys = keysOf(tileset, stored, storedTag);
      pending = propertiesTile(source, data, keys, executionOf(tileset.connection), fresh)
        .then((encoded) => {
          const body = encoded ? Buffer.from(encoded) : null;
          const tile = { body, contentType: PROPERTIES_TILE_CONTENT_TYPE, etag: etagOf(body) };
          built.set(key, tile);
          return tile;
        })
        .finally(() => building.delete(key));
      building.set(key, pending);
    }
    return pending;
  };

  const tileHandler = async (request: TileRequest, reply: FastifyReply) => {
    const { z, x, y } = parseTileCoordinates(request.params);
    let tile: CachedTile;
    try {
      tile = await propertiesTileOf(request, z, x, y, false);
    } catch (error) {
      // The data lost a table or column since its inspection: inspect it again (a missing
      // table is then a 404) and build once more.
      if (!(error instanceof WarehouseError) || error.kind !== 'undefined_object') throw error;
      tile = await propertiesTileOf(request, z, x, y, true);
    }
    return sendTileAnswer(request, reply, tile, config.tileMaxAgeSeconds);
  };

  app.get('/v3/maps/:connection/boundary', { schema: INSTANTIATE_BOUNDARY_SCHEMA }, sourceHandler);
  app.post(
    '/v3/maps/:connection/boundary',
    { schema: INSTANTIATE_BOUNDARY_POST_SCHEMA },
    sourceHandler,
  );
  app.get(
    '/v3/maps/:connection/boundary/:z/:x/:y',
    // Gzipped by the tile answer, as other tiles are.
    { compress: false, schema: GET_BOUNDARY_TILE_SCHEMA },
    tileHandler,
  );
}

async function propertiesTile(
  source: BoundarySource,
  data: BoundaryData,
  keys: ReadonlyMap<number, string>,
  execution: Execution,
  fresh: boolean,
): Promise<Uint8Array | null> {
  const distinct = [...new Set(keys.values())];
  const rows = await readBoundaryRows(source, data, distinct, execution, { fresh });
  return encodePropertiesTile(keys, rows, {
    strings: data.strings.map((f) => f.name),
    numbers: data.numbers.map((f) => f.name),
  });
}
