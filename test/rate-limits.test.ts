/**
 * The token endpoint and the sign-in form are rate limited per address and per client, with
 * the API's error shape and Retry-After; forwarded-for headers do not reset the count unless
 * a proxy is trusted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

let server: ServerProcess;

function tokenRequest(clientId: string, headers: Record<string, string> = {}) {
  return fetch(`${server.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: 'not the secret',
    }),
  });
}

describe('rate limits', () => {
  beforeAll(async () => {
    server = await startServerProcess({
      loadDemoData: false,
      env: {
        GRATICULE_TOKEN_RATE_LIMIT_PER_CLIENT: '3',
        GRATICULE_TOKEN_RATE_LIMIT_PER_IP: '8',
        GRATICULE_LOGIN_RATE_LIMIT_PER_IP: '2',
      },
    });
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('limits token requests per client, then per address, with Retry-After', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await tokenRequest('limited-client', { 'X-Forwarded-For': `10.0.0.${i}` });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await response.json()).toMatchObject({ status: 429, code: 'rate_limited' });
      } else {
        await response.arrayBuffer();
      }
    }
    expect(statuses).toEqual([401, 401, 401, 429]);

    // Other clients are not held back by that one, until the address's own limit.
    const others = [];
    for (let i = 0; i < 5; i += 1) {
      const response = await tokenRequest(`other-client-${i}`);
      others.push(response.status);
      await response.arrayBuffer();
    }
    expect(others).toEqual([401, 401, 401, 401, 429]);
  });

  it('limits sign-in posts per address, whatever X-Forwarded-For claims', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${server.baseUrl}/login/no-such-interaction`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-Forwarded-For': `192.0.2.${i}`,
        },
        body: new URLSearchParams({ email: 'someone@example.test', password: 'whatever it is' }),
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses.slice(0, 2)).not.toContain(429);
    expect(statuses[2]).toBe(429);
  });
});

describeWithRedis('rate limits shared through Redis', () => {
  let redis: RedisServer;
  const nodes: ServerProcess[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    // Two nodes of one deployment: the same Redis, each its own data directory.
    for (let i = 0; i < 2; i += 1) {
      nodes.push(
        await startServerProcess({
          loadDemoData: false,
          env: { GRATICULE_REDIS_URL: redis.url(), GRATICULE_TOKEN_RATE_LIMIT_PER_CLIENT: '3' },
        }),
      );
    }
  }, 240_000);

  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await redis?.stop();
  });

  it('counts a client across nodes', async () => {
    const statuses = [];
    for (const node of [nodes[0]!, nodes[1]!, nodes[0]!, nodes[1]!]) {
      const response = await fetch(`${node.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'shared-client',
          client_secret: 'not the secret',
        }),
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});
