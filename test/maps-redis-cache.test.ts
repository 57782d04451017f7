import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

describeWithRedis('tiles shared through Redis', () => {
  let redis: RedisServer;
  let server: ServerProcess | undefined;
  const password = 'tile-cache-password-0123';

  beforeAll(async () => {
    redis = await startRedisServer({ password });
  });

  afterAll(async () => {
    await server?.stop();
    if (server) rmSync(server.dataDir, { recursive: true, force: true });
    await redis?.destroy();
  });

  const start = (dataDir?: string) =>
    startServerProcess({
      loadDemoData: false,
      dataDir,
      keepDataDir: true,
      env: { GRATICULE_REDIS_URL: redis.url(password), GRATICULE_LOG_LEVEL: 'info' },
    });

  async function stats(client: Redis) {
    const info = await client.info('stats');
    const hits = Number(/keyspace_hits:(\d+)/.exec(info)?.[1]);
    const keys = await client.keys('graticule:tile:*');
    return { hits, keys: keys.length };
  }

  it('serves a tile another process built, with the same ETag, from Redis', async () => {
    const client = new Redis(redis.url(password), { lazyConnect: true });
    try {
      server = await start();
      let token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
      const sql = async (q: string) => {
        const response = await fetch(`${server!.baseUrl}/v3/sql/carto_dw/query`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ q }),
        });
        expect(response.status).toBe(200);
      };
      await sql(`CREATE TABLE public.shared_points AS
        SELECT g AS id, ST_SetSRID(ST_MakePoint(g % 360 - 180, (g % 170) - 85), 4326) AS geom
        FROM generate_series(1, 2000) AS g`);
      const headers = () => ({ Authorization: `Bearer ${token}` });
      const step1 = (await (
        await fetch(`${server.baseUrl}/v3/maps/carto_dw/table?name=public.shared_points`, {
          headers: headers(),
        })
      ).json()) as { tilejson: { url: string[] } };
      const tilejson = (await (
        await fetch(step1.tilejson.url[0]!, { headers: headers() })
      ).json()) as {
        tiles: string[];
      };
      const path = new URL(tilejson.tiles[0]!.replace('{z}/{x}/{y}', '0/0/0'));
      const first = await fetch(`${server.baseUrl}${path.pathname}${path.search}`, {
        headers: headers(),
      });
      expect(first.status).toBe(200);
      const body = Buffer.from(await first.arrayBuffer());
      const before = await stats(client);
      expect(before.keys).toBeGreaterThan(0);

      // A fresh process: an empty memory cache, the same data, the same Redis.
      const dataDir = server.dataDir;
      await server.stop();
      server = await start(dataDir);
      token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
      const again = await fetch(`${server.baseUrl}${path.pathname}${path.search}`, {
        headers: headers(),
      });
      expect(again.status).toBe(200);
      expect(Buffer.from(await again.arrayBuffer())).toEqual(body);
      expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
      expect((await stats(client)).hits).toBeGreaterThan(before.hits);
      expect(server.output()).not.toContain(password);

      // Another node: its own data directory, so its own embedded warehouse, where the same
      // table holds other rows. Redis must not hand it the first node's tile.
      await server.stop();
      server = await start();
      token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
      await sql(`CREATE TABLE public.shared_points AS
        SELECT g AS id, ST_SetSRID(ST_MakePoint(10, 10), 4326) AS geom
        FROM generate_series(1, 3) AS g`);
      const other = await fetch(`${server.baseUrl}${path.pathname}${path.search}`, {
        headers: headers(),
      });
      expect(other.status).toBe(200);
      expect(Buffer.from(await other.arrayBuffer())).not.toEqual(body);
      expect(other.headers.get('etag')).not.toBe(first.headers.get('etag'));
    } finally {
      client.disconnect();
    }
  });
});
