import { ensureDemoData } from '../../src/warehouses/embedded/demo-data.js';
import { PostgresDriver } from '../../src/warehouses/postgres/postgres-driver.js';
import { runAsSuperuser, type PostgresInfo } from './postgres.js';

/**
 * Loads Graticule's demo tables into the test cluster (once per run: the loader keeps a
 * marker) and lets the application role read them, so a test can compare a PostgreSQL
 * connection with the embedded warehouse on the same data.
 */
export async function ensurePostgresDemoData(info: PostgresInfo): Promise<void> {
  const driver = new PostgresDriver({
    provider: 'postgres',
    host: info.host,
    port: info.port,
    database: info.database,
    username: info.superuser,
    password: info.superuserPassword,
    maxConnections: 1,
    connectTimeoutMs: 10_000,
    acquireTimeoutMs: 60_000,
    applicationName: 'graticule-test-demo',
  });
  try {
    await ensureDemoData(driver, () => undefined);
  } finally {
    await driver.close();
  }
  await runAsSuperuser(
    info,
    `GRANT USAGE ON SCHEMA demo TO ${info.username};
     GRANT SELECT ON ALL TABLES IN SCHEMA demo TO ${info.username};`,
  );
}

/** Creates (or replaces) a connection to the test cluster through the Connections API. */
export async function createPostgresConnection(
  baseUrl: string,
  token: string,
  info: PostgresInfo,
  name: string,
): Promise<void> {
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  await fetch(`${baseUrl}/v3/connections/${name}`, { method: 'DELETE', headers });
  const response = await fetch(`${baseUrl}/v3/connections`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      name,
      provider_id: 'postgres',
      config: {
        host: info.host,
        port: info.port,
        database: info.database,
        username: info.username,
        password: info.password,
      },
    }),
  });
  if (response.status !== 201) {
    throw new Error(`creating connection ${name}: ${response.status} ${await response.text()}`);
  }
}
