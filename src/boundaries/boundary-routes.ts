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
import { etagOf } from '../maps/tile-cache.js';
import { parseTileCoordinates } from '../maps/tile-coordinates.js';
import type { Connection } from '../connections/connection-registry.js';
import { cacheKeyOf, schemeOfTileset, type TilesetMetadata } from '../tilesets/tileset-metadata.js';
import { tilesetReaderOf, type OpenTileset } from '../tilesets/tileset-reader.js';
import type { Execution } from '../widgets/widget-source.js';
import { inspectBoundaryData, readBoundaryRows, type BoundaryData } from './boundary-data.js';
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

/** The geometry tileset must be a vector tileset of CARTO binary tiles whose features hold a text `geoid`. */
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
  const inspections = new LRUCache<string, Promise<Inspected>>({ max: 500, ttl: maxAgeMs });
  /** The `geoid` of each feature of a stored tile, by global id; tiles never change in place. */
  const tileKeys = new LRUCache<string, Map<number, string>>({
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (keys) => 64 + keys.size * 48,
  });
  const baseUrlOf = (request: FastifyRequest) =>
    config.publicUrl || `${request.protocol}://${request.host}`;

  const executionOf = (connection: Connection, signal?: AbortSignal): Execution => ({
    driver: connection.driver,
    cacheKey: connection.cacheKey,
    timeoutMs: config.queryTimeoutMs,
    signal,
  });

  /** The request's source, its tileset and its data, the data inspected once in a while. */
  const open = async (request: ConnectionRequest | TileRequest, signal?: AbortSignal) => {
    const params = readParameters(request);
    const source = readBoundarySource(params);
    const tileset = await reader.open(request, { name: source.tilesetTableName });
    checkBoundaryTileset(source.tilesetTableName, tileset.metadata);
    const key = boundarySourceKey(source, tileset.connection.cacheKey);
    let pending = inspections.get(key);
    if (!pending) {
      const started = Math.floor(Date.now() / 1000);
      pending = inspectBoundaryData(source, executionOf(tileset.connection, signal)).then(
        (data) => ({ ...data, inspectedAt: started }),
      );
      inspections.set(key, pending);
      pending.catch(() => inspections.delete(key));
    }
    return { params, source, tileset, data: await pending };
  };

  const sourceHandler = async (request: ConnectionRequest, reply: FastifyReply) => {
    const { params, source, tileset, data } = await open(request);
    const format = optionalString(params, 'format');
    reply.header('Cache-Control', cacheControlFor(request, config.tileMaxAgeSeconds));
    const where = { baseUrl: baseUrlOf(request), connection: request.params.connection };
    if (format === undefined) return buildBoundaryInstantiation(where, source, tileset, data);
    if (format !== 'tilejson') throw errors.invalidParameter('format', 'expected tilejson');
    return buildBoundaryTileJson(where, source, tileset, data);
  };

  const keysOfTile = async (tileset: OpenTileset, z: number, x: number, y: number) => {
    const id = `${tileset.connection.cacheKey}\n${tileset.table.sqlName}\n`;
    const key = `${id}${cacheKeyOf(tileset.metadata)}\n${z}/${x}/${y}`;
    let keys = tileKeys.get(key);
    if (keys) return keys;
    const body = await tileset.table.readTile({ z, x, y });
    if (!body) return null;
    try {
      keys = featureKeysOf(body, GEOID);
    } catch {
      throw errors.invalidParameter('tilesetTableName', 'a tile of the tileset cannot be read');
    }
    tileKeys.set(key, keys);
    return keys;
  };

  const tileHandler = async (request: TileRequest, reply: FastifyReply) => {
    const { z, x, y } = parseTileCoordinates(request.params);
    const signal = abortOnDisconnect(reply);
    const { source, tileset, data } = await open(request, signal);
    const { metadata } = tileset;
    const inRange = z >= metadata.minzoom && z <= metadata.maxzoom;
    const keys = inRange ? await keysOfTile(tileset, z, x, y) : null;
    const body = keys
      ? await propertiesTile(source, data, keys, executionOf(tileset.connection, signal))
      : null;
    const buffer = body ? Buffer.from(body) : null;
    const tile = { body: buffer, contentType: PROPERTIES_TILE_CONTENT_TYPE, etag: etagOf(buffer) };
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
): Promise<Uint8Array | null> {
  const distinct = [...new Set(keys.values())];
  const rows = await readBoundaryRows(source, data, distinct, execution);
  return encodePropertiesTile(keys, rows, {
    strings: data.strings.map((f) => f.name),
    numbers: data.numbers.map((f) => f.name),
  });
}
