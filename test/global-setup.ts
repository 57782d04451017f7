import type { TestProject } from 'vitest/node';
import {
  POSTGRES_REQUIRED_MESSAGE,
  findPostgresInstall,
  startPostgresCluster,
  type PostgresCluster,
  type PostgresInfo,
} from './support/postgres-cluster.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    clientId: string;
    clientSecret: string;
    dataDir: string;
    /** The throwaway PostgreSQL cluster, or null when PostgreSQL is not installed. */
    postgres: PostgresInfo | null;
  }
}

let server: ServerProcess | undefined;
let cluster: PostgresCluster | undefined;

/**
 * Starts a throwaway PostgreSQL cluster when PostgreSQL and PostGIS are installed. Without
 * them the run fails when `GRATICULE_REQUIRE_POSTGRES=1` (CI), and otherwise the PostgreSQL
 * tests are skipped with a warning.
 */
async function startPostgres(): Promise<PostgresCluster | undefined> {
  const install = await findPostgresInstall();
  if (install) return startPostgresCluster(install.binDir);

  if (process.env['GRATICULE_REQUIRE_POSTGRES'] === '1') throw new Error(POSTGRES_REQUIRED_MESSAGE);
  process.stderr.write(`WARNING: skipping the PostgreSQL tests. ${POSTGRES_REQUIRED_MESSAGE}\n`);
  return undefined;
}

/**
 * Starts the throwaway PostgreSQL cluster, then one real Graticule process from the build on
 * a fresh data directory (so the first start, demo load included, runs for real), and shares
 * both with every test file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  cluster = await startPostgres();
  project.provide('postgres', cluster?.info ?? null);

  try {
    server = await startServerProcess({ loadDemoData: true });
  } catch (error) {
    await cluster?.destroy();
    throw error;
  }
  project.provide('baseUrl', server.baseUrl);
  project.provide('clientId', server.clientId);
  project.provide('clientSecret', server.clientSecret);
  project.provide('dataDir', server.dataDir);
  return async () => {
    await server?.stop();
    await cluster?.destroy();
  };
}
