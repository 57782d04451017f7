import { createServer, type Server } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import {
  describeWithPostgres,
  driverOptionsFor,
  pollUntil,
  restartPostgres,
  runAsSuperuser,
  sessionsOf,
  type PostgresInfo,
} from '../../../test/support/postgres.js';
import { findFreePort } from '../../../test/support/server-process.js';
import { WarehouseError } from '../driver.js';
import { PostgresDriver } from './postgres-driver.js';
import type { DriverLogger, PostgresDriverOptions } from './postgres-driver-options.js';

async function failureOf(promise: Promise<unknown>): Promise<WarehouseError> {
  const error: unknown = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  if (!(error instanceof WarehouseError)) throw new Error(`expected a WarehouseError: ${error}`);
  return error;
}

/** A logger that keeps every line, to check what reaches the logs. */
function recordingLogger(): DriverLogger & { lines: string[] } {
  const lines: string[] = [];
  const record = (obj: object, msg: string) => lines.push(JSON.stringify({ ...obj, msg }));
  return { lines, debug: record, info: record, warn: record, error: record };
}

/** Everything an error could show: message, cause chain and enumerable fields. */
function everythingShownBy(error: Error): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current instanceof Error) {
    parts.push(current.message, String(current.stack), JSON.stringify(current));
    current = current.cause;
  }
  return parts.join('\n');
}

async function activeQueriesOf(info: PostgresInfo, applicationName: string): Promise<string[]> {
  const sessions = await sessionsOf(info, applicationName);
  return sessions.filter((session) => session.state === 'active').map((s) => s.query);
}

describeWithPostgres('PostgresDriver faults and limits', (info) => {
  const drivers: PostgresDriver[] = [];
  const driverWith = (overrides: Partial<PostgresDriverOptions> = {}) => {
    const options = driverOptionsFor(info, overrides);
    const driver = new PostgresDriver(options);
    drivers.push(driver);
    return { driver, applicationName: options.applicationName! };
  };
  const isRunning = (applicationName: string, text: string) => async () =>
    (await activeQueriesOf(info, applicationName)).some((query) => query.includes(text));
  const hasStopped = (applicationName: string) => async () =>
    (await activeQueriesOf(info, applicationName)).length === 0;

  afterAll(async () => {
    await Promise.all(drivers.map((driver) => driver.close()));
  });

  it('fails a statement past its timeout with timeout, and the backend stops it', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 1 });

    const error = await failureOf(driver.query({ sql: 'SELECT pg_sleep(30)', timeoutMs: 500 }));

    expect(error).toMatchObject({ kind: 'timeout', sqlState: '57014' });
    expect(await pollUntil(hasStopped(applicationName))).toBe(true);
    await expect(driver.query({ sql: 'SELECT 1', timeoutMs: 5_000 })).resolves.toBeDefined();
  });

  it('cancels a running statement on the server when the signal aborts', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 1 });
    const controller = new AbortController();

    const running = failureOf(
      driver.query({ sql: 'SELECT pg_sleep(60)', timeoutMs: 120_000, signal: controller.signal }),
    );
    const started = await pollUntil(isRunning(applicationName, 'pg_sleep(60)'));
    controller.abort();

    expect(started).toBe(true);
    expect(await running).toMatchObject({ kind: 'cancelled' });
    expect(await pollUntil(hasStopped(applicationName))).toBe(true);
    // The only session is usable again.
    await expect(driver.query({ sql: 'SELECT 2 AS two', timeoutMs: 5_000 })).resolves.toEqual({
      fields: [{ name: 'two', nativeType: 'int4', cartoType: 'number' }],
      rows: [{ two: 2 }],
    });
  });

  it('rejects at once a statement whose signal aborted before it started', async () => {
    const { driver } = driverWith();

    const error = await failureOf(
      driver.query({ sql: 'SELECT 1', timeoutMs: 5_000, signal: AbortSignal.abort() }),
    );

    expect(error.kind).toBe('cancelled');
  });

  it('never opens more than maxConnections sessions, however many statements wait', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 5, acquireTimeoutMs: 60_000 });
    let mostSessions = 0;
    let isDone = false;
    const watch = (async () => {
      while (!isDone) {
        mostSessions = Math.max(mostSessions, (await sessionsOf(info, applicationName)).length);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const statements = Array.from({ length: 20 }, (_, index) =>
      driver.query({
        sql: 'SELECT pg_sleep(0.3), $1::int4 AS n',
        params: [index],
        timeoutMs: 60_000,
      }),
    );
    const results = await Promise.all(statements);
    isDone = true;
    await watch;

    expect(results.map((result) => result.rows[0]?.['n'])).toEqual([...Array(20).keys()]);
    expect(mostSessions).toBe(5);
  });

  it('fails with busy when no session frees up within acquireTimeoutMs', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 1, acquireTimeoutMs: 200 });
    const holder = driver.query({ sql: 'SELECT pg_sleep(2)', timeoutMs: 30_000 });
    await pollUntil(isRunning(applicationName, 'pg_sleep(2)'));

    const error = await failureOf(driver.query({ sql: 'SELECT 1', timeoutMs: 5_000 }));

    expect(error.kind).toBe('busy');
    await expect(holder).resolves.toBeDefined();
  });

  it('stops waiting for a session when the signal aborts', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 1, acquireTimeoutMs: 60_000 });
    const holder = driver.query({ sql: 'SELECT pg_sleep(1)', timeoutMs: 30_000 });
    await pollUntil(isRunning(applicationName, 'pg_sleep(1)'));
    const controller = new AbortController();

    const waiting = failureOf(
      driver.query({ sql: 'SELECT 1', timeoutMs: 5_000, signal: controller.signal }),
    );
    controller.abort();

    expect(await waiting).toMatchObject({ kind: 'cancelled' });
    await expect(holder).resolves.toBeDefined();
  });

  it('reports a closed port as unreachable, naming host and port', async () => {
    const port = await findFreePort();
    const { driver } = driverWith({ port, sslmode: 'prefer' });

    const error = await failureOf(driver.query({ sql: 'SELECT 1', timeoutMs: 5_000 }));

    expect(error.kind).toBe('unreachable');
    expect(error.message).toBe(`Could not connect to 127.0.0.1:${port}: connection refused`);
  });

  it('reports a server that never answers as unreachable after connectTimeoutMs', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const { driver } = driverWith({ port, connectTimeoutMs: 300 });

      const error = await failureOf(driver.query({ sql: 'SELECT 1', timeoutMs: 5_000 }));

      expect(error.kind).toBe('unreachable');
      expect(error.message).toBe(`Could not connect to 127.0.0.1:${port}: no answer within 300 ms`);
    } finally {
      silent.close();
    }
  });

  it('reports a wrong password or role as auth_failed, never showing the password', async () => {
    const logger = recordingLogger();
    const password = 'Wrong-Secret-7f3a9c';
    const wrongPassword = driverWith({ password, logger }).driver;
    const noSuchRole = driverWith({ username: 'nobody_here', password, logger }).driver;

    const errors = [
      await failureOf(wrongPassword.query({ sql: 'SELECT 1', timeoutMs: 5_000 })),
      await failureOf(noSuchRole.test()),
    ];

    expect(errors.map((error) => [error.kind, error.sqlState])).toEqual([
      ['auth_failed', '28P01'],
      ['auth_failed', '28P01'],
    ]);
    expect(errors[0]?.message).toContain(`(server 127.0.0.1:${info.port})`);
    for (const error of errors) expect(everythingShownBy(error)).not.toContain(password);
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(logger.lines.join('\n')).not.toContain(password);
  });

  it('keeps the real password out of errors and logs when statements fail', async () => {
    const logger = recordingLogger();
    const { driver } = driverWith({ logger });

    const errors = [
      await failureOf(driver.query({ sql: 'SELEC 1', timeoutMs: 5_000 })),
      await failureOf(driver.query({ sql: 'SELECT pg_sleep(5)', timeoutMs: 100 })),
    ];

    for (const error of errors) expect(everythingShownBy(error)).not.toContain(info.password);
    expect(logger.lines.join('\n')).not.toContain(info.password);
  });

  it('names a database that does not exist', async () => {
    const { driver } = driverWith({ database: 'no_such_database' });

    const error = await failureOf(driver.test());

    expect(error).toMatchObject({ kind: 'unreachable', sqlState: '3D000' });
    expect(error.message).toBe(
      `database "no_such_database" does not exist (server 127.0.0.1:${info.port})`,
    );
  });

  it('rolls back a transaction a statement left open before the next user', async () => {
    const { driver } = driverWith({ maxConnections: 1 });
    const table = `"${info.schema}"."left_open_probe"`;
    await driver.query({ sql: `CREATE TABLE ${table} (id int4)`, timeoutMs: 10_000 });

    await driver.query({ sql: 'BEGIN', timeoutMs: 5_000 });
    await driver.query({ sql: `INSERT INTO ${table} VALUES (1)`, timeoutMs: 5_000 });
    await driver.query({ sql: 'START TRANSACTION', timeoutMs: 5_000 });
    const failed = await failureOf(driver.query({ sql: 'SELECT 1/0', timeoutMs: 5_000 }));
    const afterFailure = await driver.query({ sql: 'SELECT 3 AS three', timeoutMs: 5_000 });

    // Seen from another session, so the insert was committed on its own.
    const rows = await runAsSuperuser(info, `SELECT id FROM ${table}`);
    expect(rows).toEqual([{ id: 1 }]);
    expect(failed.kind).toBe('invalid_input');
    expect(afterFailure.rows).toEqual([{ three: 3 }]);
  });

  it('resets what set_config and advisory locks leave behind inside a query', async () => {
    const { driver } = driverWith({ maxConnections: 1 });
    const run = (sql: string) => driver.query({ sql, timeoutMs: 5_000 });
    const before = (await run(`SELECT current_setting('search_path') AS v`)).rows[0]?.['v'];
    await run(`SELECT set_config('search_path', 'pg_catalog', false)`);
    await run('SELECT pg_advisory_lock(4242)');
    expect((await run(`SELECT current_setting('search_path') AS v`)).rows[0]?.['v']).toBe(before);
    const locks = await runAsSuperuser(
      info,
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242`,
    );
    expect(locks).toEqual([{ n: 0 }]);
  });

  it('resets settings a statement changed before the next user', async () => {
    const { driver } = driverWith({ maxConnections: 1 });
    const show = async (name: string) =>
      (await driver.query({ sql: `SELECT current_setting('${name}') AS v`, timeoutMs: 5_000 }))
        .rows[0]?.['v'];
    const before = await show('search_path');

    await driver.query({ sql: 'SET search_path = pg_catalog', timeoutMs: 5_000 });
    await driver.query({ sql: `SET application_name = 'someone-else'`, timeoutMs: 5_000 });
    await driver.query({ sql: 'PREPARE leftover AS SELECT 1', timeoutMs: 5_000 });
    await driver.query({ sql: 'CREATE TEMP TABLE leftover (id int4)', timeoutMs: 5_000 });

    expect(await show('search_path')).toBe(before);
    expect(await show('application_name')).toMatch(/^graticule-test-/);
    await expect(
      driver.query({ sql: 'SELECT count(*) FROM pg_prepared_statements', timeoutMs: 5_000 }),
    ).resolves.toMatchObject({ rows: [{ count: 0 }] });
    await expect(
      driver.query({ sql: 'CREATE TEMP TABLE leftover (id int4)', timeoutMs: 5_000 }),
    ).resolves.toBeDefined();
  });

  it('starts sessions with the schema first on the path, read-only when asked', async () => {
    const { driver } = driverWith({ schema: info.schema, readOnly: true, maxConnections: 1 });

    const settings = await driver.query({
      sql: `SELECT current_setting('search_path') AS path,
                   current_setting('default_transaction_read_only') AS read_only`,
      timeoutMs: 5_000,
    });
    const write = await failureOf(
      driver.query({ sql: 'CREATE TABLE read_only_probe (id int4)', timeoutMs: 5_000 }),
    );
    await driver.query({ sql: 'SET default_transaction_read_only = off', timeoutMs: 5_000 });
    const after = await driver.query({
      sql: `SELECT current_setting('default_transaction_read_only') AS read_only`,
      timeoutMs: 5_000,
    });

    expect(settings.rows).toEqual([{ path: `"${info.schema}",public`, read_only: 'on' }]);
    expect(write).toMatchObject({ kind: 'invalid_input', sqlState: '25006' });
    expect(after.rows).toEqual([{ read_only: 'on' }]);
  });

  it('cancels statements still running when closed', async () => {
    const { driver, applicationName } = driverWith();
    const running = failureOf(driver.query({ sql: 'SELECT pg_sleep(60)', timeoutMs: 120_000 }));
    await pollUntil(isRunning(applicationName, 'pg_sleep(60)'));

    await driver.close();

    expect(
      await pollUntil(async () => (await sessionsOf(info, applicationName)).length === 0),
    ).toBe(true);
    expect(await running).toMatchObject({ kind: 'cancelled' });
    await expect(driver.query({ sql: 'SELECT 1', timeoutMs: 5_000 })).rejects.toMatchObject({
      kind: 'unavailable',
    });
  });

  // Last: it restarts the cluster.
  it('fails a statement cleanly when the server restarts, and recovers by itself', async () => {
    const { driver, applicationName } = driverWith({ maxConnections: 2 });
    await Promise.all([
      driver.query({ sql: 'SELECT pg_sleep(0.2)', timeoutMs: 5_000 }),
      driver.query({ sql: 'SELECT pg_sleep(0.2)', timeoutMs: 5_000 }),
    ]);
    const running = failureOf(driver.query({ sql: 'SELECT pg_sleep(60)', timeoutMs: 120_000 }));
    await pollUntil(isRunning(applicationName, 'pg_sleep(60)'));

    await restartPostgres(info);

    const error = await running;
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain(`127.0.0.1:${info.port}`);
    const again = await driver.query({ sql: 'SELECT 1 AS one', timeoutMs: 5_000 });
    const both = await Promise.all([
      driver.query({ sql: 'SELECT 2 AS two', timeoutMs: 5_000 }),
      driver.query({ sql: 'SELECT 3 AS three', timeoutMs: 5_000 }),
    ]);
    expect(again.rows).toEqual([{ one: 1 }]);
    expect(both.map((result) => result.rows)).toEqual([[{ two: 2 }], [{ three: 3 }]]);
  });
});
