import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { migrationProvider } from './migrations.js';
import type { StoreSchema } from './schema.js';

export type Store = Kysely<StoreSchema>;

/**
 * Opens the metadata store (a SQLite file in the data directory) and brings its schema up to
 * date. SQLite runs in WAL mode so readers never wait for the single writer.
 */
export async function openStore(dataDir: string): Promise<Store> {
  mkdirSync(dataDir, { recursive: true });
  const database = new Database(path.join(dataDir, 'metadata.sqlite'));
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
