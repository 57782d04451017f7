import { afterAll, expect, it } from 'vitest';
import { describeWithPostgres, driverOptionsFor } from '../../../test/support/postgres.js';
import { PostgresDriver } from './postgres-driver.js';

const TIMEOUT_MS = 10_000;
const REPEATED = 'SELECT $1::int + 1 AS "next", pg_backend_pid() AS "pid"';

describeWithPostgres('PostgresDriver with repeated texts', (info) => {
  // One session, so every statement below shares the server-side prepared statements.
  const driver = new PostgresDriver(driverOptionsFor(info, { maxConnections: 1 }));

  afterAll(async () => {
    await driver.close();
  });

  const repeat = (value: number) =>
    driver.query({ sql: REPEATED, params: [value], timeoutMs: TIMEOUT_MS, repeatsText: true });

  const preparedHere = async () => {
    const { rows } = await driver.query({
      sql: `SELECT count(*)::int AS "n" FROM pg_prepared_statements WHERE statement = $1`,
      params: [REPEATED],
      timeoutMs: TIMEOUT_MS,
    });
    return rows[0]?.['n'];
  };

  it('prepares a repeated text once per session and binds new values each time', async () => {
    const first = await repeat(1);
    const second = await repeat(41);

    expect(first.rows[0]?.['next']).toBe(2);
    expect(second.rows[0]?.['next']).toBe(42);
    expect(second.rows[0]?.['pid']).toBe(first.rows[0]?.['pid']);
    expect(await preparedHere()).toBe(1);
  });

  it('prepares the text again after a session reset deallocated it', async () => {
    await repeat(1);
    // A statement that may leave state behind: the session is reset (DEALLOCATE ALL) after it.
    await driver.query({ sql: 'SET search_path = public', timeoutMs: TIMEOUT_MS });
    expect(await preparedHere()).toBe(0);

    const after = await repeat(2);

    expect(after.rows[0]?.['next']).toBe(3);
    expect(await preparedHere()).toBe(1);
  });

  it('runs repeated texts without JIT compilation or parallel plans', async () => {
    const setting = await driver.query({
      sql: `SELECT current_setting('jit') AS "jit",
              current_setting('max_parallel_workers_per_gather') AS "workers", $1::int AS "n"`,
      params: [1],
      timeoutMs: TIMEOUT_MS,
      repeatsText: true,
    });
    const other = await driver.query({
      sql: `SELECT current_setting('max_parallel_workers_per_gather') AS "workers"`,
      timeoutMs: TIMEOUT_MS,
    });
    expect(setting.rows).toEqual([{ jit: 'off', workers: '0', n: 1 }]);
    expect(other.rows).toEqual([{ workers: '2' }]);
  });

  it('keeps working when user SQL deallocates every prepared statement', async () => {
    await repeat(1);
    await driver.query({ sql: 'DEALLOCATE ALL', timeoutMs: TIMEOUT_MS });

    expect((await repeat(5)).rows[0]?.['next']).toBe(6);
  });

  it('plans a repeated text once for all values, and other statements as usual', async () => {
    for (let value = 0; value < 3; value += 1) await repeat(value);
    const jitDefault = await driver.query({
      sql: 'SELECT current_setting(\'jit\') AS "jit"',
      timeoutMs: TIMEOUT_MS,
    });
    const plans = await driver.query({
      sql: `SELECT generic_plans::int AS "generic", custom_plans::int AS "custom"
              FROM pg_prepared_statements WHERE statement = $1`,
      params: [REPEATED],
      timeoutMs: TIMEOUT_MS,
    });
    const mode = await driver.query({
      sql: 'SELECT current_setting(\'plan_cache_mode\') AS "mode"',
      timeoutMs: TIMEOUT_MS,
    });

    expect(plans.rows[0]).toMatchObject({ custom: 0 });
    expect(plans.rows[0]?.['generic']).toBeGreaterThanOrEqual(3);
    expect(mode.rows).toEqual([{ mode: 'auto' }]);
    // JIT is off only around repeated texts; other statements keep the server's setting.
    expect(jitDefault.rows).toEqual([{ jit: 'on' }]);
  });
});
