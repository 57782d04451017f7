/**
 * Runs store-level suites on both metadata store dialects: a SQLite file in a temporary data
 * directory, and a fresh PostgreSQL database in the test cluster for every store opened.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import type { StoreDialect } from '../../src/store/store-dialect.js';
import { openStore, type Store, type StoreLocation } from '../../src/store/store.js';
import { createScratchDatabase, describeWithPostgres, type PostgresInfo } from './postgres.js';

/** An opened test store; `close()` destroys it and removes its file or database. */
export interface TestStore {
  dialect: StoreDialect;
  store: Store;
  location: StoreLocation;
  /** The PostgreSQL database's name; null on SQLite. */
  databaseName: string | null;
  close(): Promise<void>;
}

/** Where a store of `dialect` may be opened; `remove()` deletes what it made. */
export async function newStoreLocation(
  dialect: StoreDialect,
  postgres: PostgresInfo | null,
): Promise<{ location: StoreLocation; databaseName: string | null; remove(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-store-'));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (dialect === 'sqlite') {
    return { location: { dataDir }, databaseName: null, remove: async () => removeDir() };
  }

  const database = await createScratchDatabase(postgres!, 'metadata');
  return {
    location: { dataDir, metadataUrl: database.url, metadataPoolMax: 10 },
    databaseName: database.name,
    remove: async () => {
      await database.drop();
      removeDir();
    },
  };
}

/** Opens a store of `dialect` in a place of its own. */
export async function openTestStore(
  dialect: StoreDialect,
  postgres: PostgresInfo | null,
): Promise<TestStore> {
  const { location, databaseName, remove } = await newStoreLocation(dialect, postgres);
  const store = await openStore(location);
  return {
    dialect,
    store,
    location,
    databaseName,
    close: async () => {
      await store.destroy();
      await remove();
    },
  };
}

/**
 * Registers `suite` once per dialect, named after it; the PostgreSQL run is reported as
 * skipped without PostgreSQL. `open` opens a fresh store of that dialect.
 */
export function describeEachStore(
  name: string,
  suite: (open: () => Promise<TestStore>, dialect: StoreDialect) => void,
): void {
  describe(`${name} (SQLite)`, () => suite(() => openTestStore('sqlite', null), 'sqlite'));
  describeWithPostgres(`${name} (PostgreSQL)`, (info) =>
    suite(() => openTestStore('postgres', info), 'postgres'),
  );
}
