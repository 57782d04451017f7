import { request as httpRequest } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
let token = '';

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

async function getQuery(query: string) {
  const response = await fetch(`${baseUrl}/v3/sql/carto_dw/query?${query}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as any,
  };
}

async function postQuery(body: string, contentType = 'application/json') {
  const response = await fetch(`${baseUrl}/v3/sql/carto_dw/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType },
    body,
  });
  return { status: response.status, body: (await response.json()) as any };
}

/**
 * Posts with node:http and keeps the response even when the server stops reading the body
 * early (as it does for an oversize body), which fetch reports as a write error.
 */
function postWithoutReadingErrors(
  body: string,
  authorization = `Bearer ${token}`,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${baseUrl}/v3/sql/carto_dw/query`, {
      method: 'POST',
      headers: {
        Authorization: authorization,
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
      },
    });
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    // The server reads the rest of an oversize body before answering, so the client never sees
    // its connection reset while still sending.
    request.on('error', reject);
    request.end(body);
  });
}

describe('SQL API', () => {
  it('runs a GET query whose spaces are encoded as +, answering rows, schema and meta', async () => {
    const sql =
      "SELECT name, population FROM demo.populated_places WHERE name = 'Madrid' AND country = 'ES'";
    const params = new URLSearchParams({ q: sql, v: '3.4', client: 'test' });
    expect(params.toString()).toContain('+');
    const { status, body, headers } = await getQuery(params.toString());
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(body.rows).toEqual([{ name: 'Madrid', population: expect.any(Number) }]);
    expect(body.rows[0].population).toBeGreaterThan(3_000_000);
    expect(body.schema).toEqual([
      { name: 'name', type: 'string' },
      { name: 'population', type: 'number' },
    ]);
    expect(body.meta).toMatchObject({ cacheHit: false, totalBytesProcessed: expect.any(String) });
  });

  it('runs POST with a JSON body and binds positional queryParameters', async () => {
    const { status, body } = await postQuery(
      JSON.stringify({
        q: 'SELECT count(*)::int AS n FROM demo.populated_places WHERE country = $1 AND population > $2',
        queryParameters: ['ES', 1_000_000],
      }),
    );
    expect(status).toBe(200);
    expect(body.rows[0].n).toBeGreaterThanOrEqual(2);
  });

  it('binds values instead of splicing them into SQL', async () => {
    const q = encodeURIComponent('SELECT count(*)::int AS n FROM demo.countries WHERE name = $1');
    const value = encodeURIComponent(JSON.stringify(["x' OR '1'='1"]));
    const { status, body } = await getQuery(`q=${q}&queryParameters=${value}`);
    expect(status).toBe(200);
    expect(body.rows[0].n).toBe(0);
  });

  it('runs POST with a form-encoded body', async () => {
    const { status, body } = await postQuery(
      new URLSearchParams({ q: 'SELECT 1 + 1 AS two' }).toString(),
      'application/x-www-form-urlencoded',
    );
    expect(status).toBe(200);
    expect(body.rows).toEqual([{ two: 2 }]);
  });

  it('normalizes column types to CARTO schema types', async () => {
    const sql = `SELECT 1::int4 AS i, 2::int8 AS b, 1.5::numeric AS n, 'x'::text AS s,
      true AS t, now() AS ts, '{"a":1}'::jsonb AS j, ST_MakePoint(1, 2) AS g,
      'NaN'::float8 AS nan`;
    const { status, body } = await getQuery(new URLSearchParams({ q: sql }).toString());
    expect(status).toBe(200);
    expect(Object.fromEntries(body.schema.map((f: any) => [f.name, f.type]))).toEqual({
      i: 'number',
      b: 'bigint',
      n: 'number',
      s: 'string',
      t: 'boolean',
      ts: 'timestamp',
      j: 'object',
      g: 'geometry',
      nan: 'number',
    });
    expect(body.rows[0]).toMatchObject({ i: 1, b: 2, n: 1.5, s: 'x', t: true, j: { a: 1 } });
    expect(body.rows[0].nan).toBeNull();
    expect(body.rows[0].ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('accepts trailing semicolons and comments but keeps semicolons inside literals', async () => {
    for (const q of [
      'SELECT 1 AS x;',
      'SELECT 1 AS x ;  \n\n',
      'SELECT 1 AS x -- last line comment',
      "/* lead */ SELECT ';' AS x /* tail */;",
    ]) {
      const { status, body } = await getQuery(new URLSearchParams({ q }).toString());
      expect(status, q).toBe(200);
      expect(body.rows).toHaveLength(1);
    }
    const literal = await getQuery(new URLSearchParams({ q: "SELECT ';' AS s" }).toString());
    expect(literal.body.rows).toEqual([{ s: ';' }]);
  });
});

describe('SQL API errors', () => {
  it('answers 400 with the warehouse message for a syntax error', async () => {
    const { status, body } = await getQuery('q=SELEC+1');
    expect(status).toBe(400);
    expect(body).toMatchObject({ status: 400, code: 'sql_error' });
    expect(body.error).toContain('syntax error at or near "SELEC"');
  });

  it('answers 400 for two statements', async () => {
    const { status, body } = await getQuery(
      new URLSearchParams({ q: 'SELECT 1; SELECT 2' }).toString(),
    );
    expect(status).toBe(400);
    expect(body.error).toMatch(/one statement/);
  });

  it('answers 400 when q is missing or empty', async () => {
    for (const query of ['', 'q=', 'q=%20%20']) {
      const { status, body } = await getQuery(query);
      expect(status).toBe(400);
      expect(body.error).toBe("Missing required parameter 'q'");
    }
  });

  it('answers 404 for an unknown connection', async () => {
    const response = await fetch(`${baseUrl}/v3/sql/nope/query?q=SELECT+1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "Connection 'nope' not found" });
  });

  it('answers 400 for a malformed JSON body', async () => {
    const { status, body } = await postQuery('{"q": "SELECT 1"');
    expect(status).toBe(400);
    expect(body.error).toMatch(/not valid JSON/);
  });

  it('answers 400 for queryParameters that are not an array', async () => {
    const { status, body } = await postQuery(
      JSON.stringify({ q: 'SELECT $1::int AS v', queryParameters: { a: 1 } }),
    );
    expect(status).toBe(400);
    expect(body.error).toMatch(/queryParameters/);
  });

  it('answers 400 when placeholders and values do not match', async () => {
    const { status, body } = await postQuery(
      JSON.stringify({ q: 'SELECT $1::int AS a, $2::int AS b', queryParameters: [1] }),
    );
    expect(status).toBe(400);
    expect(typeof body.error).toBe('string');
  });

  it('answers 413 for an oversize body, every time, without resetting the connection', async () => {
    const big = JSON.stringify({ q: `SELECT '${'x'.repeat(5 * 1024 * 1024)}' AS x` });
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const { status, body } = await postWithoutReadingErrors(big);
      expect(status).toBe(413);
      expect(JSON.parse(body)).toMatchObject({ status: 413, code: 'body_too_large' });
    }
  });

  it('answers 401 to a large body sent without a valid token, after reading it', async () => {
    const large = JSON.stringify({ q: `SELECT '${'x'.repeat(3 * 1024 * 1024)}' AS x` });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const { status, body } = await postWithoutReadingErrors(large, 'Bearer not-a-token');
      expect(status).toBe(401);
      expect(JSON.parse(body)).toMatchObject({ status: 401 });
    }
  });

  it('keeps serving after bad requests', async () => {
    const { status } = await getQuery('q=SELECT+42+AS+answer');
    expect(status).toBe(200);
  });
});
