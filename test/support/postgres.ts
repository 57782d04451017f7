/**
 * What test files use to reach the throwaway PostgreSQL cluster that the global setup started.
 * Without PostgreSQL, `describeWithPostgres` registers its suite as skipped, so the report shows
 * the tests that did not run instead of passing them silently.
 */

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import {
  PostgresDriver,
  type PostgresDriverOptions,
} from '../../src/warehouses/postgres/postgres-driver.js';
import { restartCluster, type PostgresInfo } from './postgres-cluster.js';

export type { PostgresInfo } from './postgres-cluster.js';

/** The cluster of this test run, or null when PostgreSQL is not installed. */
export function postgresOrSkip(): PostgresInfo | null {
  return inject('postgres');
}

/** Stands in for the cluster while a skipped suite is collected; its tests never run. */
const ABSENT_CLUSTER: PostgresInfo = {
  host: '',
  port: 0,
  database: '',
  username: '',
  password: '',
  schema: '',
  superuser: '',
  superuserPassword: '',
  dataDir: '',
  binDir: '',
};

/**
 * `describe` that runs only with PostgreSQL, handing the suite the cluster's connection info.
 * Without PostgreSQL every test of the suite is reported as skipped. Suites must do their
 * work in hooks and tests, not while being collected.
 */
export function describeWithPostgres(name: string, suite: (info: PostgresInfo) => void): void {
  const info = postgresOrSkip();
  if (info === null) {
    describe.skip(`${name} (PostgreSQL is not installed)`, () => suite(ABSENT_CLUSTER));
    return;
  }
  describe(name, () => suite(info));
}

/** Opens a connection to the test database as the superuser; the caller ends it. */
export async function connectAsSuperuser(info: PostgresInfo): Promise<pg.Client> {
  const client = new pg.Client({
    host: info.host,
    port: info.port,
    database: info.database,
    user: info.superuser,
    password: info.superuserPassword,
    application_name: 'graticule-test-admin',
  });
  await client.connect();
  return client;
}

/** Runs setup or inspection SQL as the superuser on a connection of its own. */
export async function runAsSuperuser<Row extends pg.QueryResultRow = Record<string, unknown>>(
  info: PostgresInfo,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  const client = await connectAsSuperuser(info);
  try {
    return (await client.query<Row>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export interface BackendActivity {
  pid: number;
  state: string | null;
  query: string;
}

/** Sessions of one `application_name`, as `pg_stat_activity` shows them now. */
export async function sessionsOf(
  info: PostgresInfo,
  applicationName: string,
): Promise<BackendActivity[]> {
  return runAsSuperuser<BackendActivity>(
    info,
    `SELECT pid, state, query
       FROM pg_catalog.pg_stat_activity
      WHERE application_name = $1 AND backend_type = 'client backend'`,
    [applicationName],
  );
}

/**
 * Polls until `check` returns true, for at most `timeoutMs`; returns whether it did. Tests
 * assert on the outcome, never on how long it took.
 */
export async function pollUntil(
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A database of its own in the test cluster, owned by the application role. */
export interface ScratchDatabase {
  name: string;
  /** `postgres://` URL for the application role. */
  url: string;
  /** Drops the database, ending the sessions still connected to it. */
  drop(): Promise<void>;
}

/** Creates an empty database owned by the cluster's application role (not a superuser). */
export async function createScratchDatabase(
  info: PostgresInfo,
  prefix = 'scratch',
): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await runAsSuperuser(info, `CREATE DATABASE "${name}" OWNER "${info.username}"`);
  const user = encodeURIComponent(info.username);
  const password = encodeURIComponent(info.password);
  return {
    name,
    url: `postgres://${user}:${password}@${info.host}:${info.port}/${name}`,
    drop: async () => {
      await runAsSuperuser(info, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/**
 * Restarts the cluster (`pg_ctl restart -m fast`), ending every session. Works from a test
 * file's own process: it needs only the data directory, not the global setup.
 */
export async function restartPostgres(info: PostgresInfo): Promise<void> {
  await restartCluster(info);
}

/**
 * Driver options for the cluster's non-superuser role, with a fresh `application_name` so a
 * test can find exactly its own sessions in `pg_stat_activity`.
 */
export function driverOptionsFor(
  info: PostgresInfo,
  overrides: Partial<PostgresDriverOptions> = {},
): PostgresDriverOptions {
  return {
    provider: 'postgres',
    host: info.host,
    port: info.port,
    database: info.database,
    username: info.username,
    password: info.password,
    sslmode: 'disable',
    maxConnections: 5,
    connectTimeoutMs: 5_000,
    acquireTimeoutMs: 10_000,
    applicationName: `graticule-test-${randomBytes(4).toString('hex')}`,
    ...overrides,
  };
}

/**
 * Creates a fixture schema with the superuser before the suite (the application role may read
 * it) and a driver for the application role, and removes both after it. Answers the driver.
 */
export function useFixtureSchema(
  info: PostgresInfo,
  schema: string,
  fixtureSql: string,
): () => PostgresDriver {
  let driver: PostgresDriver | undefined;
  beforeAll(async () => {
    await runAsSuperuser(info, fixtureSql);
    await runAsSuperuser(
      info,
      `GRANT USAGE ON SCHEMA ${schema} TO ${info.username};
       GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${info.username};`,
    );
    driver = new PostgresDriver(driverOptionsFor(info));
  });
  afterAll(async () => {
    await driver?.close();
    await runAsSuperuser(info, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });
  return () => driver!;
}
