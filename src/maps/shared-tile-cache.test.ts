import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, describeSettings, loadConfig } from '../config/config.js';
import { pollUntil } from '../../test/support/postgres.js';
import { findFreePort } from '../../test/support/server-process.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../../test/support/redis.js';
import {
  REDIS_CONNECTION_NAME,
  REDIS_KEY_PREFIX,
  RedisTileStore,
  TieredTileCache,
  createTileCache,
  decodeTile,
  encodeTile,
  redisKeyOf,
  type RedisTileStoreOptions,
} from './shared-tile-cache.js';
import { TileCache, etagOf, type CachedTile } from './tile-cache.js';

const PASSWORD = 'tile-cache-pw-7f3a9c51';
const MVT = 'application/vnd.mapbox-vector-tile';

function tileOf(bytes: number): CachedTile {
  const body = randomBytes(bytes);
  return { body, contentType: MVT, etag: etagOf(body) };
}

const EMPTY_TILE: CachedTile = { body: null, contentType: MVT, etag: '"empty"' };

/** A cache key as long as the route makes for a query source. */
function uniqueKey(): string {
  return `${randomBytes(8).toString('hex')}|SELECT * FROM ${'x'.repeat(2000)}|mvt|12/2048/1361`;
}

/** A pino logger writing into an array, so tests can read what was logged. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
  const messages = (level: number) =>
    lines
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((entry) => {
        return entry.level === level;
      });
  return { logger, lines, warnings: () => messages(40), infos: () => messages(30) };
}

describe('the Redis value of a tile', () => {
  it('holds a short header, content type, ETag and the raw body, and reads back the same', () => {
    const tile = tileOf(1000);
    const value = encodeTile(tile);

    expect(value?.length).toBe(6 + MVT.length + tile.etag.length + 1000);
    expect(value?.subarray(value.length - 1000).equals(tile.body!)).toBe(true);
    expect(decodeTile(value!)).toEqual({ body: tile.body, contentType: MVT, etag: tile.etag });
  });

  it('reads back an empty tile as one without a body', () => {
    expect(decodeTile(encodeTile(EMPTY_TILE)!)).toEqual(EMPTY_TILE);
  });

  it('is not made when the content type is too long for its length field', () => {
    expect(encodeTile({ ...tileOf(10), contentType: 'x'.repeat(70_000) })).toBeUndefined();
  });

  it('reads a value it did not write, or a cut one, as a miss', () => {
    const value = encodeTile(tileOf(10))!;
    expect(decodeTile(Buffer.from('{"body":"aGVsbG8="}'))).toBeUndefined();
    expect(decodeTile(value.subarray(0, 8))).toBeUndefined();
    expect(decodeTile(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('createTileCache without Redis', () => {
  it('caches tiles in memory only', async () => {
    const { logger, lines } = capturedLogger();
    const cache = createTileCache(
      { tileCacheMegabytes: 1, tileMaxAgeSeconds: 60, redisUrl: '' },
      logger,
    );
    const tile = tileOf(100);

    await cache.set('k', tile);

    expect(await cache.get('k')).toBe(tile);
    expect(await cache.get('other')).toBeUndefined();
    await cache.close();
    expect(lines).toEqual([]);
  });
});

describe('the redisUrl setting', () => {
  it('accepts redis:// and rediss:// URLs and lists no default', () => {
    const url = `rediss://:${PASSWORD}@cache.internal:6380/2`;
    expect(loadConfig({ GRATICULE_REDIS_URL: url }, '/tmp').redisUrl).toBe(url);
    expect(loadConfig({}, '/tmp').redisUrl).toBe('');
    expect(describeSettings().find((s) => s.key === 'redisUrl')?.default).toBe('(none)');
  });

  it('rejects other URLs without repeating the password in the message', () => {
    for (const url of [`http://:${PASSWORD}@cache:6379`, `redis://:${PASSWORD}@`, PASSWORD]) {
      const load = () => loadConfig({ GRATICULE_REDIS_URL: url }, '/tmp');
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/GRATICULE_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
      expect(load).not.toThrow(new RegExp(PASSWORD));
    }
  });
});

describeWithRedis('TieredTileCache with a shared Redis', () => {
  let redis: RedisServer;
  let admin: Redis;
  const opened: TieredTileCache[] = [];

  /** One node's cache: its own memory, the shared Redis. */
  const node = (options: Partial<RedisTileStoreOptions> = {}) => {
    const cache = new TieredTileCache(
      new TileCache(16 * 1024 * 1024, 300),
      new RedisTileStore({
        url: redis.url(PASSWORD),
        ttlSeconds: 300,
        logger: pino({ level: 'silent' }),
        // Generous for a busy test machine; the default is 100 ms.
        commandTimeoutMs: 2_000,
        retryAfterMs: 100,
        ...options,
      }),
    );
    opened.push(cache);
    return cache;
  };

  beforeAll(async () => {
    redis = await startRedisServer({ password: PASSWORD });
    admin = new Redis(redis.url(PASSWORD), { lazyConnect: true });
  });

  afterEach(async () => {
    for (const cache of opened.splice(0)) await cache.close();
  });

  afterAll(async () => {
    admin?.disconnect();
    await redis?.destroy();
  });

  it('serves a tile one node cached to another, with the same bytes, type and ETag', async () => {
    const [first, second] = [node(), node()];
    const key = uniqueKey();
    const tile = tileOf(64 * 1024);

    await first.set(key, tile);
    const shared = await second.get(key);

    expect(shared?.body?.equals(tile.body!)).toBe(true);
    expect(shared?.contentType).toBe(MVT);
    expect(shared?.etag).toBe(tile.etag);
    // The hit now lives in the second node's memory too.
    await admin.del(redisKeyOf(key));
    expect((await second.get(key))?.etag).toBe(tile.etag);
    expect(await node().get(key)).toBeUndefined();
  });

  it('shares empty tiles, which have no body', async () => {
    const [first, second] = [node(), node()];
    const key = uniqueKey();

    await first.set(key, EMPTY_TILE);

    expect(await second.get(key)).toEqual(EMPTY_TILE);
  });

  it('stores a tile compactly under a short namespaced key expiring after max-age', async () => {
    const cache = node({ ttlSeconds: 120 });
    const key = uniqueKey();
    const tile = tileOf(5000);

    await cache.set(key, tile);

    const redisKey = redisKeyOf(key);
    expect(redisKey.startsWith(REDIS_KEY_PREFIX)).toBe(true);
    expect(redisKey.length).toBeLessThan(64);
    const ttl = await admin.ttl(redisKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
    expect((await admin.getBuffer(redisKey))?.length).toBe(encodeTile(tile)?.length);
  });

  it('keeps tiles over the size limit out of Redis but in memory', async () => {
    const first = node({ maxValueBytes: 4096 });
    const key = uniqueKey();
    const tile = tileOf(8192);

    await first.set(key, tile);

    expect(await admin.exists(redisKeyOf(key))).toBe(0);
    expect(await first.get(key)).toBe(tile);
    expect(await node().get(key)).toBeUndefined();
  });

  it('reads a value it cannot decode as a miss', async () => {
    const key = uniqueKey();
    await admin.set(redisKeyOf(key), 'not a tile');

    expect(await node().get(key)).toBeUndefined();
  });

  it('connects on first use, not when it is created', async () => {
    const tileCacheClients = async () => {
      const list = String(await admin.client('LIST'));
      return list.split('\n').filter((line) => line.includes(`name=${REDIS_CONNECTION_NAME} `))
        .length;
    };
    expect(await pollUntil(async () => (await tileCacheClients()) === 0)).toBe(true);

    const cache = node();
    for (let i = 0; i < 3; i++) await admin.ping();
    expect(await tileCacheClients()).toBe(0);

    await cache.get(uniqueKey());
    expect(await pollUntil(async () => (await tileCacheClients()) === 1)).toBe(true);
  });

  it('serves from memory while Redis is down, logs once, uses Redis again when back', async () => {
    const log = capturedLogger();
    const [first, second] = [node({ logger: log.logger }), node()];
    const [before, during, after] = [uniqueKey(), uniqueKey(), uniqueKey()];
    await first.set(before, tileOf(100));
    expect(await second.get(before)).toBeDefined();

    await redis.stop();
    try {
      const tile = tileOf(100);
      for (let i = 0; i < 20; i++) {
        expect(await first.get(before)).toBeDefined();
        await first.set(during, tile);
        expect(await first.get(during)).toBe(tile);
        expect(await first.get(uniqueKey())).toBeUndefined();
      }
      expect(await second.get(during)).toBeUndefined();
      expect(await pollUntil(async () => log.warnings().length > 0)).toBe(true);
      expect(log.warnings()).toHaveLength(1);
      expect(log.warnings()[0]?.msg).toMatch(/Redis tile cache unavailable/);
    } finally {
      await redis.start();
    }

    const shared = tileOf(100);
    const recovered = await pollUntil(async () => {
      await first.set(after, shared);
      return (await second.get(after))?.etag === shared.etag;
    }, 15_000);
    expect(recovered).toBe(true);
    expect(log.infos().map((entry) => entry.msg)).toContain('Redis tile cache available again');
    expect(log.warnings()).toHaveLength(1);
    expect(log.lines.join('\n')).not.toContain(PASSWORD);
  });

  it('does not hang on a Redis that stops answering, and uses it again afterwards', async () => {
    const log = capturedLogger();
    const [first, second] = [
      node({ logger: log.logger, commandTimeoutMs: 200 }),
      node({ commandTimeoutMs: 200 }),
    ];
    const key = uniqueKey();
    const tile = tileOf(100);
    const shared = async (sharedKey: string) => {
      await first.set(sharedKey, tile);
      return (await second.get(sharedKey))?.etag === tile.etag;
    };
    expect(await pollUntil(() => shared(uniqueKey()))).toBe(true);

    redis.pause();
    try {
      for (let i = 0; i < 5; i++) {
        await first.set(key, tile);
        expect(await first.get(key)).toBe(tile);
        expect(await first.get(uniqueKey())).toBeUndefined();
      }
      expect(log.warnings()).toHaveLength(1);
      expect(JSON.stringify(log.warnings()[0])).toMatch(/timed out/i);
    } finally {
      redis.resume();
    }

    const after = uniqueKey();
    expect(await pollUntil(() => shared(after))).toBe(true);
    expect(log.infos().map((entry) => entry.msg)).toContain('Redis tile cache available again');
  });

  it('works from memory when Redis is not there at start', async () => {
    const log = capturedLogger();
    const unreachable = createTileCache(
      {
        tileCacheMegabytes: 1,
        tileMaxAgeSeconds: 60,
        redisUrl: `redis://:${PASSWORD}@127.0.0.1:${await findFreePort()}`,
      },
      log.logger,
    );
    opened.push(unreachable);
    const tile = tileOf(100);

    await unreachable.set('k', tile);

    expect(await unreachable.get('k')).toBe(tile);
    expect(await unreachable.get('missing')).toBeUndefined();
    expect(await pollUntil(async () => log.warnings().length > 0)).toBe(true);
    expect(log.warnings()).toHaveLength(1);
    expect(log.lines.join('\n')).not.toContain(PASSWORD);
  });

  it('never logs the password of the Redis URL, also when it is refused', async () => {
    const log = capturedLogger();
    const wrongPassword = `${PASSWORD}-wrong`;
    const refused = node({ url: redis.url(wrongPassword), logger: log.logger });
    const tile = tileOf(100);

    await refused.set('k', tile);
    expect(await refused.get('k')).toBe(tile);
    expect(await refused.get('missing')).toBeUndefined();

    expect(await pollUntil(async () => log.warnings().length > 0)).toBe(true);
    expect(log.warnings()).toHaveLength(1);
    expect(log.lines.join('\n')).toMatch(/WRONGPASS/);
    expect(log.lines.join('\n')).toContain(`127.0.0.1:${redis.port}`);
    expect(log.lines.join('\n')).not.toContain(PASSWORD);
  });
});
