import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { TileCache, type CachedTile } from './tile-cache.js';

/** Namespace of tile keys in a Redis shared with other applications. */
export const REDIS_KEY_PREFIX = 'graticule:tile:';

/** What `CLIENT LIST` shows for the tile cache's connections. */
export const REDIS_CONNECTION_NAME = 'graticule-tile-cache';

/** Tiles larger than this stay out of Redis: one value must not hold up the connection. */
const DEFAULT_MAX_VALUE_BYTES = 4 * 1024 * 1024;
/** A tile waits at most this long for Redis before it is built or served without it. */
const DEFAULT_COMMAND_TIMEOUT_MS = 100;
/** After a failure, Redis is left alone for this long, then tried again. */
const DEFAULT_RETRY_AFTER_MS = 5_000;
const CONNECT_TIMEOUT_MS = 2_000;

const FORMAT_VERSION = 1;
const HAS_BODY = 1;
const HEADER_BYTES = 6;

type CacheLogger = Pick<Logger, 'info' | 'warn'>;

/** The Redis key of a tile cache key: hashed, so keys stay short whatever the source SQL. */
export function redisKeyOf(key: string): string {
  return REDIS_KEY_PREFIX + createHash('sha256').update(key).digest('base64url');
}

/**
 * A tile as stored in Redis: version, flags, the lengths of content type and ETag (16 bits
 * each), both as UTF-8, then the raw body. The gzipped copy is not stored; each node makes it.
 * Undefined when the content type or ETag is too long for its length field.
 */
export function encodeTile(tile: CachedTile): Buffer | undefined {
  const contentType = Buffer.from(tile.contentType, 'utf8');
  const etag = Buffer.from(tile.etag, 'utf8');
  if (contentType.length > 0xffff || etag.length > 0xffff) return undefined;
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(FORMAT_VERSION, 0);
  header.writeUInt8(tile.body ? HAS_BODY : 0, 1);
  header.writeUInt16BE(contentType.length, 2);
  header.writeUInt16BE(etag.length, 4);
  return Buffer.concat([header, contentType, etag, tile.body ?? Buffer.alloc(0)]);
}

/** The tile a stored value holds, or undefined when the value is not one this version wrote. */
export function decodeTile(value: Buffer): CachedTile | undefined {
  if (value.length < HEADER_BYTES || value.readUInt8(0) !== FORMAT_VERSION) return undefined;
  const hasBody = (value.readUInt8(1) & HAS_BODY) !== 0;
  const contentTypeEnd = HEADER_BYTES + value.readUInt16BE(2);
  const etagEnd = contentTypeEnd + value.readUInt16BE(4);
  if (etagEnd > value.length || (!hasBody && etagEnd !== value.length)) return undefined;
  return {
    // A copy, so the tile does not pin the whole reply buffer of the Redis connection.
    body: hasBody ? Buffer.from(value.subarray(etagEnd)) : null,
    contentType: value.toString('utf8', HEADER_BYTES, contentTypeEnd),
    etag: value.toString('utf8', contentTypeEnd, etagEnd),
  };
}

export interface RedisTileStoreOptions {
  /** `redis://` or `rediss://` URL; may carry a password, which is never logged. */
  url: string;
  /** How long a tile lives in Redis: the tiles' `max-age`. */
  ttlSeconds: number;
  logger: CacheLogger;
  maxValueBytes?: number;
  commandTimeoutMs?: number;
  retryAfterMs?: number;
}

/**
 * Tiles in Redis, shared by every node. Redis is an optimisation only: each command waits at
 * most `commandTimeoutMs`, nothing is queued while disconnected, and every failure reads as a
 * miss. A failure is logged once per outage and Redis is skipped for `retryAfterMs`.
 */
export class RedisTileStore {
  private readonly client: Redis;
  private readonly target: string;
  private readonly secrets: string[];
  private readonly ttlSeconds: number;
  private readonly maxValueBytes: number;
  private readonly commandTimeoutMs: number;
  private readonly retryAfterMs: number;
  private firstConnect: Promise<void> | null = null;
  private isDown = false;
  private retryAt = 0;
  private isClosed = false;

  constructor(private readonly options: RedisTileStoreOptions) {
    const url = new URL(options.url);
    this.target = `${url.protocol}//${url.host}${url.pathname}`;
    this.secrets = [url.password, decodedOrSelf(url.password)].filter((s) => s !== '');
    this.ttlSeconds = Math.max(options.ttlSeconds, 1);
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.retryAfterMs = options.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
    this.client = new Redis(options.url, {
      lazyConnect: true,
      connectionName: REDIS_CONNECTION_NAME,
      // While disconnected a command fails at once instead of waiting in a queue.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.commandTimeoutMs,
      connectTimeout: CONNECT_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 100, this.retryAfterMs),
    });
    this.client.on('error', (error: Error) => this.noteFailure(error));
    // A server that goes away (a crash, a restart) may close the connection without an error.
    this.client.on('close', () => this.noteFailure(new Error('connection closed')));
    // An outage ends when a connection is ready again, or, for a server that hung and now
    // answers on the same connection, with the next command that succeeds.
    this.client.on('ready', () => this.noteRecovery());
  }

  /** The tile stored under `key`, or undefined on a miss or when Redis cannot answer. */
  async get(key: string): Promise<CachedTile | undefined> {
    const client = await this.availableClient();
    if (!client) return undefined;
    try {
      const value = await client.getBuffer(redisKeyOf(key));
      this.noteRecovery();
      return value ? decodeTile(value) : undefined;
    } catch (error) {
      this.noteFailure(error as Error);
      return undefined;
    }
  }

  /** Stores a tile for `ttlSeconds`; skips tiles over the size limit and never throws. */
  async set(key: string, tile: CachedTile): Promise<void> {
    const value = encodeTile(tile);
    if (!value || value.length > this.maxValueBytes) return;
    const client = await this.availableClient();
    if (!client) return;
    try {
      await client.set(redisKeyOf(key), value, 'EX', this.ttlSeconds);
      this.noteRecovery();
    } catch (error) {
      this.noteFailure(error as Error);
    }
  }

  close(): void {
    this.isClosed = true;
    this.client.disconnect();
  }

  /** The client when Redis may be asked now; connects on first use, waiting a command's time. */
  private async availableClient(): Promise<Redis | null> {
    if (this.isClosed || Date.now() < this.retryAt) return null;
    if (this.client.status === 'wait') {
      this.firstConnect = this.client
        .connect()
        .catch((error: Error) => this.noteFailure(error))
        .finally(() => {
          this.firstConnect = null;
        });
    }
    if (this.firstConnect) await settleWithin(this.firstConnect, this.commandTimeoutMs);
    return this.client.status === 'ready' ? this.client : null;
  }

  private noteFailure(error: Error): void {
    this.retryAt = Date.now() + this.retryAfterMs;
    if (this.isDown || this.isClosed) return;
    this.isDown = true;
    // Only name, code and message: ioredis attaches the failed command's arguments to its
    // errors, which would put AUTH passwords and tile bytes in the log.
    this.options.logger.warn(
      { redis: this.target, error: this.describeError(error) },
      'Redis tile cache unavailable; serving tiles from memory until it answers again',
    );
  }

  private noteRecovery(): void {
    this.retryAt = 0;
    if (!this.isDown) return;
    this.isDown = false;
    this.options.logger.info({ redis: this.target }, 'Redis tile cache available again');
  }

  private describeError(error: Error): { name: string; code?: string; message: string } {
    let message = String(error.message);
    for (const secret of this.secrets) message = message.split(secret).join('[redacted]');
    const code = (error as { code?: unknown }).code;
    return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message };
  }
}

function decodedOrSelf(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function settleWithin(pending: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([pending, timeout]);
  clearTimeout(timer);
}

/**
 * The tile cache of the Maps API: this node's in-memory LRU first, then, when configured,
 * Redis shared by every node. A tile found in Redis is kept in memory too.
 */
export class TieredTileCache {
  constructor(
    private readonly memory: TileCache,
    private readonly shared: RedisTileStore | null = null,
  ) {}

  async get(key: string): Promise<CachedTile | undefined> {
    const inMemory = this.memory.get(key);
    if (inMemory || !this.shared) return inMemory;

    const stored = await this.shared.get(key);
    if (stored) this.memory.set(key, stored);
    return stored;
  }

  /** The tile this node holds in memory, without asking Redis. */
  peek(key: string): CachedTile | undefined {
    return this.memory.get(key);
  }

  /** Caches a tile in memory at once and in Redis before resolving; never rejects. */
  async set(key: string, tile: CachedTile): Promise<void> {
    this.memory.set(key, tile);
    await this.shared?.set(key, tile);
  }

  /** Disconnects from Redis; the memory tier keeps working. */
  async close(): Promise<void> {
    this.shared?.close();
  }
}

/** The tile cache that configuration asks for: memory, plus Redis when `redisUrl` is set. */
export function createTileCache(
  config: Pick<Config, 'tileCacheMegabytes' | 'tileMaxAgeSeconds' | 'redisUrl'>,
  logger: Logger,
): TieredTileCache {
  const memory = new TileCache(config.tileCacheMegabytes * 1024 * 1024, config.tileMaxAgeSeconds);
  const shared = config.redisUrl
    ? new RedisTileStore({
        url: config.redisUrl,
        ttlSeconds: config.tileMaxAgeSeconds,
        logger: logger.child({ component: 'tile-cache' }),
      })
    : null;
  return new TieredTileCache(memory, shared);
}
