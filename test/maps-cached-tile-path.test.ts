/**
 * A vector tile this node holds in memory is answered before the HTTP application sees the
 * request. These tests hold that answer to the full path's: the same status, body and headers,
 * the same refusals once a token may no longer act, and API access tokens (checked per
 * request) never answered that way. The server logs which requests the fast path answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { createApplication } from './support/identity.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const TABLE = 'public.fast_path_points';

let server: ServerProcess;
let adminToken: string;
/** The tile URL template of the table's TileJSON. */
let template: string;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** GETs `url`; without an Accept-Encoding of the caller's, asks for the tile as it is. */
async function get(url: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(url, { headers: { 'Accept-Encoding': 'identity', ...headers } });
  const body = Buffer.from(await response.arrayBuffer());
  const named: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'date' && name !== 'x-request-id' && name !== 'keep-alive') named[name] = value;
  });
  return { status: response.status, headers: named, body };
}

const tile = (z: number, x: number, y: number, query = '') =>
  template.replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y)) + query;

/** How many requests so far the fast path answered (the server logs each at info level). */
function fastAnswers(): number {
  return server
    .output()
    .split('\n')
    .filter((line) => line.includes('"fastPath":"cached-tile"')).length;
}

/** Requests `url` twice; the second answer must come from the fast path. */
async function fullThenFast(url: string, headers: Record<string, string>) {
  const before = await settledFastAnswers();
  const full = await get(url, headers);
  const fast = await get(url, headers);
  await waitForLog(before + 1);
  return { full, fast };
}

/** The count once every answer given so far has reached the log (it arrives a little later). */
async function settledFastAnswers(): Promise<number> {
  let count = fastAnswers();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = fastAnswers();
    if (now === count) return count;
    count = now;
  }
}

async function waitForLog(count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (fastAnswers() < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(await settledFastAnswers()).toBe(count);
}

async function sql(token: string, q: string): Promise<void> {
  const response = await fetch(`${server.baseUrl}/v3/sql/carto_dw/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ q }),
  });
  expect(response.status, await response.text()).toBe(200);
}

describe('cached tiles answered before the HTTP application', () => {
  beforeAll(async () => {
    server = await startServerProcess({
      loadDemoData: false,
      env: { GRATICULE_IDENTITY_REFRESH_SECONDS: '1', GRATICULE_LOG_LEVEL: 'info' },
    });
    adminToken = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    await sql(
      adminToken,
      `CREATE TABLE ${TABLE} AS SELECT i AS id, 'place ' || i AS name,
         ST_SetSRID(ST_MakePoint(-170 + (i % 340), -80 + (i % 160)), 4326) AS geom
       FROM generate_series(1, 3000) AS i`,
    );
    const response = await fetch(
      `${server.baseUrl}/v3/maps/carto_dw/table?name=${TABLE}&format=tilejson&formatTiles=mvt`,
      { headers: { Authorization: `Bearer ${adminToken}` } },
    );
    expect(response.status).toBe(200);
    template = ((await response.json()) as { tiles: string[] }).tiles[0]!;
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('answers as the full path does: body, status and headers', async () => {
    const auth = { Authorization: `Bearer ${adminToken}` };
    const { full, fast } = await fullThenFast(tile(1, 0, 0), auth);
    expect(full.status).toBe(200);
    expect(full.body.length).toBeGreaterThan(1024);
    expect(fast).toEqual(full);
    expect(fast.headers['content-type']).toBe('application/vnd.mapbox-vector-tile');
    expect(fast.headers.vary).toBe('Accept-Encoding, Authorization');
    expect(fast.headers['access-control-allow-origin']).toBe('*');
    expect(fast.headers['content-encoding']).toBeUndefined();
  });

  it('sends gzip once the full path has compressed the tile', async () => {
    const headers = { Authorization: `Bearer ${adminToken}`, 'Accept-Encoding': 'gzip' };
    await get(tile(1, 1, 0), { Authorization: `Bearer ${adminToken}` });
    const { full, fast } = await fullThenFast(tile(1, 1, 0), headers);
    expect(full.headers['content-encoding']).toBe('gzip');
    expect(fast).toEqual(full);
  });

  it('answers x-gzip as gzip, like the full path', async () => {
    const headers = { Authorization: `Bearer ${adminToken}`, 'Accept-Encoding': 'x-gzip' };
    const { full, fast } = await fullThenFast(tile(2, 0, 1), headers);
    expect(full.headers['content-encoding']).toBe('gzip');
    expect(fast).toEqual(full);
  });

  it('sends tiles as they are to clients that take no gzip, on both paths', async () => {
    const headers = { Authorization: `Bearer ${adminToken}`, 'Accept-Encoding': 'br, deflate' };
    const { full, fast } = await fullThenFast(tile(1, 0, 1), headers);
    expect(full.status).toBe(200);
    expect(full.body.length).toBeGreaterThan(1024);
    expect(full.headers['content-encoding']).toBeUndefined();
    // Tiles are gzipped once per cached tile, so the compression plugin stays out of them.
    expect(full.headers.vary).toBe('Accept-Encoding, Authorization');
    expect(fast).toEqual(full);
  });

  it('answers 304 to a current ETag and 204 for an empty tile, as the full path does', async () => {
    const auth = { Authorization: `Bearer ${adminToken}` };
    const first = await get(tile(2, 1, 1), auth);
    // A token this node has not seen yet is verified by the full path; then it is known.
    const fresh = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    const conditional = { Authorization: `Bearer ${fresh}`, 'If-None-Match': first.headers.etag! };
    const notModified = await fullThenFast(tile(2, 1, 1), conditional);
    expect(notModified.full.status).toBe(304);
    expect(notModified.fast).toEqual(notModified.full);

    // Far south-east at zoom 10: no point there.
    const empty = await fullThenFast(tile(10, 1000, 1000), auth);
    expect(empty.full.status).toBe(204);
    expect(empty.fast).toEqual(empty.full);
  });

  it("lowers the lifetime to a client's Cache-Control max-age on both paths", async () => {
    const headers = { Authorization: `Bearer ${adminToken}`, 'Cache-Control': 'max-age=60' };
    const { full, fast } = await fullThenFast(tile(2, 2, 1), headers);
    expect(full.headers['cache-control']).toBe('private, max-age=60');
    expect(fast).toEqual(full);
  });

  it('stops answering a token once its application is deleted', async () => {
    const app = await createApplication(server.baseUrl, adminToken, {
      name: 'Fast path machine',
      type: 'machine_to_machine',
    });
    const token = await fetchToken(server.baseUrl, app.client_id, app.client_secret!);
    const auth = { Authorization: `Bearer ${token}` };
    const { fast } = await fullThenFast(tile(1, 0, 0), auth);
    expect(fast.status).toBe(200);

    const removed = await fetch(`${server.baseUrl}/v3/applications/${app.client_id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    expect(removed.status).toBe(204);
    // The identity directory of this node refreshes every second here.
    const deadline = Date.now() + 10_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (await get(tile(1, 0, 0), auth)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(401);
  });

  it('leaves API access tokens (grants and referers per request) to the full path', async () => {
    const created = await fetch(`${server.baseUrl}/v3/tokens`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        grants: [{ connection_name: 'carto_dw', source: TABLE }],
        allowed_apis: ['maps'],
        referers: ['https://maps.example.com'],
      }),
    });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    const before = await settledFastAnswers();
    const allowed = { Authorization: `Bearer ${token}`, Referer: 'https://maps.example.com/' };
    expect((await get(tile(1, 0, 0), allowed)).status).toBe(200);
    expect((await get(tile(1, 0, 0), allowed)).status).toBe(200);
    const elsewhere = { Authorization: `Bearer ${token}`, Referer: 'https://other.example.com/' };
    expect((await get(tile(1, 0, 0), elsewhere)).status).toBe(403);
    expect(await settledFastAnswers()).toBe(before);
  });

  it('takes the full path for a new data version, and for a tile that is not cached', async () => {
    const auth = { Authorization: `Bearer ${adminToken}` };
    await get(tile(1, 0, 0), auth);
    const before = await settledFastAnswers();
    const versioned = tile(1, 0, 0).replace(/([?&]cache=)\d+/, '$11');
    expect((await get(versioned, auth)).status).toBe(200);
    expect((await get(tile(3, 1, 1), auth)).status).toBeLessThan(300);
    expect((await get(tile(1, 0, 0), { Authorization: 'Bearer not-a-token' })).status).toBe(401);
    expect(await settledFastAnswers()).toBe(before);
  });

  it('counts fast and full answers alike in /metrics, which names no source or token', async () => {
    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const route = 'route="/v3/maps/:connection/:type/:z/:x/:y"';
    const count = (name: string, labels: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const requests = 'graticule_http_requests_total';
    expect(count(requests, `method="GET",${route},status="200"`)).toBeGreaterThanOrEqual(10);
    expect(count(requests, `method="GET",${route},status="401"`)).toBeGreaterThan(0);
    const hits = count('graticule_tile_cache_requests_total', 'result="hit"');
    expect(hits).toBeGreaterThanOrEqual(fastAnswers());
    expect(text).not.toContain('fast_path_points');
    expect(text).not.toContain(adminToken.slice(-20));
  });
});
