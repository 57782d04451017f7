import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithPostgres,
  driverOptionsFor,
  runAsSuperuser,
} from '../../../test/support/postgres.js';
import { EmbeddedWarehouse } from '../embedded/embedded-warehouse.js';
import { PostgresDriver } from './postgres-driver.js';

const POINT_HEX = '0101000020E6100000000000000000F03F0000000000000040';

describeWithPostgres('PostgresDriver values and types', (info) => {
  let driver: PostgresDriver;
  const run = (sql: string, params?: unknown[]) => driver.query({ sql, params, timeoutMs: 30_000 });
  const typesOf = (result: Awaited<ReturnType<typeof run>>) =>
    result.fields.map((field) => [field.name, field.nativeType, field.cartoType]);

  beforeAll(() => {
    driver = new PostgresDriver(driverOptionsFor(info));
  });

  afterAll(async () => {
    await driver?.close();
  });

  it('keeps int8 and numeric digits a double cannot hold as exact strings', async () => {
    const result = await run(`
      SELECT 9007199254740993::int8 AS big_i8, 42::int8 AS small_i8,
             12345678901234567890.123456789::numeric AS big_num, 12.50::numeric AS num,
             'NaN'::numeric AS num_nan, 'Infinity'::float8 AS inf, '-Infinity'::float8 AS neg_inf,
             'NaN'::float4 AS f4_nan, 1.5::float4 AS f4, 7::int2 AS i2, 8::int4 AS i4`);

    expect(result.rows).toEqual([
      {
        big_i8: '9007199254740993',
        small_i8: 42,
        big_num: '12345678901234567890.123456789',
        num: 12.5,
        num_nan: null,
        inf: null,
        neg_inf: null,
        f4_nan: null,
        f4: 1.5,
        i2: 7,
        i4: 8,
      },
    ]);
    expect(typesOf(result)).toEqual([
      ['big_i8', 'int8', 'bigint'],
      ['small_i8', 'int8', 'bigint'],
      ['big_num', 'numeric', 'number'],
      ['num', 'numeric', 'number'],
      ['num_nan', 'numeric', 'number'],
      ['inf', 'float8', 'number'],
      ['neg_inf', 'float8', 'number'],
      ['f4_nan', 'float4', 'number'],
      ['f4', 'float4', 'number'],
      ['i2', 'int2', 'number'],
      ['i4', 'int4', 'number'],
    ]);
  });

  it('returns instants as ISO-8601 UTC whatever the offset, and dates as YYYY-MM-DD', async () => {
    const result = await run(`
      SELECT '2024-03-31 01:30:00+02'::timestamptz AS plus_two,
             '2024-03-30 18:00:00.123456-05:30'::timestamptz AS minus_five_thirty,
             '2024-03-30 23:30:00.5'::timestamp AS no_zone, '2024-03-30'::date AS d,
             'infinity'::timestamptz AS forever`);

    expect(result.rows).toEqual([
      {
        plus_two: '2024-03-30T23:30:00.000Z',
        minus_five_thirty: '2024-03-30T23:30:00.123Z',
        no_zone: '2024-03-30T23:30:00.500Z',
        d: '2024-03-30',
        forever: 'infinity',
      },
    ]);
    expect(result.fields.every((field) => field.cartoType === 'timestamp')).toBe(true);
  });

  it('returns the same instants whatever the session TimeZone is', async () => {
    const result = await run(`
      SELECT set_config('TimeZone', 'Asia/Kolkata', false) AS zone,
             '2024-03-30 23:30:00+00'::timestamptz AS instant`);

    expect(result.rows[0]).toMatchObject({ instant: '2024-03-30T23:30:00.000Z' });
  });

  it('parses json and jsonb, and arrays into arrays of normalized elements', async () => {
    const result = await run(`
      SELECT '{"a": [1, "b"], "c": null}'::jsonb AS jb, '[1, 2]'::json AS j,
             ARRAY[1, NULL, 3]::int4[] AS ints,
             ARRAY['a', NULL, 'b,c', 'd"e', 'NULL']::text[] AS texts,
             ARRAY[1.5, 'NaN']::float8[] AS floats, ARRAY[9007199254740993]::int8[] AS bigs,
             ARRAY['2024-03-31 01:30:00+02'::timestamptz] AS instants,
             ARRAY[[1, 2], [3, 4]]::int4[] AS matrix, '{}'::int4[] AS empty,
             ARRAY[true, false] AS flags, ROW(1, 'a') AS rec`);

    expect(result.rows).toEqual([
      {
        jb: { a: [1, 'b'], c: null },
        j: [1, 2],
        ints: [1, null, 3],
        texts: ['a', null, 'b,c', 'd"e', 'NULL'],
        floats: [1.5, null],
        bigs: ['9007199254740993'],
        instants: ['2024-03-30T23:30:00.000Z'],
        matrix: [
          [1, 2],
          [3, 4],
        ],
        empty: [],
        flags: [true, false],
        rec: '(1,a)',
      },
    ]);
    expect(typesOf(result).map(([, native, carto]) => [native, carto])).toEqual([
      ['jsonb', 'object'],
      ['json', 'object'],
      ['_int4', 'object'],
      ['_text', 'object'],
      ['_float8', 'object'],
      ['_int8', 'object'],
      ['_timestamptz', 'object'],
      ['_int4', 'object'],
      ['_int4', 'object'],
      ['_bool', 'object'],
      ['record', 'object'],
    ]);
  });

  it('returns geometry and geography as hex EWKB, and uuid, bytea and booleans', async () => {
    const result = await run(`
      SELECT ST_SetSRID(ST_MakePoint(1, 2), 4326) AS geom,
             ST_SetSRID(ST_MakePoint(1, 2), 4326)::geography AS geog,
             ARRAY[ST_SetSRID(ST_MakePoint(1, 2), 4326)] AS geoms,
             'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, '\\xdeadbeef'::bytea AS bytes,
             true AS yes, false AS no, NULL::bool AS unknown_bool, 'x'::text AS t`);

    expect(result.rows).toEqual([
      {
        geom: POINT_HEX,
        geog: POINT_HEX,
        geoms: [POINT_HEX],
        u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        bytes: '\\xdeadbeef',
        yes: true,
        no: false,
        unknown_bool: null,
        t: 'x',
      },
    ]);
    expect(typesOf(result).map(([, native, carto]) => [native, carto])).toEqual([
      ['geometry', 'geometry'],
      ['geography', 'geometry'],
      ['_geometry', 'object'],
      ['uuid', 'string'],
      ['bytea', 'unknown'],
      ['bool', 'boolean'],
      ['bool', 'boolean'],
      ['bool', 'boolean'],
      ['text', 'string'],
    ]);
  });

  it('describes and parses types created after the driver started', async () => {
    await run('SELECT 1');
    const suffix = Math.random().toString(36).slice(2, 8);
    await runAsSuperuser(
      info,
      `CREATE TYPE "${info.schema}"."mood_${suffix}" AS ENUM ('happy', 'sad')`,
    );

    const result = await run(
      `SELECT 'happy'::"mood_${suffix}" AS mood,
              ARRAY['happy', 'sad']::"mood_${suffix}"[] AS moods`,
    );
    const streamed = await driver.stream({
      sql: `SELECT ARRAY['sad']::"mood_${suffix}"[] AS moods`,
      timeoutMs: 30_000,
    });
    const batches: unknown[] = [];
    for await (const batch of streamed.rows) batches.push(...batch);

    expect(result.rows).toEqual([{ mood: 'happy', moods: ['happy', 'sad'] }]);
    expect(typesOf(result)).toEqual([
      ['mood', `mood_${suffix}`, 'string'],
      ['moods', `_mood_${suffix}`, 'object'],
    ]);
    expect(batches).toEqual([{ moods: ['sad'] }]);
  });

  it("leaves pg's global type parsers alone", async () => {
    await run('SELECT now()');

    expect(pg.types.getTypeParser(1184)('2024-03-30 23:30:00+00')).toBeInstanceOf(Date);
  });

  it('binds positional parameters as values, never as SQL text', async () => {
    const injection = "x' OR '1'='1";

    const echoed = await run('SELECT $1::text AS v, $2::int4 AS n', [injection, 7]);

    expect(echoed.rows).toEqual([{ v: injection, n: 7 }]);
  });

  it('runs one statement per call, like the embedded warehouse', async () => {
    await expect(run('SELECT 1; SELECT 2')).rejects.toMatchObject({
      name: 'WarehouseError',
      kind: 'syntax',
      sqlState: '42601',
    });
    await expect(run('-- nothing to run')).resolves.toEqual({ fields: [], rows: [] });
  });

  it('classifies SQL errors by SQLSTATE with the server message', async () => {
    await expect(run('SELECT * FROM no_such_table')).rejects.toMatchObject({
      kind: 'undefined_object',
      sqlState: '42P01',
      message: 'relation "no_such_table" does not exist',
    });
    await expect(run('SELECT 1/0')).rejects.toMatchObject({
      kind: 'invalid_input',
      sqlState: '22012',
    });
  });

  it('reports PostGIS and the server version from test(), with PostGIS capabilities', async () => {
    const report = await driver.test();

    expect(report.serverVersion).toMatch(/^PostgreSQL 15\./);
    expect(report.postgisVersion).toMatch(/^3\./);
    expect(report.capabilities).toEqual({ nativeMvt: true, jsonTiles: true, cancellable: true });
    expect(driver.capabilities).toEqual(report.capabilities);
  });

  it('knows its capabilities after the first query, without test()', async () => {
    const fresh = new PostgresDriver(driverOptionsFor(info));
    try {
      await fresh.query({ sql: 'SELECT 1', timeoutMs: 10_000 });
      expect(fresh.capabilities).toEqual({ nativeMvt: true, jsonTiles: true, cancellable: true });
      expect(await fresh.ready()).toEqual(fresh.capabilities);
    } finally {
      await fresh.close();
    }
  });

  it('reports no PostGIS capabilities for the Redshift flavour', async () => {
    const redshift = new PostgresDriver(driverOptionsFor(info, { provider: 'redshift' }));
    try {
      const report = await redshift.test();
      expect(report.postgisVersion).toBeNull();
      expect(report.capabilities).toEqual({
        nativeMvt: false,
        jsonTiles: false,
        cancellable: true,
      });
    } finally {
      await redshift.close();
    }
  });
});

// The same SQL through both drivers gives the same fields and rows; only numerics whose
// integer part exceeds 2^53 differ (exact strings here, rounded by the embedded warehouse).
describeWithPostgres('PostgresDriver and the embedded warehouse', (info) => {
  let dataDir: string;
  let embedded: EmbeddedWarehouse;
  let driver: PostgresDriver;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-embedded-compare-'));
    driver = new PostgresDriver(driverOptionsFor(info));
    embedded = await EmbeddedWarehouse.open({
      dataDir,
      queueLimit: 3,
      queueTimeoutMs: 60_000,
      maxResultBytes: 16 * 1024 * 1024,
    });
  });

  afterAll(async () => {
    await driver?.close();
    await embedded?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it.each([
    `SELECT 1::int2 AS i2, 9007199254740993::int8 AS big, 12.5::numeric AS n, 'NaN'::float8 AS nan`,
    `SELECT 'a'::text AS t, 'c'::char(2) AS c, 'x'::"char" AS ch, true AS b,
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u`,
    `SELECT '2024-03-30'::date AS d, '2024-03-31 01:30:00+02'::timestamptz AS tstz,
            '12:34:56'::time AS t, '1 day 2 hours'::interval AS span`,
    `SELECT '{"a": 1}'::jsonb AS jb, ARRAY[1, NULL]::int4[] AS ints, ROW(1, 'a') AS rec,
            ARRAY['2024-03-31 01:30:00+02'::timestamptz] AS instants`,
    `SELECT ST_SetSRID(ST_MakePoint(1, 2), 4326) AS geom,
            ST_SetSRID(ST_MakePoint(1, 2), 4326)::geography AS geog,
            ARRAY[ST_SetSRID(ST_MakePoint(1, 2), 4326)] AS geoms, '\\xdeadbeef'::bytea AS bytes`,
  ])('gives what the embedded warehouse gives for %s', async (sql) => {
    const query = { sql, timeoutMs: 30_000 };

    const [fromPostgres, fromEmbedded] = await Promise.all([
      driver.query(query),
      embedded.query(query),
    ]);

    expect(fromPostgres).toEqual(fromEmbedded);
  });
});
