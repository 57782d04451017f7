import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeEachStore,
  newStoreLocation,
  openTestStore,
  type TestStore,
} from '../../test/support/metadata-store.js';
import { describeWithPostgres, runAsSuperuser } from '../../test/support/postgres.js';
import { ensureBootstrap } from '../accounts/bootstrap.js';
import { recordAuditEvent, listAuditEvents } from '../audit/audit-log.js';
import { loadSigningKeys, rotateSigningKey } from '../auth/signing-keys.js';
import { ConnectionStore, DuplicateConnectionName } from '../connections/connection-store.js';
import { SecretBox } from '../connections/secret-box.js';
import { DuplicateEmail, UserStore } from '../users/user-store.js';
import { maskMetadataUrl } from './metadata-url.js';
import { UnstorableTextError } from './nul-guard-plugin.js';
import { openStore, type Store } from './store.js';

const SNAPSHOT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'sqlite-schema.snapshot.sql',
);
const MIGRATIONS = [
  '0001_initial',
  '0002_connection_credentials',
  '0003_sql_jobs',
  '0004_public_maps',
  '0005_identity',
  '0006_invitations',
  '0007_operator_account',
];

/** `sqlite_master` of a store file, in the form of the committed snapshot. */
function sqliteSchemaOf(file: string): string {
  const database = new Database(file, { readonly: true });
  try {
    const rows = database
      .prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name')
      .all() as { type: string; name: string; tbl_name: string; sql: string | null }[];
    return rows
      .map((row) => `-- ${row.type} ${row.name} on ${row.tbl_name}\n${row.sql ?? '(automatic)'};\n`)
      .join('\n');
  } finally {
    database.close();
  }
}

const opened: TestStore[] = [];
const extraStores: Store[] = [];

afterEach(async () => {
  for (const store of extraStores.splice(0)) await store.destroy();
  for (const store of opened.splice(0)) await store.close();
});

async function track(store: Promise<TestStore>): Promise<TestStore> {
  opened.push(await store);
  return opened.at(-1)!;
}

async function insertAccount(store: Store, id: string): Promise<void> {
  await store
    .insertInto('accounts')
    .values({ id, name: id, created_at: new Date().toISOString() })
    .execute();
}

describe('the SQLite metadata store', () => {
  it('makes exactly the schema released migrations made', async () => {
    const { store, location } = await track(openTestStore('sqlite', null));
    const names = await store
      .selectFrom('kysely_migration' as never)
      .select('name' as never)
      .execute();

    expect(sqliteSchemaOf(path.join(location.dataDir, 'metadata.sqlite'))).toBe(
      readFileSync(SNAPSHOT, 'utf8'),
    );
    expect(names.map((row) => (row as { name: string }).name)).toEqual(MIGRATIONS);
  });
});

describeWithPostgres('the PostgreSQL metadata store', (info) => {
  it('migrates a fresh database, with bigint keys and epoch seconds', async () => {
    const { databaseName } = await track(openTestStore('postgres', info));

    const columns = await runAsSuperuser<{ column: string; type: string; identity: string }>(
      { ...info, database: databaseName! },
      `SELECT table_name || '.' || column_name AS column, data_type AS type,
              is_identity AS identity
         FROM information_schema.columns
        WHERE (table_name, column_name) IN (('sql_jobs', 'seq'), ('audit_events', 'seq'),
              ('oauth_records', 'expires_at'), ('oauth_records', 'consumed_at'),
              ('users', 'failed_logins'))
        ORDER BY 1`,
    );
    expect(columns).toEqual([
      { column: 'audit_events.seq', type: 'bigint', identity: 'YES' },
      { column: 'oauth_records.consumed_at', type: 'bigint', identity: 'NO' },
      { column: 'oauth_records.expires_at', type: 'bigint', identity: 'NO' },
      { column: 'sql_jobs.seq', type: 'bigint', identity: 'YES' },
      { column: 'users.failed_logins', type: 'integer', identity: 'NO' },
    ]);
    const migrations = await runAsSuperuser<{ name: string }>(
      { ...info, database: databaseName! },
      'SELECT name FROM kysely_migration ORDER BY name',
    );
    expect(migrations.map((row) => row.name)).toEqual(MIGRATIONS);
  });

  it('is opened by several processes at once on an empty database', async () => {
    const { location, remove } = await newStoreLocation('postgres', info);
    try {
      const stores = await Promise.all([openStore(location), openStore(location)]);
      extraStores.push(...stores);
      await insertAccount(stores[0]!, 'ac_one');

      const seen = await stores[1]!.selectFrom('accounts').select('id').execute();
      expect(seen).toEqual([{ id: 'ac_one' }]);
      const migrations = await stores[1]!
        .selectFrom('kysely_migration' as never)
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow();
      expect(migrations).toEqual({ count: MIGRATIONS.length });
    } finally {
      for (const store of extraStores.splice(0)) await store.destroy();
      await remove();
    }
  });

  it('reads bigint columns and counts as numbers, leaving pg’s own parsers alone', async () => {
    const { store } = await track(openTestStore('postgres', info));
    await insertAccount(store, 'ac_one');
    for (const event of ['login.failed', 'login.succeeded'] as const) {
      await recordAuditEvent(store, { accountId: 'ac_one', event, actor: 'anonymous' });
    }

    const events = await listAuditEvents(store, 'ac_one', { limit: 10 });
    const { count } = await store
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();

    expect(events.map((event) => event.seq)).toEqual([2, 1]);
    expect(count).toBe(2);
    expect(pg.types.getTypeParser(20, 'text')('2')).toBe('2');
  });

  it('refuses text with U+0000, which PostgreSQL cannot keep, as bad input', async () => {
    const { store } = await track(openTestStore('postgres', info));

    const failure = await insertAccount(store, 'ac_\u0000').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(UnstorableTextError);
    expect(failure).toMatchObject({ statusCode: 400 });
    expect(await store.selectFrom('accounts').selectAll().execute()).toEqual([]);
  });

  it('names an unreachable database without its password', async () => {
    const url = `postgres://graticule:Sup3rSecret@127.0.0.1:1/metadata?sslmode=disable`;
    const failure = await openStore({ dataDir: '/nonexistent', metadataUrl: url }).catch(
      (error: Error) => error,
    );

    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain('postgres://graticule:***@127.0.0.1:1/metadata');
    expect((failure as Error).message).not.toContain('Sup3rSecret');
  });

  it('makes one bootstrap account and one first signing key when nodes start at once', async () => {
    const { location } = await track(openTestStore('postgres', info));
    const nodes = await Promise.all([1, 2, 3].map(() => openStore(location)));
    extraStores.push(...nodes);

    const keys = await Promise.all(nodes.map((store) => loadSigningKeys(store)));
    const bootstraps = await Promise.all(
      nodes.map((store) => ensureBootstrap(store, { clientId: '', clientSecret: '' })),
    );

    expect(new Set(keys.map((key) => key.current.kid)).size).toBe(1);
    expect(new Set(bootstraps.map((result) => result.clientId)).size).toBe(1);
    expect(bootstraps.filter((result) => result.generatedSecret !== undefined)).toHaveLength(1);
    expect(bootstraps.filter((result) => result.created)).toHaveLength(1);
    const accounts = await nodes[0]!.selectFrom('accounts').select('id').execute();
    expect(accounts).toHaveLength(1);
  });
});

describeEachStore('the metadata store', (open) => {
  it('reports a taken connection name and a taken e-mail as such', async () => {
    const { store } = await track(open());
    await insertAccount(store, 'ac_one');
    const connections = new ConnectionStore(store, SecretBox.fromKey(randomBytes(32)));
    const input = {
      name: 'pg_main',
      provider: 'postgres' as const,
      settings: {
        host: '127.0.0.1',
        port: 5432,
        database: 'gis',
        username: 'reader',
        sslmode: 'disable' as const,
        readOnly: false,
        maxConnections: 2,
      },
      secrets: { password: 'secret' },
    };
    await connections.create('ac_one', input);
    const users = new UserStore(store);
    const user = { accountId: 'ac_one', name: 'A', role: 'viewer' as const, passwordHash: null };
    await users.create({ ...user, email: 'a@example.com' });

    await expect(connections.create('ac_one', input)).rejects.toBeInstanceOf(
      DuplicateConnectionName,
    );
    await expect(users.create({ ...user, email: 'a@example.com' })).rejects.toBeInstanceOf(
      DuplicateEmail,
    );
  });

  it('always has exactly one active signing key across rotations', async () => {
    const { store } = await track(open());
    const first = await loadSigningKeys(store);

    const rotated = await rotateSigningKey(store, 3600);
    const active = await store
      .selectFrom('signing_keys')
      .select('kid')
      .where('retired_at', 'is', null)
      .execute();

    expect(rotated.retired).toEqual([first.current.kid]);
    expect(active).toEqual([{ kid: rotated.kid }]);
    expect((await loadSigningKeys(store)).current.kid).toBe(rotated.kid);
  });
});

describe('maskMetadataUrl', () => {
  it('hides passwords in the user part and in query parameters', () => {
    expect(maskMetadataUrl('postgres://u:p%40ss@db:5432/meta?sslmode=require')).toBe(
      'postgres://u:***@db:5432/meta?sslmode=require',
    );
    expect(maskMetadataUrl('postgresql://u@db/meta?password=secret')).toBe(
      'postgresql://u@db/meta?password=***',
    );
    expect(maskMetadataUrl('not a url')).toBe('(unreadable URL)');
  });
});
