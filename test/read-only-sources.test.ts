/**
 * What reads a source for maps, widgets and stats runs read-only, so a source's SQL cannot
 * change data, not even through functions (`nextval`, a user function that writes), whatever
 * role asks; the SQL API keeps writing. On the embedded warehouse and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { createPostgresConnection } from './support/postgres-demo.js';
import { runAsSuperuser } from './support/postgres.js';
import {
  embeddedTarget,
  postgresTarget,
  uniqueName,
  type WidgetTarget,
} from './support/widget-targets.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const postgres = inject('postgres');
let token = '';

async function call(path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

const sql = (connection: string, q: string) => call(`/v3/sql/${connection}/query`, { q });

/**
 * `grants` lets the connection's role write where a test needs it to (PostgreSQL fixtures
 * belong to the superuser): so a refusal below comes from read-only mode, not permissions.
 */
function suite(
  name: string,
  target: () => WidgetTarget,
  grants: (table: string, sequence: string) => string[] = () => [],
) {
  describe(`sources read-only on ${name}`, () => {
    const table = uniqueName('ro_points');
    const sequence = `${table}_seq`;
    const writer = `${table}_writer`;
    let connection = '';

    beforeAll(async () => {
      connection = target().connectionName;
      await target().setUp(
        [
          `CREATE SEQUENCE public.${sequence}`,
          `CREATE TABLE public.${table} AS SELECT 1 AS id,
             ST_SetSRID(ST_MakePoint(10, 10), 4326) AS geom`,
          `CREATE FUNCTION public.${writer}() RETURNS int LANGUAGE sql VOLATILE AS
             'INSERT INTO public.${table} (id, geom) VALUES (99, NULL) RETURNING id'`,
          ...grants(table, sequence),
        ],
        [`public.${table}`],
      );
    });

    const sourceSql = (expression: string) =>
      `SELECT ${expression} AS n, geom FROM public.${table}`;

    it('refuses nextval and writing functions in map sources, with a 400', async () => {
      for (const expression of [`nextval('public.${sequence}')`, `public.${writer}()`]) {
        const q = encodeURIComponent(sourceSql(expression));
        const answer = await call(`/v3/maps/${connection}/query?q=${q}&format=tilejson`);
        expect(answer.status, JSON.stringify(answer.body)).toBe(400);
        expect(answer.body.error).toMatch(/read-only transaction/);
      }
    });

    it('refuses them in widget models too', async () => {
      const answer = await call(`/v3/sql/${connection}/model/formula`, {
        source: sourceSql(`nextval('public.${sequence}')`),
        type: 'query',
        params: { column: 'n', operation: 'sum' },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body.error).toMatch(/read-only transaction/);
    });

    it('refuses large objects, pg_notify and escaped names, which read-only allows', async () => {
      const countObjects = async () =>
        (await sql(connection, 'SELECT count(*)::int AS n FROM pg_catalog.pg_largeobject_metadata'))
          .body.rows[0].n as number;
      const before = await countObjects();
      for (const [expression, refusal] of [
        ["lo_from_bytea(0, 'x'::bytea)", /may not call lo_from_bytea/],
        ['pg_catalog."lo_create" (0)', /may not call lo_create/],
        ["pg_notify('graticule', 'x')", /may not call pg_notify/],
        ['U&"\\006co_create"(0)', /Unicode-escaped/],
      ] as const) {
        const q = encodeURIComponent(sourceSql(expression));
        const answer = await call(`/v3/maps/${connection}/query?q=${q}&format=tilejson`);
        expect(answer.status, JSON.stringify(answer.body)).toBe(400);
        expect(answer.body.error).toMatch(refusal);
      }
      const widget = await call(`/v3/sql/${connection}/model/formula`, {
        source: sourceSql("lo_from_bytea(0, 'x'::bytea)"),
        type: 'query',
        params: { column: 'n', operation: 'count' },
      });
      expect(widget.status, JSON.stringify(widget.body)).toBe(400);
      expect(await countObjects()).toBe(before);
    });

    it('changed nothing, and the SQL API still writes', async () => {
      const rows = await sql(connection, `SELECT count(*)::int AS n FROM public.${table}`);
      expect(rows.body.rows).toEqual([{ n: 1 }]);
      const next = await sql(connection, `SELECT nextval('public.${sequence}')::int AS n`);
      expect(next.status).toBe(200);
      expect(next.body.rows).toEqual([{ n: 1 }]);
      // A read-only source after a write, and a write after it: the mode follows the statement.
      const q = encodeURIComponent(`SELECT id, geom FROM public.${table}`);
      expect((await call(`/v3/maps/${connection}/query?q=${q}&format=tilejson`)).status).toBe(200);
      expect((await sql(connection, `SELECT public.${writer}() AS id`)).status).toBe(200);
    });
  });
}

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

suite('the embedded warehouse', () => embeddedTarget(baseUrl, () => token));

if (postgres) {
  const connectionName = uniqueName('ro_pg').toLowerCase();
  beforeAll(async () => {
    await createPostgresConnection(baseUrl, token, postgres, connectionName);
  });
  afterAll(async () => {
    await fetch(`${baseUrl}/v3/connections/${connectionName}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
    });
  });
  suite(
    'PostgreSQL',
    () => postgresTarget(postgres, connectionName),
    (table, sequence) => [
      `GRANT USAGE, UPDATE ON SEQUENCE public.${sequence} TO ${postgres.username}`,
      `GRANT INSERT ON public.${table} TO ${postgres.username}`,
    ],
  );
}

if (postgres) {
  describe('a source that turns read-only off for its pooled session', () => {
    const connectionName = uniqueName('ro_one').toLowerCase();
    const table = uniqueName('ro_flip');
    const flip = `${table}_flip`;
    const sequence = `${table}_seq`;
    const source = (expression: string) =>
      encodeURIComponent(`SELECT ${expression} AS n, geom FROM public.${table}`);

    beforeAll(async () => {
      const user = postgres.username;
      for (const statement of [
        `CREATE TABLE public.${table} AS SELECT 1 AS id,
           ST_SetSRID(ST_MakePoint(1, 1), 4326) AS geom`,
        `GRANT SELECT ON public.${table} TO ${user}`,
        `CREATE SEQUENCE public.${sequence}`,
        `GRANT USAGE, UPDATE ON SEQUENCE public.${sequence} TO ${user}`,
        // Its text names no session-changing function: only the server can tell what it did.
        `CREATE FUNCTION public.${flip}() RETURNS int LANGUAGE plpgsql AS $$ BEGIN
           PERFORM set_config('default_transaction_read_only', 'off', false); RETURN 1; END $$`,
      ]) {
        await runAsSuperuser(postgres, statement);
      }
      const created = await fetch(`${baseUrl}/v3/connections`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          name: connectionName,
          provider_id: 'postgres',
          config: {
            host: postgres.host,
            port: postgres.port,
            database: postgres.database,
            username: postgres.username,
            password: postgres.password,
            // One session, so the next source runs where the first one left its mark.
            maxConnections: 1,
          },
        }),
      });
      expect(created.status).toBe(201);
    });

    afterAll(async () => {
      await fetch(`${baseUrl}/v3/connections/${connectionName}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${token}` },
      });
    });

    it('leaves the next source read-only all the same', async () => {
      for (const [expression, status] of [
        [`public.${flip}()`, 200],
        // Refused before it runs: an escaped name could spell any function.
        [`U&"\\0073et_config"('default_transaction_read_only', 'off', false)`, 400],
      ] as const) {
        const flipped = await call(
          `/v3/maps/${connectionName}/query?q=${source(expression)}&format=tilejson`,
        );
        expect(flipped.status, JSON.stringify(flipped.body)).toBe(status);
        const write = await call(
          `/v3/maps/${connectionName}/query?q=${source(`nextval('public.${sequence}')`)}` +
            '&format=tilejson',
        );
        expect(write.status, JSON.stringify(write.body)).toBe(400);
        expect(write.body.error).toMatch(/read-only transaction/);
      }
      const [state] = await runAsSuperuser<{ is_called: boolean }>(
        postgres,
        `SELECT is_called FROM public.${sequence}`,
      );
      expect(state?.is_called).toBe(false);
    });
  });
}
