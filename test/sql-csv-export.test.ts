/**
 * CSV export on PostgreSQL connections is written by the server (COPY): the same bytes as the
 * rows read and written by Graticule (the path bind values, other statements, other types and
 * the embedded warehouse take), whatever the values hold.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchToken, sharedServer } from './support/api.js';
import { createPostgresConnection } from './support/postgres-demo.js';
import { runAsSuperuser } from './support/postgres.js';
import { uniqueName } from './support/widget-targets.js';

const { baseUrl, clientId, clientSecret } = sharedServer();
const postgres = inject('postgres');
let token = '';

async function exportCsv(connection: string, q: string, queryParameters?: unknown[]) {
  const response = await fetch(`${baseUrl}/v3/sql/${connection}/query`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'text/csv',
    },
    body: JSON.stringify({ q, ...(queryParameters ? { queryParameters } : {}) }),
  });
  return { status: response.status, text: await response.text() };
}

const VALUES = `SELECT * FROM (VALUES
  (1, 'plain', true, 1.5::float8, 10::int8),
  (2, '', false, 'NaN'::float8, -9007199254740993::int8),
  (3, NULL, NULL, NULL::float8, NULL::int8),
  (4, 'comma, here', true, 'Infinity'::float8, 0::int8),
  (5, 'quote "x"', false, 497.6780384708335::float8, 1::int8),
  (6, E'line\\nbreak\\r\\nand more', true, -0.25::float8, 2::int8),
  (7, '  padded  ', true, 12345.678::float8, 3::int8),
  (8, E'back\\\\slash', false, 3::float8, 4::int8),
  (9, 'minus zero', true, '-0'::float8, -5::int8)
) AS v(id, name, flag, value, big) ORDER BY id`;

const EXPECTED =
  'id,name,flag,value,big\n' +
  '1,plain,true,1.5,10\n' +
  '2,"",false,,-9007199254740993\n' +
  '3,,,,\n' +
  '4,"comma, here",true,,0\n' +
  '5,"quote ""x""",false,497.6780384708335,1\n' +
  '6,"line\nbreak\r\nand more",true,-0.25,2\n' +
  '7,  padded  ,true,12345.678,3\n' +
  '8,back\\slash,false,3,4\n' +
  '9,minus zero,true,0,-5\n';

beforeAll(async () => {
  token = await fetchToken(baseUrl, clientId, clientSecret);
});

describe('CSV export', () => {
  it('writes the same bytes on the embedded warehouse', async () => {
    const answer = await exportCsv('carto_dw', VALUES);
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(EXPECTED);
  });

  it('quotes a lone backslash-dot in a one-column export, as PostgreSQL does', async () => {
    const answer = await exportCsv('carto_dw', "SELECT '\\.' AS v");
    expect(answer.text).toBe('v\n"\\."\n');
  });
});

describe.runIf(postgres)('CSV export on PostgreSQL', () => {
  const connection = uniqueName('csv_pg').toLowerCase();
  const table = uniqueName('csv_slow');

  beforeAll(async () => {
    await createPostgresConnection(baseUrl, token, postgres!, connection);
    await runAsSuperuser(postgres!, `CREATE TABLE public.${table} AS SELECT 1 AS id`);
    await runAsSuperuser(postgres!, `GRANT SELECT ON public.${table} TO ${postgres!.username}`);
  });

  afterAll(async () => {
    await runAsSuperuser(postgres!, `DROP TABLE IF EXISTS public.${table}`);
    await fetch(`${baseUrl}/v3/connections/${connection}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
    });
  });

  it('is written by the server with the bytes Graticule writes', async () => {
    const copied = await exportCsv(connection, VALUES);
    expect(copied.status).toBe(200);
    expect(copied.text).toBe(EXPECTED);
    // A bind value keeps the rows on Graticule's side: the same answer.
    const read = await exportCsv(connection, VALUES.replace('ORDER BY', 'WHERE $1 ORDER BY'), [
      true,
    ]);
    expect(read.text).toBe(EXPECTED);
    const one = await exportCsv(connection, "SELECT '\\.' AS v");
    expect(one.text).toBe('v\n"\\."\n');
  });

  it('runs as a COPY on the server while it streams', async () => {
    const slow = exportCsv(connection, `SELECT t.id FROM public.${table} t, pg_sleep(1.5)`);
    let seen: string[] = [];
    for (let i = 0; i < 40 && seen.length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const rows = await runAsSuperuser<{ query: string }>(
        postgres!,
        "SELECT query FROM pg_stat_activity WHERE query LIKE 'COPY (%' AND pid <> pg_backend_pid()",
      );
      seen = rows.map((row) => row.query);
    }
    expect(seen.length).toBe(1);
    expect(await slow).toEqual({ status: 200, text: 'id\n1\n' });
  });

  it('reports a bad statement as an error answer, not a broken stream', async () => {
    const answer = await exportCsv(connection, 'SELECT no_such_column FROM pg_class');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ status: 400 });
  });
});
