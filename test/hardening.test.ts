import { beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
let token = '';

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${baseUrl}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}

const sqlPost = (body: unknown) =>
  call('/v3/sql/carto_dw/query', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('hardening against surprising input', () => {
  it('rejects a repeated OAuth parameter', async () => {
    const response = await fetch(`${baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_id=nope&client_id=${clientId}&client_secret=${clientSecret}`,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('treats queryParameters=null as no parameters', async () => {
    const { status, body } = await call(
      '/v3/sql/carto_dw/query?q=SELECT+1+AS+one&queryParameters=null',
    );
    expect(status).toBe(200);
    expect(body.rows).toEqual([{ one: 1 }]);
  });

  it('binds object parameters as JSON text', async () => {
    const { status, body } = await sqlPost({
      q: 'SELECT $1::jsonb AS doc',
      queryParameters: [{ a: [1, 2] }],
    });
    expect(status).toBe(200);
    expect(body.rows).toEqual([{ doc: { a: [1, 2] } }]);
  });

  it('refuses duplicate column names instead of losing values', async () => {
    const { status, body } = await sqlPost({ q: 'SELECT 1 AS a, 2 AS a' });
    expect(status).toBe(400);
    expect(body.error).toMatch(/'a' appears twice/);
  });

  it('challenges a missing token with WWW-Authenticate: Bearer', async () => {
    const response = await fetch(`${baseUrl}/v3/sql/carto_dw/query?q=SELECT+1`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('answers a malformed URL with the JSON error shape', async () => {
    const { status, body } = await call('/v3/sql/carto_dw/%FF');
    expect(status).toBe(400);
    expect(body).toMatchObject({ status: 400, code: 'bad_request' });
  });

  it('serves tiles over polygons without area instead of failing', async () => {
    const q =
      "SELECT 3 AS id, ST_GeomFromText('POLYGON((5 5,6 6,6 6,5 5))', 4326) AS geom " +
      "UNION ALL SELECT 4, ST_GeomFromText('POLYGON((5 5,6 5,6 6,5 6,5 5))', 4326)";
    for (const [z, x, y] of [
      [6, 32, 31],
      [7, 65, 62],
    ]) {
      const response = await fetch(
        `${baseUrl}/v3/maps/carto_dw/query/${z}/${x}/${y}?${new URLSearchParams({ q, formatTiles: 'mvt' })}`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      expect([200, 204]).toContain(response.status);
    }
  });

  it('answers 400 with a workaround for a geography spatial column', async () => {
    const q = 'SELECT ST_MakePoint(1, 2)::geography AS geom';
    const { status, body } = await call(`/v3/maps/carto_dw/query?${new URLSearchParams({ q })}`);
    expect(status).toBe(400);
    expect(body.error).toMatch(/geography/);
  });
});
