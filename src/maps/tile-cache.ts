import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * Smaller answers are not worth compressing: tiles below it go out as they are, and the HTTP
 * layer's compression of other answers uses the same threshold.
 */
export const MIN_GZIP_BYTES = 1024;

/** A built tile; `body` null means the tile is empty (answered 204). */
export interface CachedTile {
  body: Buffer | null;
  contentType: string;
  etag: string;
  /** The body gzipped, made on first request from a client that accepts gzip. */
  gzipped?: Promise<Buffer>;
  /** `gzipped` once it has resolved, for answers given without waiting. */
  gzippedBody?: Buffer;
}

/** Tiles kept in memory, bounded by total bytes. */
export class TileCache {
  private readonly entries: LRUCache<string, CachedTile> | null;

  constructor(maxBytes: number, ttlSeconds: number) {
    this.entries =
      maxBytes > 0
        ? new LRUCache<string, CachedTile>({
            maxSize: maxBytes,
            // Room for the gzipped copy too, which is at most about the body's size.
            sizeCalculation: (tile) => (tile.body?.length ?? 0) * 2 + 64,
            ttl: Math.max(ttlSeconds, 1) * 1000,
          })
        : null;
  }

  get(key: string): CachedTile | undefined {
    return this.entries?.get(key);
  }

  set(key: string, tile: CachedTile): void {
    this.entries?.set(key, tile);
  }
}

/** A strong ETag from the tile bytes. */
export function etagOf(body: Buffer | null): string {
  if (!body) return '"empty"';
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/**
 * A weak ETag from what decides a tile: the source definition, the inspection that stands for
 * its data version, the format and the coordinates (the tile cache key). Hashing a short key
 * instead of the bytes costs the same for every tile, and the bytes of one tile built twice
 * may differ (PostgreSQL aggregates in parallel), which a strong ETag would not allow.
 */
export function etagOfTileKey(key: string, body: Buffer | null): string {
  if (!body) return '"empty"';
  return `W/"${createHash('sha1').update(key).digest('base64url')}"`;
}

/**
 * True when an Accept-Encoding header admits gzip: `gzip` (or its old name `x-gzip`) with a
 * q-value above zero, or else `*` with one. A q of 0 on gzip refuses it even when `*` is there.
 */
export function acceptsGzip(header: string | undefined): boolean {
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (name === 'gzip' || name === 'x-gzip') gzip = Math.max(gzip ?? 0, weight);
    else if (name === '*') any = weight;
  }
  const chosen = gzip ?? any;
  return chosen !== undefined && chosen > 0;
}
