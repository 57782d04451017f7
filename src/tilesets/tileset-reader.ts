/**
 * Reads tilesets for the Maps API: a tileset's metadata, trusted for a few seconds, and its
 * tiles, answered by primary key with the same caching headers whatever their scheme. One
 * reader serves a server's tileset routes and the cell tiles (`/tileset/{i}`), which arrive
 * through the Maps API's `/{type}/{index}` route.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Connection } from '../connections/connection-registry.js';
import type { AppDependencies } from '../http/app.js';
import { errors } from '../http/errors.js';
import { WarehouseError } from '../warehouses/driver.js';
import { principalOf } from '../http/principal.js';
import { optionalString, readParameters, requiredString } from '../http/request-params.js';
import { parseTileCell } from '../maps/spatial-index/cells.js';
import { SPATIAL_TILE_CONTENT_TYPE } from '../maps/spatial-index/spatial-source.js';
import { parseTableName } from '../maps/table-name.js';
import { sendTileAnswer } from '../maps/tile-answer.js';
import { etagOf } from '../maps/tile-cache.js';
import { parseTileCoordinates } from '../maps/tile-coordinates.js';
import { TILE_CONTENT_TYPES } from '../maps/tiles/build-tile.js';
import { cellTileAddress } from './spatial-tileset.js';
import { cacheKeyOf, schemeOfTileset, type TilesetMetadata } from './tileset-metadata.js';
import { TilesetTable } from './tileset-table.js';
import type { TileAddress } from './tile-ranges.js';

/** CARTO caches tileset answers for a year; their URLs change whenever the tileset does. */
export const TILESET_MAX_AGE_SECONDS = 31_536_000;
/** How long a tileset's metadata is trusted before it is read again. */
const METADATA_TTL_MS = 10_000;

export type ConnectionRequest = FastifyRequest<{ Params: { connection: string } }>;
type TileRequest = FastifyRequest<{
  Params: { connection: string; z: string; x: string; y: string };
}>;
type CellTileRequest = FastifyRequest<{ Params: { connection: string; index: string } }>;

export interface OpenTileset {
  connection: Connection;
  table: TilesetTable;
  metadata: TilesetMetadata;
}

export class TilesetReader {
  private readonly metadataCache = new LRUCache<string, Promise<TilesetMetadata>>({
    max: 1000,
    ttl: METADATA_TTL_MS,
  });

  /** Stored tiles read lately, by tileset version: a version's tiles never change. */
  private readonly tiles: LRUCache<string, { body: Buffer | null }> | null;

  constructor(private readonly deps: AppDependencies) {
    this.tiles = storedTileCache(deps.config.tileCacheMegabytes);
  }

  /** The request's connection, resolved for its account. */
  async resolveConnection(request: ConnectionRequest): Promise<Connection> {
    const accountId = principalOf(request).accountId;
    const connection = await this.deps.connections.resolve(accountId, request.params.connection);
    // Failing here is left to the first statement, whose error names the cause.
    await connection.driver.ready?.().catch(() => undefined);
    return connection;
  }

  /**
   * The tileset `name` with its metadata, from a short-lived cache; read again when the
   * caller's `cache` value says the tileset was made again since.
   */
  async open(request: ConnectionRequest, params: Record<string, unknown>): Promise<OpenTileset> {
    const name = requiredString(params, 'name');
    const connection = await this.resolveConnection(request);
    const timeoutMs = this.deps.config.queryTimeoutMs;
    const table = new TilesetTable(connection.driver, name, parseTableName(name), timeoutMs);
    const key = `${connection.cacheKey}\n${table.sqlName}`;
    let pending = this.metadataCache.get(key);
    const expected = optionalString(params, 'cache');
    if (pending && expected !== undefined) {
      const cached = await pending.catch(() => undefined);
      if (!cached || cacheKeyOf(cached) !== expected) pending = undefined;
    }
    if (!pending) {
      pending = table.readMetadata();
      this.metadataCache.set(key, pending);
      pending.catch(() => this.metadataCache.delete(key));
    }
    return { connection, table, metadata: await pending };
  }

  /** `/tileset/{z}/{x}/{y}`: a tile of a vector tileset. */
  async sendVectorTile(request: TileRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { z, x, y } = parseTileCoordinates(request.params);
    const params = readParameters(request);
    const open = await this.open(request, params);
    const { table, metadata } = open;
    const scheme = schemeOfTileset(metadata);
    if (scheme !== 'xyz') {
      throw errors.invalidParameter(
        'tile',
        `tileset '${table.displayName}' holds ${scheme} cells, tiled by cell: /{i}`,
      );
    }
    checkFormat(params, metadata);
    const isInRange = z >= metadata.minzoom && z <= metadata.maxzoom;
    const address = isInRange ? { z, x, y } : null;
    return this.sendTile(request, reply, open, address, TILE_CONTENT_TYPES[metadata.format]);
  }

  /**
   * `/tileset/{i}`: a tile of a spatial-index tileset, named by its cell. A cell of another
   * scheme, or deeper than `maxresolution` (where clients never ask), is a 400; one coarser
   * than `minresolution` is empty, since the quadbin layer asks from zoom 0 whatever the tileset.
   */
  async sendCellTile(request: CellTileRequest, reply: FastifyReply): Promise<FastifyReply> {
    const params = readParameters(request);
    const open = await this.open(request, params);
    const { table, metadata } = open;
    const scheme = schemeOfTileset(metadata);
    if (scheme === 'xyz') {
      throw errors.invalidParameter(
        'tile',
        `tileset '${table.displayName}' holds vector tiles, tiled by /{z}/{x}/{y}`,
      );
    }
    checkFormat(params, metadata);
    const { cell, z } = parseTileCell(scheme, request.params.index);
    if (z > metadata.maxzoom) {
      throw errors.invalidParameter(
        'tile',
        `resolution ${z} is deeper than the tileset's maxresolution ${metadata.maxzoom}`,
      );
    }
    const address = z >= metadata.minzoom ? cellTileAddress(scheme, cell) : null;
    return this.sendTile(request, reply, open, address, SPATIAL_TILE_CONTENT_TYPE);
  }

  /** A stored tile (none when `address` is null): 200, 204 when absent, 304 when unchanged. */
  private async sendTile(
    request: FastifyRequest,
    reply: FastifyReply,
    open: OpenTileset,
    address: TileAddress | null,
    contentType: string,
  ): Promise<FastifyReply> {
    const asked = optionalString(readParameters(request), 'cache');
    if (asked !== undefined && asked !== cacheKeyOf(open.metadata)) {
      // The URL names a version of the tileset made again since: that version has no tiles.
      return sendStaleVersion(request, reply, contentType);
    }
    const body = await this.readTile(open, address);
    const tile = { body, contentType, etag: etagOf(body) };
    return sendTileAnswer(request, reply, tile, TILESET_MAX_AGE_SECONDS);
  }

  /**
   * A stored tile of an open tileset, or null. A table dropped since its metadata was read is
   * a 404 at once (and its metadata is read again next time), not a warehouse error.
   */
  async readTile(open: OpenTileset, address: TileAddress | null): Promise<Buffer | null> {
    if (!address) return null;
    const key = [
      open.connection.cacheKey,
      open.table.sqlName,
      cacheKeyOf(open.metadata),
      `${address.z}/${address.x}/${address.y}`,
    ].join('\n');
    const kept = this.tiles?.get(key);
    if (kept) return kept.body;
    try {
      const body = await open.table.readTile(address);
      this.tiles?.set(key, { body });
      return body;
    } catch (error) {
      if (!(error instanceof WarehouseError) || error.kind !== 'undefined_object') throw error;
      this.metadataCache.delete(`${open.connection.cacheKey}\n${open.table.sqlName}`);
      throw errors.tableNotFound(open.table.displayName);
    }
  }
}

/**
 * A cache of stored tiles bounded to a quarter of the tile cache's size (none when the tile
 * cache is off), so a busy warehouse is not asked the same tile over and over.
 */
export function storedTileCache(tileCacheMegabytes: number) {
  if (tileCacheMegabytes <= 0) return null;
  return new LRUCache<string, { body: Buffer | null }>({
    maxSize: (tileCacheMegabytes * 1024 * 1024) / 4,
    sizeCalculation: (tile) => 128 + (tile.body?.length ?? 0),
  });
}

/**
 * The answer to a tile URL of a version that is gone: empty, and not to be kept, so a page
 * loaded before the change shows no wrong data and fetches anew once it reloads.
 */
export function sendStaleVersion(
  request: FastifyRequest,
  reply: FastifyReply,
  contentType: string,
): Promise<FastifyReply> {
  return sendTileAnswer(request, reply, { body: null, contentType, etag: etagOf(null) }, 0);
}

function checkFormat(params: Record<string, unknown>, metadata: TilesetMetadata): void {
  const formatTiles = optionalString(params, 'formatTiles');
  if (formatTiles !== undefined && formatTiles !== metadata.format) {
    throw errors.invalidParameter('formatTiles', `this tileset holds ${metadata.format} tiles`);
  }
}

const readers = new WeakMap<AppDependencies, TilesetReader>();

/** The one reader of the server built from `deps`. */
export function tilesetReaderOf(deps: AppDependencies): TilesetReader {
  let reader = readers.get(deps);
  if (!reader) {
    reader = new TilesetReader(deps);
    readers.set(deps, reader);
  }
  return reader;
}
