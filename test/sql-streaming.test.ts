import { afterAll, beforeAll, expect, it } from 'vitest';
import { fetchToken } from './support/api.js';
import { describeWithPostgres } from './support/postgres.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

/**
 * Large SQL API results on PostgreSQL: answers above the buffer threshold stream, and a row
 * limit crossed after streaming began breaks the response instead of ending it as if whole.
 */
describeWithPostgres('SQL API streaming on PostgreSQL', (pg) => {
  let server: ServerProcess;
  let token = '';
  const maxRows = 300_000;

  beforeAll(async () => {
    server = await startServerProcess({
      loadDemoData: false,
      env: {
        GRATICULE_SQL_STREAM_THRESHOLD_MB: '1',
        GRATICULE_SQL_MAX_ROWS: String(maxRows),
      },
    });
    token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    const created = await fetch(`${server.baseUrl}/v3/connections`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'pg_stream',
        provider_id: 'postgres',
        config: {
          host: pg.host,
          port: pg.port,
          database: pg.database,
          username: pg.username,
          password: pg.password,
        },
      }),
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => server?.stop());

  const sql = (q: string) =>
    fetch(`${server.baseUrl}/v3/sql/pg_stream/query?q=${encodeURIComponent(q)}`, {
      headers: { Authorization: `Bearer ${token}` },
    });

  it('streams a result larger than the buffer as one valid JSON document', async () => {
    const response = await sql(
      "SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 250000) AS g",
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as {
      rows: { id: number; label: string }[];
      schema: unknown[];
      meta: { rowCount: number };
    };
    expect(body.rows).toHaveLength(250_000);
    expect(body.rows[0]).toEqual({ id: 1, label: 'row 1' });
    expect(body.rows.at(-1)).toEqual({ id: 250_000, label: 'row 250000' });
    expect(body.schema).toEqual([
      { name: 'id', type: 'number' },
      { name: 'label', type: 'string' },
    ]);
    expect(body.meta.rowCount).toBe(250_000);
  });

  it('breaks a streamed response that crosses the row limit, and keeps serving', async () => {
    const response = await sql(
      "SELECT g AS id, repeat('x', 40) AS filler FROM generate_series(1, 10000000) AS g",
    );
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    const next = await sql('SELECT 1 AS x');
    expect(next.status).toBe(200);
    expect(((await next.json()) as { rows: unknown[] }).rows).toEqual([{ x: 1 }]);
  });
  it('exports every row as NDJSON, beyond the JSON row limit', async () => {
    const q = 'SELECT g AS id FROM generate_series(1, 400000) AS g';
    const response = await fetch(
      `${server.baseUrl}/v3/sql/pg_stream/query?format=ndjson&q=${encodeURIComponent(q)}`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await response.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(400_000);
    expect(JSON.parse(lines[0]!)).toEqual({ id: 1 });
    expect(JSON.parse(lines.at(-1)!)).toEqual({ id: 400_000 });
  });

  it('exports CSV by Accept header, quoting what needs quoting', async () => {
    const q = `SELECT 1 AS n, 'a,b' AS "with comma", 'say "hi"' AS quoted, NULL::text AS nothing,
      '{"k": 1}'::jsonb AS doc`;
    const response = await fetch(
      `${server.baseUrl}/v3/sql/pg_stream/query?q=${encodeURIComponent(q)}`,
      { headers: { Authorization: `Bearer ${token}`, Accept: 'text/csv' } },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await response.text()).toBe(
      'n,with comma,quoted,nothing,doc\n1,"a,b","say ""hi""",,"{""k"":1}"\n',
    );
  });

  it('answers export errors before streaming as JSON errors', async () => {
    const bad = await fetch(
      `${server.baseUrl}/v3/sql/pg_stream/query?format=ndjson&q=${encodeURIComponent('SELEC 1')}`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('sql_error');
    const unknown = await fetch(`${server.baseUrl}/v3/sql/pg_stream/query?format=xml&q=SELECT+1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(unknown.status).toBe(400);
  });
});
