/**
 * Reads raster tables for the Maps API: a raster's metadata, trusted for a few seconds, and
 * its blocks, each answered by a `block =` lookup with the caching headers of every tile.
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Connection } from '../connections/connection-registry.js';
import type { AppDependencies } from '../http/app.js';
import { errors } from '../http/errors.js';
import { optionalJson, optionalString, requiredString } from '../http/request-params.js';
import { parseTileCell } from '../maps/spatial-index/cells.js';
import { parseTableName } from '../maps/table-name.js';
import { sendTileAnswer } from '../maps/tile-answer.js';
import { etagOf } from '../maps/tile-cache.js';
import {
  TILESET_MAX_AGE_SECONDS,
  sendStaleVersion,
  storedTileCache,
  tilesetReaderOf,
} from '../tilesets/tileset-reader.js';
import type { RasterMetadata } from './raster-metadata.js';
import { rasterErrors } from './raster-errors.js';
import { RasterTable, type StoredBand } from './raster-table.js';
import { RASTER_TILE_CONTENT_TYPE, encodeRasterTile } from './raster-tile.js';
import { rasterCacheKey } from './raster-tilejson.js';

const gunzip = promisify(gunzipCallback);

/** How long a raster's metadata is trusted before it is read again. */
const METADATA_TTL_MS = 10_000;

type ConnectionRequest = FastifyRequest<{ Params: { connection: string } }>;
export type BlockRequest = FastifyRequest<{ Params: { connection: string; index: string } }>;

export interface OpenRaster {
  connection: Connection;
  table: RasterTable;
  metadata: RasterMetadata;
}

/**
 * `filters` is accepted as CARTO's clients send it, and checked to be a JSON object. Blocks
 * always carry every pixel: `rasterSource`'s widgets filter the pixels of loaded tiles.
 */
export function checkRasterFilters(params: Record<string, unknown>): void {
  const filters = optionalJson(params, 'filters');
  if (filters !== undefined && (typeof filters !== 'object' || Array.isArray(filters))) {
    throw errors.invalidParameter('filters', 'expected a JSON object');
  }
}

export class RasterReader {
  private readonly metadataCache = new LRUCache<string, Promise<RasterMetadata>>({
    max: 1000,
    ttl: METADATA_TTL_MS,
  });

  /** Blocks answered lately, by raster version: a version's blocks never change. */
  private readonly blocks: ReturnType<typeof storedTileCache>;

  constructor(private readonly deps: AppDependencies) {
    this.blocks = storedTileCache(deps.config.tileCacheMegabytes);
  }

  /**
   * The raster `name` with its metadata, from a short-lived cache; read again when the
   * caller's `cache` value says the raster was written again since.
   */
  async open(request: ConnectionRequest, params: Record<string, unknown>): Promise<OpenRaster> {
    const name = requiredString(params, 'name');
    const connection = await tilesetReaderOf(this.deps).resolveConnection(request);
    const timeoutMs = this.deps.config.queryTimeoutMs;
    const table = new RasterTable(connection.driver, name, parseTableName(name), timeoutMs);
    const key = `${connection.cacheKey}\n${table.sqlName}`;
    let pending = this.metadataCache.get(key);
    const expected = optionalString(params, 'cache');
    if (pending && expected !== undefined) {
      const cached = await pending.catch(() => undefined);
      if (!cached || rasterCacheKey(cached) !== expected) pending = undefined;
    }
    if (!pending) {
      pending = table.readMetadata();
      this.metadataCache.set(key, pending);
      pending.catch(() => this.metadataCache.delete(key));
    }
    return { connection, table, metadata: await pending };
  }

  /**
   * `/raster/{i}`: one block, named by its quadbin cell. A cell deeper than `maxresolution`
   * (where clients never ask: they overzoom) is a 400; one coarser than `minresolution` is
   * empty, as are cells the table holds no block for.
   */
  async sendBlock(
    request: BlockRequest,
    reply: FastifyReply,
    params: Record<string, unknown>,
  ): Promise<FastifyReply> {
    const { cell, z } = parseTileCell('quadbin', request.params.index);
    const { connection, table, metadata } = await this.open(request, params);
    const version = rasterCacheKey(metadata);
    const asked = optionalString(params, 'cache');
    if (asked !== undefined && asked !== version) {
      // The URL names a version written over since: its blocks (and their encoding) are gone.
      return sendStaleVersion(request, reply, RASTER_TILE_CONTENT_TYPE);
    }
    if (z > metadata.maxresolution) {
      throw errors.invalidParameter(
        'tile',
        `resolution ${z} is deeper than the raster's maxresolution ${metadata.maxresolution}`,
      );
    }
    const key = [connection.cacheKey, table.sqlName, version, cell.toString(16)].join('\n');
    let body = this.blocks?.get(key)?.body;
    if (body === undefined) {
      const names = metadata.bands.map((band) => band.name);
      const stored = z >= metadata.minresolution ? await table.readBlock(cell, names) : null;
      if (stored) await checkBandLengths(table.displayName, metadata, stored, cell);
      const encoded = stored
        ? encodeRasterTile(metadata.block_width, metadata.bands, stored)
        : null;
      body = encoded ? Buffer.from(encoded) : null;
      this.blocks?.set(key, { body });
    }
    const tile = { body, contentType: RASTER_TILE_CONTENT_TYPE, etag: etagOf(body) };
    return sendTileAnswer(request, reply, tile, TILESET_MAX_AGE_SECONDS);
  }
}

/** Bytes per pixel of each band type the clients read. */
const BYTES_PER_PIXEL: Record<string, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  uint64: 8,
  int64: 8,
  float64: 8,
};

/**
 * Every stored band of a block must hold one value per pixel once inflated: deck.gl's loader
 * throws on anything else, so the block answers a clear error instead. Checked once per block
 * version, since answered blocks are kept.
 */
async function checkBandLengths(
  name: string,
  metadata: RasterMetadata,
  stored: readonly StoredBand[],
  cell: bigint,
): Promise<void> {
  const pixels = metadata.block_width * metadata.block_height;
  for (const [i, band] of metadata.bands.entries()) {
    const bytes = stored[i]?.bytes;
    const size = BYTES_PER_PIXEL[band.type];
    if (!bytes || size === undefined) continue;
    let length = bytes.length;
    if (metadata.compression === 'gzip') {
      length = await gunzip(bytes).then(
        (inflated) => inflated.length,
        () => -1,
      );
    }
    if (length !== pixels * size) {
      const what = length < 0 ? 'not gzip data' : `${length} bytes`;
      throw rasterErrors.invalidBlock(
        name,
        `band ${band.name} of block ${cell.toString(16)} holds ${what}, not ${pixels * size}`,
      );
    }
  }
}

const readers = new WeakMap<AppDependencies, RasterReader>();

/** The one reader of the server built from `deps`. */
export function rasterReaderOf(deps: AppDependencies): RasterReader {
  let reader = readers.get(deps);
  if (!reader) {
    reader = new RasterReader(deps);
    readers.set(deps, reader);
  }
  return reader;
}
