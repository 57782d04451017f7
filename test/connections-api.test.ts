import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { runCli } from './support/cli.js';
import { describeWithPostgres, pollUntil, runAsSuperuser } from './support/postgres.js';
import { findFreePort, startServerProcess, type ServerProcess } from './support/server-process.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const dataDir = inject('dataDir');

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

async function call(token: string, method: string, url: string, body?: unknown): Promise<Reply> {
  const response = await fetch(url, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: text ? JSON.parse(text) : null,
  };
}

describeWithPostgres('Connections API on PostgreSQL/PostGIS', (pg) => {
  let token = '';
  let otherToken = '';
  const api = (method: string, route: string, body?: unknown) =>
    call(token, method, `${baseUrl}${route}`, body);
  const mainBody = () => ({
    name: 'pg_main',
    provider_id: 'postgres',
    config: {
      host: pg.host,
      port: pg.port,
      database: pg.database,
      username: pg.username,
      password: pg.password,
    },
  });

  beforeAll(async () => {
    await runAsSuperuser(
      pg,
      `DROP SCHEMA IF EXISTS connapi CASCADE;
       CREATE SCHEMA connapi AUTHORIZATION ${pg.username};
       CREATE TABLE connapi.places (id int PRIMARY KEY, name text, geom geometry(Point, 4326));
       INSERT INTO connapi.places
         VALUES (1, 'Madrid', ST_SetSRID(ST_MakePoint(-3.70, 40.42), 4326)),
                (2, 'Lisbon', ST_SetSRID(ST_MakePoint(-9.14, 38.72), 4326));
       ALTER TABLE connapi.places OWNER TO ${pg.username};`,
    );
    token = await fetchToken(baseUrl, clientId, clientSecret);
    const created = runCli(['accounts', 'create', '--name', 'Second tenant', '--json'], {
      dataDir,
    });
    expect(created.status, created.stderr).toBe(0);
    const second = JSON.parse(created.stdout) as { clientId: string; clientSecret: string };
    otherToken = await fetchToken(baseUrl, second.clientId, second.clientSecret);
  });

  afterAll(async () => {
    for (const name of ['pg_main', 'pg_unreachable', 'pg_wrong']) {
      await api('DELETE', `/v3/connections/${name}`);
    }
    await call(otherToken, 'DELETE', `${baseUrl}/v3/connections/pg_main`);
  });

  it('creates a connection from the documented body, never showing the password', async () => {
    const created = await api('POST', '/v3/connections', mainBody());
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      name: 'pg_main',
      provider_id: 'postgres',
      config: { host: pg.host, port: pg.port, database: pg.database, username: pg.username },
    });
    expect(created.body.id).toMatch(/^conn_/);
    expect(created.text).not.toContain(pg.password);

    const list = await api('GET', '/v3/connections');
    expect(list.status).toBe(200);
    expect(list.body.data.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['carto_dw', 'pg_main']),
    );
    expect(list.text).not.toContain(pg.password);
    const byId = await api('GET', `/v3/connections/${created.body.id}`);
    const byName = await api('GET', '/v3/connections/pg_main');
    expect(byId.body).toEqual(created.body);
    expect(byName.body).toEqual(created.body);
  });

  it('tests the connection: server version, PostGIS and capabilities', async () => {
    const tested = await api('POST', '/v3/connections/pg_main/test');
    expect(tested.status, tested.text).toBe(200);
    expect(tested.body.serverVersion).toMatch(/PostgreSQL 15/);
    expect(tested.body.postgisVersion).toMatch(/^3\./);
    expect(tested.body.capabilities).toMatchObject({ nativeMvt: true, cancellable: true });

    const unsaved = await api('POST', '/v3/connections/test', { ...mainBody(), name: 'scratch' });
    expect(unsaved.status, unsaved.text).toBe(200);
    expect(unsaved.body.postgisVersion).toMatch(/^3\./);
  });

  it('runs SQL through the connection, GET cacheable and POST not', async () => {
    const q = encodeURIComponent('SELECT id, name FROM connapi.places ORDER BY id');
    const got = await api('GET', `/v3/sql/pg_main/query?q=${q}`);
    expect(got.status, got.text).toBe(200);
    expect(got.body.rows).toEqual([
      { id: 1, name: 'Madrid' },
      { id: 2, name: 'Lisbon' },
    ]);
    expect(got.body.schema).toEqual([
      { name: 'id', type: 'number' },
      { name: 'name', type: 'string' },
    ]);
    expect(got.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);

    const posted = await api('POST', '/v3/sql/pg_main/query', {
      q: 'SELECT count(*) AS n FROM connapi.places',
    });
    expect(posted.status, posted.text).toBe(200);
    expect(posted.body.rows).toEqual([{ n: 2 }]);
    expect(posted.headers.get('cache-control')).toBe('no-store');
  });

  it('answers 400 too_many_rows for a 10M-row query and keeps serving', async () => {
    const q = encodeURIComponent('SELECT g FROM generate_series(1, 10000000) AS g');
    const tooMany = await api('GET', `/v3/sql/pg_main/query?q=${q}`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.code).toBe('too_many_rows');
    expect(tooMany.headers.get('cache-control')).not.toMatch(/max-age/);
    const next = await api('GET', '/v3/sql/pg_main/query?q=SELECT+1+AS+x');
    expect(next.body.rows).toEqual([{ x: 1 }]);
  });

  it('binds parameters on PostgreSQL and rejects a count mismatch with 400', async () => {
    const run = (q: string, params: unknown[]) =>
      api('POST', '/v3/sql/pg_main/query', { q, queryParameters: params });
    const injected = await run('SELECT count(*)::int AS n FROM connapi.places WHERE name = $1', [
      "x' OR '1'='1",
    ]);
    expect(injected.body.rows).toEqual([{ n: 0 }]);
    const literal = await run("SELECT '$1' AS lit, $1::int AS v", [7]);
    expect(literal.body.rows).toEqual([{ lit: '$1', v: 7 }]);
    const tooFew = await run('SELECT $1::int + $2::int AS s', [1]);
    expect(tooFew.status).toBe(400);
    const tooMany = await run('SELECT $1::int AS s', [1, 2, 3]);
    expect(tooMany.status).toBe(400);
    const named = await run('SELECT 1', { a: 1 } as unknown as unknown[]);
    expect(named.status).toBe(400);
    expect(named.body.error).toMatch(/queryParameters/);
  });

  it('accepts trailing semicolons and comments in SQL and query sources', async () => {
    const variants = [
      'SELECT id, geom FROM connapi.places;',
      'SELECT id, geom FROM connapi.places ;  \n\n',
      'SELECT id, geom FROM connapi.places -- last line comment',
      '/* lead */ SELECT id, geom FROM connapi.places /* tail */;',
    ];
    for (const q of variants) {
      const rows = await api('POST', '/v3/sql/pg_main/query', { q });
      expect(rows.status, q).toBe(200);
      expect(rows.body.rows).toHaveLength(2);
      const source = await api('POST', '/v3/maps/pg_main/query', { q, format: 'tilejson' });
      expect(source.status, q).toBe(200);
      expect(source.body.tilestats.layers[0].count).toBe(2);
    }
    const two = await api('POST', '/v3/maps/pg_main/query', { q: 'SELECT 1; SELECT 2' });
    expect(two.status).toBe(400);
  });

  it('refuses COPY with 400 instead of failing the server, in queries and jobs', async () => {
    for (const q of ['COPY connapi.places TO STDOUT', 'copy connapi.places from stdin']) {
      const refused = await api('POST', '/v3/sql/pg_main/query', { q });
      expect(refused.status, q).toBe(400);
      expect(refused.body.error).toMatch(/COPY is not supported/);
    }
    const job = await api('POST', '/v3/sql/pg_main/job', { query: 'COPY (SELECT 1) TO STDOUT' });
    expect(job.status).toBe(200);
    let status = job.body.status;
    for (let i = 0; i < 100 && (status === 'pending' || status === 'running'); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await api('GET', `/v3/sql/pg_main/job/${job.body.externalId}`)).body.status;
    }
    expect(status).toBe('failure');
    expect((await api('GET', '/v3/sql/pg_main/query?q=SELECT+1+AS+x')).body.rows).toEqual([
      { x: 1 },
    ]);
  });

  it('lets the client lower the lifetime of a GET answer, not below 10 s', async () => {
    const lowered = async (header: string) => {
      const response = await fetch(`${baseUrl}/v3/sql/pg_main/query?q=SELECT+1+AS+x`, {
        headers: { Authorization: `Bearer ${token}`, 'Cache-Control': header },
      });
      await response.arrayBuffer();
      return response.headers.get('cache-control');
    };
    expect(await lowered('max-age=300')).toBe('private, max-age=300');
    expect(await lowered('max-age=1')).toBe('private, max-age=10');
  });

  it('serves TileJSON and tiles from the connection', async () => {
    const instantiated = await api(
      'GET',
      '/v3/maps/pg_main/table?name=connapi.places&format=tilejson',
    );
    expect(instantiated.status, instantiated.text).toBe(200);
    const template: string = instantiated.body.tiles[0];
    const tileUrl = template.replace('{z}', '0').replace('{x}', '0').replace('{y}', '0');
    const tile = await fetch(tileUrl, { headers: { Authorization: `Bearer ${token}` } });
    expect(tile.status).toBe(200);
    expect((await tile.arrayBuffer()).byteLength).toBeGreaterThan(0);
  });

  it("hides one account's connections from another (404, not 403)", async () => {
    const other = (method: string, route: string, body?: unknown) =>
      call(otherToken, method, `${baseUrl}${route}`, body);
    expect((await other('GET', '/v3/connections/pg_main')).status).toBe(404);
    const own = await api('GET', '/v3/connections/pg_main');
    expect((await other('GET', `/v3/connections/${own.body.id}`)).status).toBe(404);
    expect((await other('GET', '/v3/sql/pg_main/query?q=SELECT+1')).status).toBe(404);
    expect((await other('GET', '/v3/maps/pg_main/table?name=connapi.places')).status).toBe(404);
    expect((await other('POST', '/v3/connections/pg_main/test')).status).toBe(404);
    expect((await other('DELETE', '/v3/connections/pg_main')).status).toBe(404);
    const list = await other('GET', '/v3/connections');
    expect(list.body.data.map((c: { name: string }) => c.name)).toEqual(['carto_dw']);
    // Names are unique per account only.
    const theirs = await other('POST', '/v3/connections', mainBody());
    expect(theirs.status, theirs.text).toBe(201);
  });

  it('rejects bad bodies with the field named', async () => {
    const without = (key: string) => {
      const body = mainBody();
      delete (body.config as Record<string, unknown>)[key];
      return body.config;
    };
    const cases: [unknown, number, RegExp][] = [
      [mainBody(), 409, /already exists/],
      [{ ...mainBody(), name: 'carto_dw' }, 400, /reserved/],
      [{ ...mainBody(), name: 'Bad Name' }, 400, /'name'/],
      [{ ...mainBody(), name: '_x' }, 400, /'name'/],
      [{ ...mainBody(), provider_id: 'oracle' }, 400, /provider_id/],
      [{ name: 'pg_x', provider_id: 'postgres' }, 400, /'config'/],
      [{ ...mainBody(), name: 'pg_x', config: without('database') }, 400, /config\.database/],
      [{ ...mainBody(), name: 'pg_x', config: without('host') }, 400, /config\.host/],
      [{ ...mainBody(), name: 'pg_x', config: { ...mainBody().config, port: 70000 } }, 400, /port/],
      [
        { ...mainBody(), name: 'pg_x', config: { ...mainBody().config, sslmode: 'verify-full' } },
        400,
        /config\.ca/,
      ],
      // A socket directory would reach the database with local (trust or peer) authentication.
      [
        { ...mainBody(), name: 'pg_x', config: { ...mainBody().config, host: '/tmp' } },
        400,
        /host/,
      ],
      [
        { ...mainBody(), name: 'pg_x', config: { ...mainBody().config, schema: 'x\t-c\tx=y' } },
        400,
        /control characters/,
      ],
      [{ ...mainBody(), name: 'pg_x', config: { ...mainBody().config, ca: 'AAAA' } }, 400, /PEM/],
      [{ ...mainBody(), name: 'conn_0123456789abcdef' }, 400, /connection ids/],
      [{ ...mainBody(), name: 123 }, 400, /not a string/],
    ];
    for (const [body, status, message] of cases) {
      const answer = await api('POST', '/v3/connections', body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.error).toMatch(message);
    }
    for (const config of [{ host: '' }, { database: ' ' }, { password: '' }]) {
      const patched = await api('PATCH', '/v3/connections/pg_main', { config });
      expect(patched.status, JSON.stringify(config)).toBe(400);
    }
    expect((await api('PATCH', '/v3/connections/carto_dw', { name: 'x' })).status).toBe(403);
    expect((await api('DELETE', '/v3/connections/carto_dw')).status).toBe(403);
  });

  it('names an unreachable host quickly, and a wrong password without showing it', async () => {
    const closedPort = await findFreePort();
    const unreachable = { ...mainBody(), name: 'pg_unreachable' };
    unreachable.config = { ...unreachable.config, port: closedPort };
    expect((await api('POST', '/v3/connections', unreachable)).status).toBe(201);
    const failed = await api('GET', '/v3/sql/pg_unreachable/query?q=SELECT+1');
    expect(failed.status).toBe(502);
    expect(failed.body.error).toContain(`127.0.0.1:${closedPort}`);

    const wrongPassword = 'not-the-password-8d1f';
    const wrong = { ...mainBody(), name: 'pg_wrong' };
    wrong.config = { ...wrong.config, password: wrongPassword };
    expect((await api('POST', '/v3/connections', wrong)).status).toBe(201);
    const refused = await api('GET', '/v3/sql/pg_wrong/query?q=SELECT+1');
    expect(refused.status).toBe(502);
    expect(refused.body.code).toBe('warehouse_auth_failed');
    expect(refused.text).not.toContain(wrongPassword);

    // Fixing the password through PATCH takes effect on the next request.
    const fixed = await api('PATCH', '/v3/connections/pg_wrong', {
      config: { password: pg.password },
    });
    expect(fixed.status, fixed.text).toBe(200);
    expect((await api('GET', '/v3/sql/pg_wrong/query?q=SELECT+1+AS+x')).body.rows).toEqual([
      { x: 1 },
    ]);
  });

  it('deletes a connection', async () => {
    expect((await api('DELETE', '/v3/connections/pg_wrong')).status).toBe(204);
    expect((await api('GET', '/v3/connections/pg_wrong')).status).toBe(404);
    expect((await api('GET', '/v3/sql/pg_wrong/query?q=SELECT+1')).status).toBe(404);
  });

  it('keeps the metadata store private to its owner', () => {
    for (const file of ['metadata.sqlite', 'metadata.sqlite-wal', 'metadata.sqlite-shm']) {
      const full = path.join(dataDir, file);
      if (existsSync(full)) expect(statSync(full).mode & 0o077, file).toBe(0);
    }
  });

  it('keeps passwords encrypted in the metadata store', () => {
    for (const file of ['metadata.sqlite', 'metadata.sqlite-wal']) {
      const full = path.join(dataDir, file);
      if (existsSync(full)) expect(readFileSync(full).includes(pg.password)).toBe(false);
    }
  });
});

describeWithPostgres('Connections through the CLI, and secrets in logs', (pg) => {
  let server: ServerProcess;
  const password = pg.password;

  beforeAll(async () => {
    server = await startServerProcess({
      loadDemoData: false,
      env: { GRATICULE_LOG_LEVEL: 'debug' },
    });
  });
  afterAll(async () => server?.stop());

  it('adds, lists, tests and removes a connection; the server follows within 1 s', async () => {
    const add = runCli(
      [
        'connections',
        'add',
        'pg_cli',
        '--host',
        pg.host,
        '--port',
        String(pg.port),
        '--database',
        pg.database,
        '--username',
        pg.username,
        '--password-stdin',
      ],
      { dataDir: server.dataDir, input: `${password}\n` },
    );
    expect(add.status, add.stderr).toBe(0);
    const list = runCli(['connections', 'list', '--json'], { dataDir: server.dataDir });
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).map((c: { name: string }) => c.name)).toContain('pg_cli');
    expect(list.stdout).not.toContain(password);
    const tested = runCli(['connections', 'test', 'pg_cli'], { dataDir: server.dataDir });
    expect(tested.status, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/PostGIS: 3\./);

    const token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    const answer = await call(
      token,
      'GET',
      `${server.baseUrl}/v3/sql/pg_cli/query?q=SELECT+2+AS+x`,
    );
    expect(answer.body.rows).toEqual([{ x: 2 }]);

    const missing = runCli(['connections', 'test', 'nope'], { dataDir: server.dataDir });
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe("error: Connection 'nope' not found");

    const removed = runCli(['connections', 'remove', 'pg_cli'], { dataDir: server.dataDir });
    expect(removed.status, removed.stderr).toBe(0);
    // A server trusts a name it resolved for up to a second before reading the store again.
    const gone = async () =>
      (await call(token, 'GET', `${server.baseUrl}/v3/sql/pg_cli/query?q=SELECT+1`)).status === 404;
    expect(await pollUntil(gone, 3_000)).toBe(true);
  });

  it('never writes a connection password to the log, even at debug level', async () => {
    const token = await fetchToken(server.baseUrl, server.clientId, server.clientSecret);
    const body = {
      name: 'pg_logged',
      provider_id: 'postgres',
      config: {
        host: pg.host,
        port: pg.port,
        database: pg.database,
        username: pg.username,
        password,
      },
    };
    expect((await call(token, 'POST', `${server.baseUrl}/v3/connections`, body)).status).toBe(201);
    await call(token, 'GET', `${server.baseUrl}/v3/sql/pg_logged/query?q=SELECT+1`);
    await call(token, 'PATCH', `${server.baseUrl}/v3/connections/pg_logged`, {
      config: { password: 'wrong-one-7c2e' },
    });
    await call(token, 'GET', `${server.baseUrl}/v3/sql/pg_logged/query?q=SELECT+1`);
    expect(server.output()).toContain('pg_logged');
    expect(server.output()).not.toContain(password);
    expect(server.output()).not.toContain('wrong-one-7c2e');
  });

  it('refuses to start in production without an encryption key', () => {
    const run = runCli(['serve'], {
      dataDir: server.dataDir,
      env: { GRATICULE_ENV: 'production', PORT: '0', GRATICULE_DEMO_DATA: 'false' },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/GRATICULE_ENCRYPTION_KEY is required/);
  });
});
