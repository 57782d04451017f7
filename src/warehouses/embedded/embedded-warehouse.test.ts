import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseError, type WarehouseQuery } from '../driver.js';
import { EmbeddedWarehouse } from './embedded-warehouse.js';

// Opening costs 15-20 s on a new directory, so one warehouse serves every test of this file.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-embedded-'));
let warehouse: EmbeddedWarehouse;
const MAX_RESULT_BYTES = 1024 * 1024;

function run(sql: string, params?: unknown[], extra: Partial<WarehouseQuery> = {}) {
  return warehouse.query({ sql, params, timeoutMs: 30_000, ...extra });
}

async function failureOf(promise: Promise<unknown>): Promise<WarehouseError> {
  const error: unknown = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  if (!(error instanceof WarehouseError)) throw new Error(`expected a WarehouseError: ${error}`);
  return error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

beforeAll(async () => {
  warehouse = await EmbeddedWarehouse.open({
    dataDir,
    queueLimit: 3,
    queueTimeoutMs: 60_000,
    maxResultBytes: MAX_RESULT_BYTES,
  });
});

afterAll(async () => {
  await warehouse?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('EmbeddedWarehouse', () => {
  it('reports itself ready and idle once open', () => {
    expect(warehouse.isReady()).toBe(true);
    expect(warehouse.stats).toMatchObject({ state: 'ready', queued: 0, running: false });
    expect(warehouse.stats.lastOpen?.postgisVersion).toMatch(/^3\./);
  });

  it('returns numbers, bigints and non-finite values in JSON-safe form', async () => {
    const result = await run(`
      SELECT 1::int2 AS i2, 2::int4 AS i4, 1.5::float4 AS f4, 'NaN'::float8 AS nan,
             '-Infinity'::float8 AS neg_inf, 12.50::numeric AS num, 'NaN'::numeric AS num_nan,
             42::int8 AS small_i8, 9007199254740993::int8 AS big_i8, 7::oid AS oid`);

    expect(result.rows).toEqual([
      {
        i2: 1,
        i4: 2,
        f4: 1.5,
        nan: null,
        neg_inf: null,
        num: 12.5,
        num_nan: null,
        small_i8: 42,
        big_i8: '9007199254740993',
        oid: 7,
      },
    ]);
    expect(result.fields.map((field) => [field.name, field.nativeType, field.cartoType])).toEqual([
      ['i2', 'int2', 'number'],
      ['i4', 'int4', 'number'],
      ['f4', 'float4', 'number'],
      ['nan', 'float8', 'number'],
      ['neg_inf', 'float8', 'number'],
      ['num', 'numeric', 'number'],
      ['num_nan', 'numeric', 'number'],
      ['small_i8', 'int8', 'bigint'],
      ['big_i8', 'int8', 'bigint'],
      ['oid', 'oid', 'number'],
    ]);
  });

  it('returns text types as strings and booleans as booleans', async () => {
    const result = await run(`
      SELECT 'a'::text AS t, 'b'::varchar(3) AS v, 'c'::char(2) AS c, 'n'::name AS n,
             'x'::"char" AS ch, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, true AS b`);

    expect(result.rows).toEqual([
      {
        t: 'a',
        v: 'b',
        c: 'c ',
        n: 'n',
        ch: 'x',
        u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        b: true,
      },
    ]);
    expect(result.fields.map((field) => [field.nativeType, field.cartoType])).toEqual([
      ['text', 'string'],
      ['varchar', 'string'],
      ['bpchar', 'string'],
      ['name', 'string'],
      ['char', 'string'],
      ['uuid', 'string'],
      ['bool', 'boolean'],
    ]);
  });

  it('returns dates as YYYY-MM-DD and timestamps as ISO-8601 UTC instants', async () => {
    const result = await run(`
      SELECT '2024-03-30'::date AS d, '2024-03-30 23:30:00.123456'::timestamp AS ts,
             '2024-03-31 01:30:00+02'::timestamptz AS tstz, '12:34:56'::time AS t,
             '12:34:56+02'::timetz AS ttz`);

    expect(result.rows).toEqual([
      {
        d: '2024-03-30',
        ts: '2024-03-30T23:30:00.123Z',
        tstz: '2024-03-30T23:30:00.000Z',
        t: '12:34:56',
        ttz: '12:34:56+02',
      },
    ]);
    expect(result.fields.every((field) => field.cartoType === 'timestamp')).toBe(true);
  });

  it('returns json as parsed values and arrays as arrays of normalized elements', async () => {
    const result = await run(`
      SELECT '{"a": [1, "b"], "c": null}'::jsonb AS jb, '[1, 2]'::json AS j,
             ARRAY[1, NULL, 3]::int4[] AS ints, ARRAY[1.5, 'NaN']::float8[] AS floats,
             ARRAY['2024-03-31 01:30:00+02'::timestamptz] AS instants,
             ARRAY[9007199254740993]::int8[] AS bigs, ROW(1, 'a') AS rec`);

    expect(result.rows).toEqual([
      {
        jb: { a: [1, 'b'], c: null },
        j: [1, 2],
        ints: [1, null, 3],
        floats: [1.5, null],
        instants: ['2024-03-30T23:30:00.000Z'],
        bigs: ['9007199254740993'],
        rec: '(1,a)',
      },
    ]);
    expect(result.fields.map((field) => [field.nativeType, field.cartoType])).toEqual([
      ['jsonb', 'object'],
      ['json', 'object'],
      ['_int4', 'object'],
      ['_float8', 'object'],
      ['_timestamptz', 'object'],
      ['_int8', 'object'],
      ['record', 'object'],
    ]);
  });

  it('returns geometries as hex EWKB and other types as PostgreSQL prints them', async () => {
    const result = await run(`
      SELECT ST_SetSRID(ST_MakePoint(1, 2), 4326) AS geom,
             ST_SetSRID(ST_MakePoint(1, 2), 4326)::geography AS geog,
             ARRAY[ST_SetSRID(ST_MakePoint(1, 2), 4326)] AS geoms,
             '\\xdeadbeef'::bytea AS bytes, '1 day 2 hours'::interval AS span`);

    const pointHex = '0101000020E6100000000000000000F03F0000000000000040';
    expect(result.rows).toEqual([
      {
        geom: pointHex,
        geog: pointHex,
        geoms: [pointHex],
        bytes: '\\xdeadbeef',
        span: '1 day 02:00:00',
      },
    ]);
    expect(result.fields.map((field) => [field.nativeType, field.cartoType])).toEqual([
      ['geometry', 'geometry'],
      ['geography', 'geometry'],
      ['_geometry', 'object'],
      ['bytea', 'unknown'],
      ['interval', 'unknown'],
    ]);
  });

  it('binds positional parameters as values, never as SQL text', async () => {
    const injection = "x' OR '1'='1";

    const echoed = await run('SELECT $1::text AS v, $2::int4 AS n', [injection, 7]);
    const matched = await run(
      `SELECT count(*)::int4 AS n FROM (VALUES ('x'), ('y')) AS t(v) WHERE v = $1`,
      [injection],
    );

    expect(echoed.rows).toEqual([{ v: injection, n: 7 }]);
    expect(matched.rows).toEqual([{ n: 0 }]);
  });

  it("rejects a syntax error as 'syntax' with SQLSTATE 42601 and PostgreSQL's message", async () => {
    const error = await failureOf(run('SELEC 1'));

    expect(error).toMatchObject({ kind: 'syntax', sqlState: '42601' });
    expect(error.message).toBe('syntax error at or near "SELEC"');
    expect(error.cause).toMatchObject({ position: '1' });
  });

  it("rejects several statements in one text as 'syntax'", async () => {
    const error = await failureOf(run('SELECT 1; SELECT 2'));

    expect(error).toMatchObject({ kind: 'syntax', sqlState: '42601' });
  });

  it("rejects an unknown table as 'undefined_object' with SQLSTATE 42P01", async () => {
    const error = await failureOf(run('SELECT * FROM no_such_table'));

    expect(error).toMatchObject({ kind: 'undefined_object', sqlState: '42P01' });
    expect(error.message).toBe('relation "no_such_table" does not exist');
  });

  it("rejects malformed input as 'invalid_input'", async () => {
    const error = await failureOf(run(`SELECT 'abc'::int4`));

    expect(error).toMatchObject({ kind: 'invalid_input', sqlState: '22P02' });
  });

  it("rejects a geometry PostGIS cannot parse as 'invalid_input' with SQLSTATE XX000", async () => {
    const error = await failureOf(run(`SELECT ST_GeomFromText('POINT(1)') AS g`));

    expect(error).toMatchObject({ kind: 'invalid_input', sqlState: 'XX000' });
    expect(error.message).toMatch(/parse error/);
  });

  it.each([
    ['one large value', `SELECT repeat('x', 2 * 1024 * 1024) AS big`],
    ['many rows', 'SELECT n FROM generate_series(1, 200000) AS n'],
  ])("refuses a result over maxResultBytes (%s) as 'invalid_input'", async (_, sql) => {
    const restartsBefore = warehouse.stats.restarts;

    const error = await failureOf(run(sql));

    expect(error).toMatchObject({ kind: 'invalid_input', sqlState: undefined });
    expect(error.message).toMatch(/^The result is larger than 1 MiB; /);
    expect((await run(`SELECT length(repeat('x', 1000)) AS n`)).rows).toEqual([{ n: 1000 }]);
    expect(warehouse.stats.restarts).toBe(restartsBefore);
  });

  it('answers text without a statement with an empty result', async () => {
    await expect(run('-- nothing to run')).resolves.toEqual({ fields: [], rows: [] });
  });

  it('refuses explicit transactions and keeps later statements in autocommit', async () => {
    const begin = await failureOf(run('BEGIN'));
    const start = await failureOf(run('START TRANSACTION ISOLATION LEVEL SERIALIZABLE'));
    // SAVEPOINT fails with 25P01 only outside a transaction block.
    const savepoint = await failureOf(run('SAVEPOINT probe'));

    expect(begin).toMatchObject({ kind: 'invalid_input', sqlState: '0A000' });
    expect(start).toMatchObject({ kind: 'invalid_input', sqlState: '0A000' });
    expect(savepoint.sqlState).toBe('25P01');
  });

  it("stops a statement that exceeds timeoutMs with 'timeout' and runs the next on a new worker", async () => {
    const restartsBefore = warehouse.stats.restarts;
    const startedAt = performance.now();

    const slow = failureOf(run('SELECT pg_sleep(10)', [], { timeoutMs: 700 }));
    const next = run('SELECT 42 AS answer');
    const error = await slow;
    const elapsedMs = performance.now() - startedAt;

    expect(error.kind).toBe('timeout');
    expect(elapsedMs).toBeGreaterThanOrEqual(650);
    expect(elapsedMs).toBeLessThan(3_000);
    expect((await next).rows).toEqual([{ answer: 42 }]);
    expect(warehouse.stats.restarts).toBe(restartsBefore + 1);
    expect(warehouse.isReady()).toBe(true);
  });

  it('never runs a statement aborted while queued', async () => {
    await run('CREATE TABLE aborted_while_queued (id int4)');
    const controller = new AbortController();

    const blocker = run('SELECT pg_sleep(1)');
    const queued = failureOf(
      run('INSERT INTO aborted_while_queued VALUES (1)', [], { signal: controller.signal }),
    );
    controller.abort();
    await blocker;

    expect((await queued).kind).toBe('cancelled');
    expect((await run('SELECT count(*)::int4 AS n FROM aborted_while_queued')).rows).toEqual([
      { n: 0 },
    ]);
  });

  it('releases the caller of a running statement on abort without restarting the worker', async () => {
    const restartsBefore = warehouse.stats.restarts;
    const controller = new AbortController();
    const startedAt = performance.now();

    const running = failureOf(run('SELECT pg_sleep(1.5)', [], { signal: controller.signal }));
    await sleep(200);
    controller.abort();
    const error = await running;
    const releasedAfterMs = performance.now() - startedAt;

    expect(error.kind).toBe('cancelled');
    expect(releasedAfterMs).toBeLessThan(1_200);
    expect((await run('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(warehouse.stats.restarts).toBe(restartsBefore);
  });

  it("refuses statements beyond the queue limit as 'busy'", async () => {
    const blocker = run('SELECT pg_sleep(1)');
    await sleep(50);
    const queued = [1, 2, 3].map((n) => run('SELECT $1::int4 AS n', [n]));

    const error = await failureOf(run('SELECT 4'));

    expect(error.kind).toBe('busy');
    await blocker;
    expect((await Promise.all(queued)).map((result) => result.rows[0]?.n)).toEqual([1, 2, 3]);
  });

  it('keeps the main event loop responsive while a slow statement runs', async () => {
    const intervalMs = 20;
    let worstLatenessMs = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worstLatenessMs = Math.max(worstLatenessMs, now - last - intervalMs);
      last = now;
    }, intervalMs);
    const startedAt = performance.now();

    try {
      await run('SELECT pg_sleep(1.6), count(*) FROM generate_series(1, 2000000)');
    } finally {
      clearInterval(timer);
    }
    const statementMs = performance.now() - startedAt;

    expect(statementMs).toBeGreaterThan(1_500);
    expect(worstLatenessMs).toBeLessThan(500);
  });

  it('fails a statement that GEOS aborts without an error report and restarts the worker', async () => {
    // A polygon collapsed to one point inside another polygon makes GEOS throw inside
    // ST_MakeValid; this build loses the exception, so PGlite answers with neither rows nor
    // an error.
    const collapsedInside = {
      type: 'MultiPolygon',
      coordinates: [
        [
          [
            [1, 1],
            [1, 1],
            [1, 1],
            [1, 1],
          ],
        ],
        [
          [
            [0, 0],
            [4, 0],
            [4, 4],
            [0, 4],
            [0, 0],
          ],
        ],
      ],
    };
    const restartsBefore = warehouse.stats.restarts;

    const error = await failureOf(
      run('SELECT ST_MakeValid(ST_GeomFromGeoJSON($1)) AS g', [JSON.stringify(collapsedInside)]),
    );

    expect(error).toMatchObject({ kind: 'internal', sqlState: undefined });
    expect((await run('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(warehouse.stats.restarts).toBe(restartsBefore + 1);
  });

  it('keeps data across close and reopen, and closes safely twice', async () => {
    await run('CREATE TABLE kept (id int4, label text)');
    await run(`INSERT INTO kept VALUES (1, 'one'), (2, 'two')`);

    await Promise.all([warehouse.close(), warehouse.close()]);
    await warehouse.close();
    const closedError = await failureOf(run('SELECT 1'));
    warehouse = await EmbeddedWarehouse.open({ dataDir });

    expect(closedError.kind).toBe('unavailable');
    expect(warehouse.stats.lastOpen?.createdDataDir).toBe(false);
    expect((await run('SELECT id, label FROM kept ORDER BY id')).rows).toEqual([
      { id: 1, label: 'one' },
      { id: 2, label: 'two' },
    ]);
  });
});
