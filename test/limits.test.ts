import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

let server: ServerProcess;
let token = '';

beforeAll(async () => {
  server = await startServerProcess({
    loadDemoData: false,
    env: { GRATICULE_SQL_MAX_ROWS: '10', GRATICULE_QUERY_TIMEOUT_MS: '1500' },
  });
  token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
});

afterAll(async () => {
  await server?.stop();
});

async function sql(q: string) {
  const response = await fetch(
    `${server.baseUrl}/v3/sql/carto_dw/query?${new URLSearchParams({ q })}`,
    { headers: { Authorization: `Bearer ${token}` } },
  );
  return { status: response.status, body: (await response.json()) as any };
}

describe('configured limits', () => {
  it('returns results up to the row limit and a 400 beyond it', async () => {
    expect((await sql('SELECT * FROM generate_series(1, 10) AS n')).body.rows).toHaveLength(10);
    const over = await sql('SELECT * FROM generate_series(1, 11) AS n');
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({ code: 'too_many_rows' });
    expect(over.body.error).toContain('10 rows');
  });

  it('stops a statement at the timeout with a 400 naming it, then serves the next', async () => {
    const slow = await sql('SELECT pg_sleep(30)');
    expect(slow.status).toBe(400);
    expect(slow.body).toMatchObject({ code: 'query_timeout', status: 400 });
    expect(slow.body.error).toMatch(/timed out after 1500 ms/);
    const next = await sql('SELECT 1 AS one');
    expect(next.status).toBe(200);
    expect(next.body.rows).toEqual([{ one: 1 }]);
  });

  it('times out slow tile queries the same way', async () => {
    const q = 'SELECT ST_MakePoint(0, 0) AS geom FROM pg_sleep(30)';
    const response = await fetch(
      `${server.baseUrl}/v3/maps/carto_dw/query/0/0/0?${new URLSearchParams({ q, formatTiles: 'mvt' })}`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'query_timeout' });
  });
});
