import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithPostgres,
  driverOptionsFor,
  pollUntil,
  runAsSuperuser,
  sessionsOf,
  type PostgresInfo,
} from '../../../test/support/postgres.js';
import { WarehouseError, type WarehouseRowStream } from '../driver.js';
import { PostgresDriver } from './postgres-driver.js';
import type { PostgresDriverOptions } from './postgres-driver-options.js';

async function failureOf(promise: Promise<unknown>): Promise<WarehouseError> {
  const error: unknown = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  if (!(error instanceof WarehouseError)) throw new Error(`expected a WarehouseError: ${error}`);
  return error;
}

/** Reads a whole stream, returning its batches' sizes. */
async function batchSizesOf(stream: WarehouseRowStream): Promise<number[]> {
  const sizes: number[] = [];
  for await (const batch of stream.rows) sizes.push(batch.length);
  return sizes;
}

async function areAllIdle(info: PostgresInfo, applicationName: string): Promise<boolean> {
  const sessions = await sessionsOf(info, applicationName);
  return sessions.every((session) => session.state === 'idle');
}

describeWithPostgres('PostgresDriver.stream', (info) => {
  const drivers: PostgresDriver[] = [];
  const driverWith = (overrides: Partial<PostgresDriverOptions> = {}) => {
    const options = driverOptionsFor(info, overrides);
    const driver = new PostgresDriver(options);
    drivers.push(driver);
    return { driver, applicationName: options.applicationName! };
  };

  beforeAll(async () => {
    await runAsSuperuser(info, 'SELECT 1');
  });

  afterAll(async () => {
    await Promise.all(drivers.map((driver) => driver.close()));
  });

  it('reads 300,000 rows in batches of batchRows, never more at once', async () => {
    const { driver } = driverWith();
    const heapBefore = process.memoryUsage().heapUsed;

    const stream = await driver.stream({
      sql: `SELECT g AS id, md5(g::text) AS label, g::int8 * 1000 AS big
              FROM generate_series(1, 300000) AS g`,
      timeoutMs: 120_000,
      batchRows: 1_000,
    });
    let rows = 0;
    let largestBatch = 0;
    let batches = 0;
    let lastId = 0;
    let heapPeak = 0;
    for await (const batch of stream.rows) {
      batches += 1;
      rows += batch.length;
      largestBatch = Math.max(largestBatch, batch.length);
      lastId = batch.at(-1)!['id'] as number;
      if (batches % 50 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }

    expect(stream.fields.map((field) => [field.name, field.cartoType])).toEqual([
      ['id', 'number'],
      ['label', 'string'],
      ['big', 'bigint'],
    ]);
    expect({ rows, batches, largestBatch, lastId }).toEqual({
      rows: 300_000,
      batches: 300,
      largestBatch: 1_000,
      lastId: 300_000,
    });
    // Loose: the whole result as objects would take well over 100 MB.
    expect(heapPeak - heapBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it('closes the cursor and returns the session when the loop breaks early', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 1 });
    const stream = await driver.stream({
      sql: 'SELECT g FROM generate_series(1, 1000000) AS g',
      timeoutMs: 60_000,
      batchRows: 100,
    });

    let seen = 0;
    for await (const batch of stream.rows) {
      seen += batch.length;
      if (seen >= 300) break;
    }

    expect(seen).toBe(300);
    expect(await pollUntil(() => areAllIdle(info, applicationName))).toBe(true);
    // One session only: this would wait for a permit if the stream still held it.
    await expect(driver.query({ sql: 'SELECT 1 AS one', timeoutMs: 5_000 })).resolves.toEqual({
      fields: [{ name: 'one', nativeType: 'int4', cartoType: 'number' }],
      rows: [{ one: 1 }],
    });
  });

  it('returns the session when closed without being read', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 1 });
    const stream = await driver.stream({
      sql: 'SELECT g FROM generate_series(1, 100000) AS g',
      timeoutMs: 60_000,
    });

    await stream.close();

    expect(await pollUntil(() => areAllIdle(info, applicationName))).toBe(true);
    await expect(driver.query({ sql: 'SELECT 1', timeoutMs: 5_000 })).resolves.toBeDefined();
  });

  it('wraps the cursor in BEGIN/COMMIT for Redshift, and not for PostgreSQL', async () => {
    const redshift = driverWith({ provider: 'redshift', maxConnections: 1 });
    const postgres = driverWith({ provider: 'postgres', maxConnections: 1 });
    // DECLARE without WITH HOLD is only allowed inside a transaction block.
    const declare = { sql: 'DECLARE probe CURSOR FOR SELECT 1', timeoutMs: 10_000 };

    const inTransaction = await redshift.driver.stream(declare);
    const declared = await batchSizesOf(inTransaction);
    const outside = await failureOf(postgres.driver.stream(declare));
    const sizes = await batchSizesOf(
      await redshift.driver.stream({
        sql: 'SELECT g FROM generate_series(1, 2500) AS g',
        timeoutMs: 10_000,
        batchRows: 1_000,
      }),
    );

    expect(declared).toEqual([]);
    expect(outside).toMatchObject({ kind: 'invalid_input', sqlState: '25P01' });
    expect(sizes).toEqual([1_000, 1_000, 500]);
    expect(await pollUntil(() => areAllIdle(info, redshift.applicationName))).toBe(true);
  });

  it('commits what a Redshift-flavoured stream changed', async () => {
    const { driver } = driverWith({ provider: 'redshift' });
    const table = `"${info.schema}"."stream_commit_probe"`;
    await driver.query({ sql: `CREATE TABLE ${table} (id int4)`, timeoutMs: 10_000 });

    const stream = await driver.stream({
      sql: `INSERT INTO ${table} SELECT g FROM generate_series(1, 3) AS g RETURNING id`,
      timeoutMs: 10_000,
    });
    const sizes = await batchSizesOf(stream);

    const [count] = await runAsSuperuser<{ n: number }>(
      info,
      `SELECT count(*)::int4 AS n FROM ${table}`,
    );
    expect(sizes).toEqual([3]);
    expect(count).toEqual({ n: 3 });
  });

  it('rejects a stream whose statement fails, and keeps the session usable', async () => {
    const { driver } = driverWith({ maxConnections: 1 });

    const error = await failureOf(driver.stream({ sql: 'SELEC 1', timeoutMs: 10_000 }));

    expect(error).toMatchObject({ kind: 'syntax', sqlState: '42601' });
    await expect(driver.query({ sql: 'SELECT 1', timeoutMs: 5_000 })).resolves.toBeDefined();
  });

  it('stops a stream whose read is aborted and cancels it on the server', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 1 });
    const controller = new AbortController();
    const stream = await driver.stream({
      sql: `SELECT g, CASE WHEN g > 100 THEN pg_sleep(60) END AS slow
              FROM generate_series(1, 200) AS g`,
      timeoutMs: 120_000,
      batchRows: 100,
      signal: controller.signal,
    });
    const iterator = stream.rows[Symbol.asyncIterator]();
    const first = await iterator.next();

    const second = failureOf(iterator.next());
    const sleeping = await pollUntil(async () =>
      (await sessionsOf(info, applicationName)).some((session) => session.state === 'active'),
    );
    controller.abort();

    expect(first.value).toHaveLength(100);
    expect(sleeping).toBe(true);
    expect(await second).toMatchObject({ kind: 'cancelled' });
    expect(await pollUntil(() => areAllIdle(info, applicationName))).toBe(true);
    await expect(driver.query({ sql: 'SELECT 1', timeoutMs: 5_000 })).resolves.toBeDefined();
  });

  it('ends the stream with cancelled when aborted while the reader pauses', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 1 });
    const controller = new AbortController();
    const stream = await driver.stream({
      sql: 'SELECT g FROM generate_series(1, 100000) AS g',
      timeoutMs: 60_000,
      batchRows: 10,
      signal: controller.signal,
    });
    const iterator = stream.rows[Symbol.asyncIterator]();
    await iterator.next();

    controller.abort();

    expect(await failureOf(iterator.next())).toMatchObject({ kind: 'cancelled' });
    expect(await pollUntil(() => areAllIdle(info, applicationName))).toBe(true);
    await expect(driver.query({ sql: 'SELECT 1', timeoutMs: 5_000 })).resolves.toBeDefined();
  });

  it('fails a stream that runs past its timeout with timeout', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 1 });
    const stream = await driver.stream({
      sql: `SELECT g, CASE WHEN g > 10 THEN pg_sleep(60) END AS slow
              FROM generate_series(1, 20) AS g`,
      timeoutMs: 1_000,
      batchRows: 10,
    });

    const error = await failureOf(batchSizesOf(stream));

    expect(error).toMatchObject({ kind: 'timeout' });
    expect(await pollUntil(() => areAllIdle(info, applicationName))).toBe(true);
  });

  it('reads rows as arrays whose readers give the values and JSON of object rows', async () => {
    const { driver } = driverWith();
    const sql = `SELECT g AS id, g::int8 * 4000000000000 AS big, g / 3.0 AS ratio,
                        (g * 0.1)::float8 AS f8, (g * 0.1)::float4 AS f4,
                        CASE WHEN g = 2 THEN 'NaN'::float8 END AS nan,
                        'say "hi" ' || g AS label, g % 2 = 0 AS even,
                        '2024-03-30 23:30:00+05:30'::timestamptz AS at,
                        json_build_object('g', g) AS doc, ARRAY[g, NULL] AS list,
                        NULL::text AS nothing, 1 AS "2"
                   FROM generate_series(1, 5) AS g`;
    const objects: Record<string, unknown>[] = [];
    for await (const batch of (await driver.stream({ sql, timeoutMs: 10_000 })).rows) {
      objects.push(...batch);
    }

    const stream = await driver.streamArrays({ sql, timeoutMs: 10_000, batchRows: 2 });
    const values: Record<string, unknown>[] = [];
    const jsonTexts: string[] = [];
    for await (const batch of stream.rows) {
      for (const row of batch) {
        const cells = stream.fields.map((field, i) => [field.name, row[i]] as const);
        const value = (cell: unknown, i: number) =>
          cell === null ? null : stream.readers[i]!.valueOf(cell);
        const json = (cell: unknown, i: number) =>
          cell === null ? 'null' : stream.readers[i]!.jsonOf(cell);
        values.push(Object.fromEntries(cells.map(([name, cell], i) => [name, value(cell, i)])));
        jsonTexts.push(`[${cells.map(([, cell], i) => json(cell, i)).join(',')}]`);
      }
    }

    expect(values).toEqual(objects);
    expect(jsonTexts).toEqual(
      objects.map((row) => JSON.stringify(stream.fields.map((field) => row[field.name]))),
    );
  });
});
