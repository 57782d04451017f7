import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { migrationProvider } from './migrations.js';
import type { StoreSchema } from './schema.js';

export type Store = Kysely<StoreSchema>;

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

/**
 * Opens the metadata store (a SQLite file in the data directory) and brings its schema up to
 * date. SQLite runs in WAL mode so readers never wait for the single writer.
 */
export async function openStore(dataDir: string): Promise<Store> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'metadata.sqlite');
  keepPrivate(file);
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const store = new Kysely<StoreSchema>({ dialect: new SqliteDialect({ database }) });

  const { error, results } = await new Migrator({
    db: store,
    provider: migrationProvider,
  }).migrateToLatest();
  if (error) {
    await store.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Metadata store migration ${failed} failed`, { cause: error });
  }
  return store;
}
