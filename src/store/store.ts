import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { maskMetadataUrl } from './metadata-url.js';
import { migrationProvider } from './migrations.js';
import { nulGuardPlugin } from './nul-guard-plugin.js';
import type { StoreSchema } from './schema.js';

export type Store = Kysely<StoreSchema>;

/**
 * Where the metadata store lives: a SQLite file in `dataDir`, or the PostgreSQL database of
 * `metadataUrl` (shared by every node of a cluster). The server's `Config` is one.
 */
export interface StoreLocation {
  dataDir: string;
  /** A `postgres://` URL; empty or absent for the SQLite file. */
  metadataUrl?: string;
  /** Most sessions this process opens to the PostgreSQL store. */
  metadataPoolMax?: number;
}

export interface StoreOptions {
  /** Told about a pooled PostgreSQL session that failed while idle; the pool replaces it. */
  onPoolError?: (error: Error) => void;
}

const DEFAULT_POOL_MAX = 10;
const INT8_OID = 20;

/**
 * bigint values (identity keys, epoch seconds, `count(*)`) as numbers, as SQLite gives them.
 * None of them nears 2^53. Scoped to the store's pool: pg's global parsers stay untouched,
 * since the warehouse driver relies on them.
 */
const STORE_TYPE_PARSERS = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (text: string) => Number(text);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/**
 * The store holds signing keys and password hashes: it is readable by its owner only. SQLite
 * gives its -wal and -shm files the database file's mode, so the file is made private before
 * SQLite opens it; files of older installs are tightened too.
 */
function keepPrivate(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  for (const name of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(name)) chmodSync(name, 0o600);
  }
}

/** SQLite runs in WAL mode so readers never wait for the single writer. */
function openSqlite(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'metadata.sqlite');
  keepPrivate(file);
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new Kysely<StoreSchema>({ dialect: new SqliteDialect({ database }) });
}

async function openPostgres(url: string, poolMax: number, options: StoreOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    application_name: 'graticule-metadata',
    types: STORE_TYPE_PARSERS,
  });
  // An idle session that breaks (a database restart) is dropped and replaced by the pool;
  // without a listener the error would end the process.
  pool.on('error', (error) => options.onPoolError?.(error));
  const store = new Kysely<StoreSchema>({
    dialect: new PostgresDialect({ pool }),
    plugins: [nulGuardPlugin],
  });
  try {
    await sql`SELECT 1`.execute(store);
  } catch (error) {
    await store.destroy();
    // pg's messages name the host and the user, never the password.
    const reason = (error as Error).message;
    throw new Error(`Cannot reach the metadata store at ${maskMetadataUrl(url)}: ${reason}`, {
      cause: error,
    });
  }
  return store;
}

/**
 * Opens the metadata store and brings its schema up to date: the SQLite file in the data
 * directory, or the PostgreSQL database of `metadataUrl`. Several nodes may open one empty
 * PostgreSQL database at once: Kysely's migrator serialises them with an advisory lock, and
 * each runs only the migrations still missing.
 */
export async function openStore(
  location: string | StoreLocation,
  options: StoreOptions = {},
): Promise<Store> {
  const { dataDir, metadataUrl, metadataPoolMax } =
    typeof location === 'string' ? { dataDir: location } : location;
  const store = metadataUrl
    ? await openPostgres(metadataUrl, metadataPoolMax ?? DEFAULT_POOL_MAX, options)
    : openSqlite(dataDir);

  const { error, results } = await new Migrator({
    db: store,
    provider: migrationProvider,
  }).migrateToLatest();
  if (error) {
    await store.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Metadata store migration ${failed} failed: ${reason}`, { cause: error });
  }
  return store;
}
