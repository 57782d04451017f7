import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore, type Store } from '../store/store.js';
import type { WarehouseDriver } from '../warehouses/driver.js';
import type { ConnectionInput } from './connection-settings.js';
import { ConnectionRegistry } from './connection-registry.js';
import { ConnectionStore } from './connection-store.js';
import { SecretBox } from './secret-box.js';

const ACCOUNT = 'acc_registry';

const INPUT: ConnectionInput = {
  name: 'pg_main',
  provider: 'postgres',
  settings: {
    host: '127.0.0.1',
    port: 5432,
    database: 'gis',
    username: 'reader',
    sslmode: 'disable',
    readOnly: false,
    maxConnections: 2,
  },
  secrets: { password: 'secret' },
};

/** A driver that never connects: the registry only builds and closes drivers. */
function idleDriver(): WarehouseDriver {
  const notUsed = () => Promise.reject(new Error('not used'));
  return {
    provider: 'postgres',
    capabilities: { nativeMvt: false, jsonTiles: false, cancellable: true },
    query: notUsed,
    stream: notUsed,
    test: notUsed,
    close: vi.fn(async () => undefined),
  };
}

describe('ConnectionRegistry.resolve', () => {
  let dataDir: string;
  let store: Store;
  let connections: ConnectionStore;
  let registry: ConnectionRegistry;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'graticule-registry-'));
    store = await openStore(dataDir);
    await store
      .insertInto('accounts')
      .values({ id: ACCOUNT, name: 'Registry', created_at: new Date().toISOString() })
      .execute();
    connections = new ConnectionStore(store, SecretBox.fromKey(randomBytes(32)));
    registry = new ConnectionRegistry(connections, () => idleDriver());
  });

  afterEach(async () => {
    vi.useRealTimers();
    await registry.close();
    await store.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads the store at most once a second for a name', async () => {
    await connections.create(ACCOUNT, INPUT);
    const find = vi.spyOn(connections, 'find');

    const first = await registry.resolve(ACCOUNT, 'pg_main');
    const soon = await registry.resolve(ACCOUNT, 'pg_main');
    vi.advanceTimersByTime(1_001);
    const later = await registry.resolve(ACCOUNT, 'pg_main');

    expect(soon).toBe(first);
    expect(later).toBe(first);
    expect(find).toHaveBeenCalledTimes(2);
  });

  it('applies a change made elsewhere within a second', async () => {
    const record = await connections.create(ACCOUNT, INPUT);
    const before = await registry.resolve(ACCOUNT, 'pg_main');

    // As the CLI or another API node would: straight into the store, no `forget` here.
    await connections.update(record, { ...INPUT, secrets: { password: 'changed' } });
    const stale = await registry.resolve(ACCOUNT, 'pg_main');
    vi.advanceTimersByTime(1_001);
    const after = await registry.resolve(ACCOUNT, 'pg_main');

    expect(stale).toBe(before);
    expect(after).not.toBe(before);
    expect(before.driver.close).toHaveBeenCalled();
  });

  it('applies a removal made elsewhere within a second, and one made here at once', async () => {
    const record = await connections.create(ACCOUNT, INPUT);
    await registry.resolve(ACCOUNT, 'pg_main');

    await connections.remove(record.id);
    vi.advanceTimersByTime(1_001);
    await expect(registry.resolve(ACCOUNT, 'pg_main')).rejects.toMatchObject({ status: 404 });

    const again = await connections.create(ACCOUNT, INPUT);
    await registry.resolve(ACCOUNT, 'pg_main');
    await connections.remove(again.id);
    registry.forget(again.id);
    await expect(registry.resolve(ACCOUNT, 'pg_main')).rejects.toMatchObject({ status: 404 });
  });
});
